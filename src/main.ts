import { ConfigError, loadConfig, type Config } from './config/config';
import { describeDatabaseUrl } from './db/connect';
import { createLogger } from './logger';
import { startServer } from './server';

/**
 * What went wrong at start, as one line that names the setting to fix (no stack: these are the
 * operator's to fix, not bugs); null for anything else, which is a bug and keeps its stack.
 */
function startupFailure(err: unknown, config: Config): string | null {
  const e = err as NodeJS.ErrnoException & { syscall?: string };
  if (e.syscall === 'listen' && e.code === 'EADDRINUSE') return `port ${config.port} on ${config.host} is already in use: set PORT (or HOST) to a free one`;
  if (e.syscall === 'listen' && (e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL'))
    return `cannot listen on ${config.host}:${config.port} (${e.code}): set PORT and HOST to an address this machine may use`;
  const db = describeDatabaseUrl(config.databaseUrl);
  if (e.code === 'SQLITE_CANTOPEN' || e.code === 'SQLITE_READONLY' || e.code === 'ENOENT' || e.code === 'EACCES')
    return `the SQLite database ${db} cannot be opened (${e.code}): check DATABASE_URL and that its folder exists and is writable`;
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', '28P01', '28000', '3D000'].includes(e.code ?? ''))
    return `the database ${db} cannot be reached (${e.code}: ${(e.message || '').slice(0, 200)}): check DATABASE_URL`;
  return null;
}

/** `npm start` / `dlr serve`: load config (fail fast), migrate, serve, drain on SIGTERM. */
export async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dlr-receiver: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  for (const warning of config.warnings) logger.warn(warning);
  let running;
  try {
    running = await startServer(config, logger);
  } catch (err) {
    const line = startupFailure(err, config);
    if (line === null) throw err;
    logger.flush();
    process.stderr.write(`dlr-receiver: ${line}\n`);
    process.exit(1);
  }

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running
      .close()
      .then(() => {
        logger.info('stopped');
        logger.flush();
        setTimeout(() => process.exit(0), 50).unref();
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`dlr-receiver failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

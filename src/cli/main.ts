import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config';
import { openDatabase } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { createLogger } from '../logger';
import { main as serve } from '../main';
import { createMetrics } from '../ops/metrics';
import { createWorker } from '../outbox/worker';
import { SHUTDOWN_GRACE_MS } from '../server';

/** `npx dlr <command>`: works against the same DATABASE_URL and DLR_CONFIG as the server. */
export function buildCli(): Command {
  const program = new Command('dlr').description('dlr-receiver: delivery reports in, one status stream out').showHelpAfterError();

  program
    .command('serve')
    .description('migrate the database and serve HTTP (what `npm start` runs)')
    .action(() => serve());

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const config = loadConfig();
      const dbh = openDatabase(config.databaseUrl);
      try {
        const applied = await migrateToLatest(dbh);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await dbh.close();
      }
    });

  program
    .command('worker')
    .description('run an outbox worker alone, without HTTP (pair with DLR_WORKER=off on the servers)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const dbh = openDatabase(config.databaseUrl);
      await migrateToLatest(dbh);
      const worker = createWorker({ config, dbh, logger, metrics: createMetrics(dbh) });
      worker.start();
      const stop = () => {
        void worker
          .stop(SHUTDOWN_GRACE_MS)
          .then(() => dbh.close())
          .then(() => {
            logger.info('worker stopped');
            logger.flush();
            setTimeout(() => process.exit(0), 50).unref();
          });
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });

  return program;
}

export function run(argv: string[]): void {
  buildCli()
    .parseAsync(argv)
    .catch((err: unknown) => {
      process.stderr.write(`dlr: ${err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err))}\n`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    });
}

import os from 'node:os';
import { loadConfig } from '../config/config';
import type { AppContext } from '../context';
import { openDatabase } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { createLogger } from '../logger';
import { createMetrics } from '../ops/metrics';

/** Who the audit log names for CLI actions. */
export function cliActor(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry in some containers */
  }
  return `cli:${user}`;
}

export interface ContextOptions {
  /**
   * 'optional' for a command that verifies no callback (every one but replay and import): it runs
   * without the provider secrets of the config in the environment (loadConfig's allowUnresolvedSecrets).
   */
  secrets?: 'required' | 'optional';
}

/**
 * Runs a CLI command against the server's DATABASE_URL and DLR_CONFIG. Logs go to stderr (warn and
 * above unless LOG_LEVEL says otherwise) so stdout carries only the command's output.
 */
export async function withContext<T>(fn: (ctx: AppContext) => Promise<T>, options: ContextOptions = {}): Promise<T> {
  const config = loadConfig(process.env, { allowUnresolvedSecrets: options.secrets === 'optional' });
  const logger = createLogger(process.env.LOG_LEVEL || 'warn', process.stderr);
  const dbh = openDatabase(config.databaseUrl, { poolSize: config.databasePoolSize });
  try {
    await migrateToLatest(dbh);
    return await fn({ config, dbh, logger, metrics: createMetrics(dbh) });
  } finally {
    await dbh.close();
  }
}

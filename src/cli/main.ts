import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config';
import { openDatabase } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { main as serve } from '../main';

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

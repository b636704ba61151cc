import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config';
import { openDatabase } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { AppError, Conflict } from '../errors';
import type { AppContext } from '../context';
import { createLogger } from '../logger';
import { createMetrics } from '../ops/metrics';
import { startStaleSweep } from '../outbox/stale-sweep';
import { createWorker } from '../outbox/worker';
import { ROOT } from '../paths';
import { deliveriesCommand } from './commands/deliveries';
import { messagesCommand } from './commands/messages';
import { rawCommand } from './commands/raw';
import { replayCommand } from './commands/replay';
import { reportCommand } from './commands/report';
import { subscriptionsCommand } from './commands/subscriptions';
import { err, EXIT, out, printJson, UsageError } from './io';

/** The package version (`dlr --version`). */
function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const EXIT_CODES = 'Exit codes: 0 done, 1 failed, 2 bad usage or config, 3 not found.';

const HELP_FOOTER = `
Environment:
  DATABASE_URL        the database: sqlite:PATH or postgres://… (default sqlite:./data/dlr.sqlite)
  DLR_CONFIG          the config file (default ./dlr.config.json when present)
  LOG_LEVEL           log lines on stderr: fatal … trace, silent (default warn; info for serve and worker)
  DATABASE_POOL_SIZE  PostgreSQL connections of this process
  PORT, HOST, DLR_WORKER, DLR_ADMIN_TOKEN   for serve (docs/configuration.md)
  and the variables the config names as "env:NAME": only serve, worker, replay and raw import
  (which verify callbacks) need the provider secrets; the other commands run without them.

Output: tables for people; --json on every command for scripts (one JSON document, NDJSON where
a command streams). Commands that write take --dry-run.

${EXIT_CODES}`;

/** `npx dlr <command>`: works against the same DATABASE_URL and DLR_CONFIG as the server. */
export function buildCli(): Command {
  const program = new Command('dlr')
    .description('dlr-receiver: delivery reports in, one status stream out')
    .version(version(), '-v, --version', 'the version of dlr-receiver')
    .showHelpAfterError()
    .addHelpText('after', HELP_FOOTER)
    .addHelpText('afterAll', (ctx) => (ctx.command.parent === null ? '' : `\n${EXIT_CODES} Environment: dlr --help.`))
    // usage errors exit 2 (commander's default is 1, which is kept for failures)
    .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : EXIT.usage));

  program
    .command('serve')
    .description('migrate the database and serve HTTP (what `npm start` runs)')
    // the HTTP stack (express and the routes) is loaded only by the commands that serve
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: a static import would load it for every command
    .action(() => (require('../main') as typeof import('../main')).main());

  program
    .command('config')
    .description('the configuration')
    .command('check [file]')
    .description('validate a config file (default: DLR_CONFIG or ./dlr.config.json) and its env: references; exit 0 when valid, 2 with every error listed')
    .option('--json', 'the result as JSON: { valid, source, providers, accounts, tokens, warnings } or { valid: false, errors }')
    .action((file: string | undefined, o: { json?: boolean }) => {
      const env = file === undefined ? process.env : { ...process.env, DLR_CONFIG: file };
      try {
        const config = loadConfig(env);
        const accounts = Object.values(config.providers).reduce((n, p) => n + Object.keys(p.accounts).length, 0);
        const providers = Object.keys(config.providers).length;
        if (o.json) return printJson({ valid: true, source: config.source, providers, accounts, tokens: config.tokens.length, warnings: config.warnings });
        out(`${config.source ?? 'no config file'}: valid (${providers} providers, ${accounts} accounts, ${config.tokens.length} API tokens)`);
        for (const warning of config.warnings) out(`warning: ${warning}`);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        // one line per error (the schema's are joined by "; " in one message)
        const [head, ...rest] = e.message.split('; ');
        if (o.json) printJson({ valid: false, errors: [head, ...rest] });
        else {
          err(head);
          for (const line of rest) err(`  ${line}`);
        }
        process.exitCode = EXIT.usage;
      }
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .option('--json', 'the migrations applied as JSON: { applied: [...] }')
    .action(async (o: { json?: boolean }) => {
      const config = loadConfig(process.env, { allowUnresolvedSecrets: true }); // migrating verifies nothing
      const dbh = openDatabase(config.databaseUrl, { poolSize: config.databasePoolSize });
      try {
        const applied = await migrateToLatest(dbh);
        if (o.json) printJson({ applied });
        else out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
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
      const dbh = openDatabase(config.databaseUrl, { poolSize: config.databasePoolSize });
      await migrateToLatest(dbh);
      const ctx: AppContext = { config, dbh, logger, metrics: createMetrics(dbh) };
      const worker = createWorker(ctx);
      ctx.wakeWorker = () => worker.poke();
      const stopSweep = startStaleSweep(ctx); // a worker alone also finds the stale messages
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, as for serve: only this command needs the server module
      const { SHUTDOWN_GRACE_MS } = require('../server') as typeof import('../server');
      worker.start();
      const stop = () => {
        void Promise.all([worker.stop(SHUTDOWN_GRACE_MS), stopSweep()])
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

  rawCommand(program);
  replayCommand(program);
  reportCommand(program);
  messagesCommand(program);
  subscriptionsCommand(program);
  deliveriesCommand(program);

  return program;
}

/** The exit code of an error the service's code threw (src/errors.ts): a bad input is bad usage. */
function exitCodeOf(e: AppError): number {
  if (e.status === 404) return EXIT.notFound;
  if (e.status === 400 || e instanceof Conflict) return EXIT.usage;
  return EXIT.failed;
}

export function run(argv: string[]): void {
  buildCli()
    .parseAsync(argv)
    .catch((e: unknown) => {
      if (e instanceof UsageError) {
        err(e.message.startsWith('dlr') ? e.message : `dlr: ${e.message}`);
        process.exit(EXIT.usage);
      }
      if (e instanceof ConfigError) {
        err(`dlr: ${e.message}`);
        process.exit(EXIT.usage);
      }
      if (e instanceof AppError) {
        err(`dlr: ${e.status === 404 ? 'not found: ' : ''}${e.message}`);
        process.exit(exitCodeOf(e));
      }
      err(`dlr: ${(e as Error).stack ?? String(e)}`);
      process.exit(EXIT.failed);
    });
}

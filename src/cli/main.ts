import fs from 'node:fs';
import readline from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, DEFAULTS, loadConfig } from '../config/config';
import { openDatabase } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { AppError, BadRequest, VERDICTS } from '../errors';
import type { AppContext } from '../context';
import { createLogger } from '../logger';
import { createMetrics } from '../ops/metrics';
import { startStaleSweep } from '../outbox/stale-sweep';
import { createWorker } from '../outbox/worker';
import { getRaw, listRaw } from '../raw/queries';
import { type RawFilter } from '../raw/filter';
import { replayMany, replayOne } from '../replay/replay';
import { purgeRaw } from '../replay/retention';
import { exportRaw, importRaw } from '../replay/transfer';
import { accountZones, dailyCsv, dailyReport, DIMENSIONS, MAX_REPORT_DAYS, parseBy, parseDay, parseZone, reportDays, type Dimension } from '../status/daily';
import { cliActor, withContext } from './context';

/** Exit codes: 0 done, 1 failed, 2 bad usage or config, 3 not found. */
const EXIT = { failed: 1, usage: 2, notFound: 3 } as const;
const PROGRESS_EVERY = 100;

function isoTime(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2026-11-24T00:00:00Z');
  return new Date(ms).toISOString();
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** An option's parser from one that refuses with BadRequest: the refusal as commander's usage error (exit 2). */
function asOption<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (e) {
      if (e instanceof BadRequest) throw new InvalidArgumentError(e.message);
      throw e;
    }
  };
}

interface ReportOptions {
  since: string;
  until: string;
  by: Dimension[];
  tz?: string;
  provider?: string;
  account?: string;
  channel?: string;
  format: 'csv' | 'json';
}

function withFilterOptions(cmd: Command): Command {
  return cmd
    .option('--provider <name>', 'only this provider')
    .option('--account <name>', 'only this account')
    .addOption(new Option('--verdict <verdict>', 'only requests with this verdict').choices(VERDICTS))
    .option('--since <time>', 'received at or after (ISO-8601)', isoTime)
    .option('--until <time>', 'received before (ISO-8601)', isoTime)
    .option('--q <text>', 'a message id or recipient the request reported (masked forms like 138******00 match)');
}

/** The filter withFilterOptions' options give (the command's other options left out). */
function filterOf(o: RawFilter): RawFilter {
  return { provider: o.provider, account: o.account, verdict: o.verdict, since: o.since, until: o.until, q: o.q };
}

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

async function* fileLines(path: string): AsyncGenerator<string> {
  const input = path === '-' ? process.stdin : fs.createReadStream(path);
  yield* readline.createInterface({ input, crlfDelay: Infinity });
}

/** `npx dlr <command>`: works against the same DATABASE_URL and DLR_CONFIG as the server. */
export function buildCli(): Command {
  const program = new Command('dlr')
    .description('dlr-receiver: delivery reports in, one status stream out')
    .showHelpAfterError()
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 2 bad usage or config, 3 not found.')
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
    .action((file: string | undefined) => {
      const env = file === undefined ? process.env : { ...process.env, DLR_CONFIG: file };
      try {
        const config = loadConfig(env);
        const accounts = Object.values(config.providers).reduce((n, p) => n + Object.keys(p.accounts).length, 0);
        out(
          `${config.source ?? 'no config file'}: valid (${Object.keys(config.providers).length} providers, ${accounts} accounts, ${config.tokens.length} API tokens)`,
        );
        for (const warning of config.warnings) out(`warning: ${warning}`);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        // one line per error (the schema's are joined by "; " in one message)
        const [head, ...rest] = e.message.split('; ');
        err(head);
        for (const line of rest) err(`  ${line}`);
        process.exitCode = EXIT.usage;
      }
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const config = loadConfig();
      const dbh = openDatabase(config.databaseUrl, { poolSize: config.databasePoolSize });
      try {
        const applied = await migrateToLatest(dbh);
        out(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
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

  const raw = program.command('raw').description('the raw log: every request the providers sent');

  withFilterOptions(raw.command('list').description('list raw requests, newest first'))
    .option('--limit <n>', 'how many', positive, 20)
    .option('--json', 'one JSON object per line')
    .action(async (o: RawFilter & { limit: number; json?: boolean }) => {
      await withContext(async (ctx) => {
        const page = await listRaw(ctx.dbh.db, { ...filterOf(o), limit: o.limit });
        for (const r of page.items) {
          if (o.json) out(JSON.stringify(r));
          else out(`${r.id}  ${r.received_at}  ${r.provider}/${r.account}  ${r.verdict}${r.detail ? `  (${r.detail})` : ''}  ${r.body_size} B`);
        }
        if (!o.json && page.items.length === 0) err('no raw requests match');
      });
    });

  raw
    .command('show <id>')
    .description('one raw request: headers, body and the events it produced')
    .option('--json', 'as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const r = await getRaw(ctx.dbh.db, id);
        if (o.json) {
          out(JSON.stringify(r, null, 2));
          return;
        }
        out(`${r.id}  ${r.method} ${r.url}  from ${r.remote_addr}  at ${r.received_at}`);
        out(`verdict: ${r.verdict}${r.detail ? ` — ${r.detail}` : ''}`);
        for (const [k, v] of Object.entries(r.headers)) out(`${k}: ${v}`);
        out('');
        out(r.body.encoding === 'text' ? r.body.content : `(base64) ${r.body.content}`);
        out('');
        out(`events: ${r.events.length}`);
        for (const e of r.events) out(`  ${JSON.stringify(e)}`);
      });
    });

  withFilterOptions(raw.command('export').description('write raw requests as NDJSON to stdout, oldest first'))
    .option(
      '--include-credentials',
      'keep ?token=, Authorization, Cookie and the like in clear (the file then holds secrets); by default they are redacted, those lines are marked "redacted": true, and an import cannot verify them again',
    )
    .action(async (o: RawFilter & { includeCredentials?: boolean }) => {
      await withContext(async (ctx) => {
        let n = 0;
        let redacted = 0;
        for await (const line of exportRaw(ctx, filterOf(o), { includeCredentials: o.includeCredentials ?? false }, () => (redacted += 1))) {
          if (!process.stdout.write(`${line}\n`)) await new Promise((r) => process.stdout.once('drain', r));
          n += 1;
        }
        err(`exported ${n} raw requests${redacted > 0 ? ` (credentials redacted in ${redacted}; --include-credentials keeps them)` : ''}`);
      });
    });

  raw
    .command('import <file>')
    .description("import an NDJSON export (- for stdin); a request already present is skipped, the others run through today's code")
    .option(
      '--trust-received-at',
      "keep the file's received_at and check signed timestamps against it, instead of the import time: only for files this service exported (whoever writes a file chooses its received_at)",
    )
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, o: { json?: boolean; trustReceivedAt?: boolean }) => {
      await withContext(async (ctx) => {
        const summary = await importRaw(ctx, fileLines(file), cliActor(), { trustReceivedAt: o.trustReceivedAt ?? false }, (s) => {
          if (s.imported % PROGRESS_EVERY === 0) err(`imported ${s.imported}…`);
        });
        if (o.json) {
          out(JSON.stringify(summary));
          return;
        }
        out(`read ${summary.read}, imported ${summary.imported}, already present ${summary.already_present}, status changes ${summary.changes}`);
        if (summary.unverifiable.length > 0) {
          out(
            `${summary.unverifiable.length} request(s) cannot be verified again: credentials were redacted at export (export with --include-credentials to keep them): ${summary.unverifiable.join(', ')}`,
          );
        }
      });
    });

  raw
    .command('purge')
    .description('delete raw requests received before a time (message status and history stay)')
    .requiredOption('--before <time>', 'ISO-8601', isoTime)
    .action(async (o: { before: string }) => {
      await withContext(async (ctx) => {
        const r = await purgeRaw(ctx, new Date(o.before), cliActor());
        out(`purged ${r.purged} raw requests received before ${r.before}`);
      });
    });

  withFilterOptions(program.command('replay').description("run stored requests through today's verification, parsing and state rules"))
    .option('--id <id>', 'one raw request')
    .option('--dry-run', 'show what would change; write and forward nothing')
    .option('--limit <n>', 'at most this many requests', positive, 1000)
    .option('--json', 'print the results as JSON')
    .action(async (o: RawFilter & { id?: string; dryRun?: boolean; limit: number; json?: boolean }) => {
      const filter = filterOf(o);
      if (!o.id && !Object.values(filter).some((v) => v !== undefined)) {
        err('replay needs --id or at least one filter (--provider, --verdict, --since, …)');
        process.exitCode = EXIT.usage;
        return;
      }
      await withContext(async (ctx) => {
        const dryRun = o.dryRun ?? false;
        if (o.id) {
          const r = await replayOne(ctx, o.id, dryRun, cliActor());
          out(
            o.json
              ? JSON.stringify(r)
              : `${r.raw_id}: ${r.previous_verdict} → ${r.verdict}${r.detail ? ` (${r.detail})` : ''}; ${r.changes.length} status change(s)${dryRun ? ' would be made' : ''}`,
          );
          return;
        }
        const summary = await replayMany(ctx, filter, {
          dryRun,
          max: o.limit,
          actor: cliActor(),
          keepResults: o.json ?? false,
          onProgress: (done) => {
            if (done % PROGRESS_EVERY === 0) err(`replayed ${done}…`);
          },
        });
        if (o.json) {
          out(JSON.stringify(summary));
          return;
        }
        out(
          `${dryRun ? 'dry run: ' : ''}replayed ${summary.replayed}; verdicts ${JSON.stringify(summary.by_verdict)}; ${summary.changes} status change(s)${dryRun ? ' would be made' : ''}`,
        );
      });
    });

  program
    .command('report')
    .description("message counts per local day, provider, account, status and error code, from the stats rollups: to reconcile a provider's bill")
    .requiredOption(
      '--since <date>',
      'the first local day, YYYY-MM-DD',
      asOption((v) => parseDay('--since', v)),
    )
    .requiredOption(
      '--until <date>',
      `the day after the last one (exclusive), YYYY-MM-DD; at most ${MAX_REPORT_DAYS} days after --since`,
      asOption((v) => parseDay('--until', v)),
    )
    .option(
      '--by <list>',
      `a comma list of ${DIMENSIONS.join(', ')} (status with its error code)`,
      asOption((v) => parseBy('--by', v)),
      [...DIMENSIONS],
    )
    .option(
      '--tz <zone>',
      "the IANA time zone of the days (default: each account's timeZone)",
      asOption((v) => parseZone('--tz', v)),
    )
    .option('--provider <name>', 'only this provider')
    .option('--account <name>', 'only this account')
    .addOption(new Option('--channel <channel>', 'only this channel').choices(['sms', 'email']))
    .addOption(
      new Option('--format <format>', 'csv (a header row, RFC 4180) or json (the document GET /v1/reports/daily answers, one line)')
        .choices(['csv', 'json'])
        .default('csv'),
    )
    .action(async (o: ReportOptions) => {
      try {
        reportDays(o.since, o.until);
      } catch (e) {
        if (!(e instanceof BadRequest)) throw e;
        err(`dlr report: ${e.message}`);
        process.exitCode = EXIT.usage;
        return;
      }
      await withContext(async (ctx) => {
        const report = await dailyReport(ctx.dbh.db, {
          since: o.since,
          until: o.until,
          by: o.by,
          zones: o.tz !== undefined ? { zone: o.tz } : { accounts: accountZones(ctx.config.providers), fallback: DEFAULTS.timeZone },
          provider: o.provider,
          account: o.account,
          channel: o.channel,
        });
        const text = o.format === 'json' ? `${JSON.stringify(report)}\n` : dailyCsv(report);
        if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
      });
    });

  return program;
}

export function run(argv: string[]): void {
  buildCli()
    .parseAsync(argv)
    .catch((e: unknown) => {
      if (e instanceof ConfigError) {
        err(`dlr: ${e.message}`);
        process.exit(EXIT.usage);
      }
      if (e instanceof AppError) {
        err(`dlr: ${e.message}`);
        process.exit(e.status === 404 ? EXIT.notFound : EXIT.failed);
      }
      err(`dlr: ${(e as Error).stack ?? String(e)}`);
      process.exit(EXIT.failed);
    });
}

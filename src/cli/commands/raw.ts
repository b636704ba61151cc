import fs from 'node:fs';
import readline from 'node:readline';
import { Command, Option } from 'commander';
import { decodeCursor, MAX_PAGE } from '../../db/paging';
import { VERDICTS } from '../../errors';
import { getRaw, listRaw } from '../../raw/queries';
import type { RawFilter } from '../../raw/filter';
import { purgeRaw } from '../../replay/retention';
import { exportRaw, importRaw } from '../../replay/transfer';
import { cliActor, withContext } from '../context';
import { confirm, err, isoTime, out, pageSize, printJson, printNextCursor, printTable, UsageError, write } from '../io';
import { formatFields, printable } from '../table';

const PROGRESS_EVERY = 100;
const RAW_ID = /^raw_[0-9A-Z]{26}$/;

export function withFilterOptions(cmd: Command): Command {
  return cmd
    .option('--provider <name>', 'only this provider')
    .option('--account <name>', 'only this account')
    .addOption(new Option('--verdict <verdict>', 'only requests with this verdict').choices(VERDICTS))
    .option('--since <time>', 'received at or after (ISO-8601)', isoTime)
    .option('--until <time>', 'received before (ISO-8601)', isoTime)
    .option('--q <text>', 'a message id or recipient the request reported (masked forms like 138******00 match)');
}

/** The filter withFilterOptions' options give (the command's other options left out). */
export function filterOf(o: RawFilter): RawFilter {
  return { provider: o.provider, account: o.account, verdict: o.verdict, since: o.since, until: o.until, q: o.q };
}

async function* fileLines(path: string): AsyncGenerator<string> {
  const input = path === '-' ? process.stdin : fs.createReadStream(path);
  yield* readline.createInterface({ input, crlfDelay: Infinity });
}

/** What `raw import --dry-run` finds in a file: its lines checked, each id looked up, nothing stored. */
async function previewImport(file: string, has: (id: string) => Promise<boolean>) {
  const summary = { dry_run: true, read: 0, would_import: 0, already_present: 0, by_provider: {} as Record<string, number> };
  let n = 0;
  for await (const text of fileLines(file)) {
    n += 1;
    if (text.trim() === '') continue;
    let line: { id?: unknown; provider?: unknown };
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      throw new UsageError(`line ${n}: not JSON`);
    }
    if (typeof line.id !== 'string' || !RAW_ID.test(line.id)) throw new UsageError(`line ${n}: "id" is not a raw request id`);
    summary.read += 1;
    if (await has(line.id)) {
      summary.already_present += 1;
      continue;
    }
    summary.would_import += 1;
    const provider = typeof line.provider === 'string' ? line.provider : '?';
    summary.by_provider[provider] = (summary.by_provider[provider] ?? 0) + 1;
  }
  return summary;
}

export function rawCommand(program: Command): void {
  const raw = program.command('raw').description('the raw log: every request the providers sent');

  withFilterOptions(raw.command('list').description('list raw requests, newest first'))
    .option('--limit <n>', `how many (at most ${MAX_PAGE})`, pageSize(MAX_PAGE), 20)
    .option('--cursor <cursor>', 'the next page (printed under a full page)')
    .option('--json', 'one JSON object per line (NDJSON)')
    .action(async (o: RawFilter & { limit: number; cursor?: string; json?: boolean }) => {
      await withContext(
        async (ctx) => {
          const page = await listRaw(ctx.dbh.db, { ...filterOf(o), limit: o.limit, cursor: decodeCursor(o.cursor) });
          if (o.json) {
            for (const r of page.items) out(JSON.stringify(r));
            return;
          }
          printTable(
            page.items,
            [
              { header: 'ID', value: (r) => r.id },
              { header: 'RECEIVED', value: (r) => r.received_at },
              { header: 'PROVIDER', value: (r) => `${r.provider}/${r.account}` },
              { header: 'VERDICT', value: (r) => r.verdict },
              { header: 'BYTES', value: (r) => r.body_size, align: 'right' },
              { header: 'DETAIL', value: (r) => r.detail },
            ],
            'no raw requests match',
          );
          printNextCursor(page.next_cursor);
        },
        { secrets: 'optional' },
      );
    });

  raw
    .command('show <id>')
    .description('one raw request: headers, body and the events it produced')
    .option('--json', 'as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withContext(
        async (ctx) => {
          const r = await getRaw(ctx.dbh.db, id);
          if (o.json) {
            printJson(r);
            return;
          }
          out(`${r.id}  ${r.method} ${printable(r.url)}  from ${r.remote_addr}  at ${r.received_at}`);
          out(`verdict: ${r.verdict}${r.detail ? ` — ${printable(r.detail)}` : ''}`);
          for (const [k, v] of Object.entries(r.headers)) out(`${printable(k)}: ${printable(v)}`);
          out('');
          // the body as sent: newlines kept, other control characters escaped
          out(r.body.encoding === 'text' ? r.body.content.split('\n').map(printable).join('\n') : `(base64) ${r.body.content}`);
          out('');
          out(`events: ${r.events.length}`);
          for (const e of r.events) out(`  ${printable(JSON.stringify(e))}`);
        },
        { secrets: 'optional' },
      );
    });

  withFilterOptions(raw.command('export').description('write raw requests as NDJSON to stdout, oldest first (a summary line on stderr)'))
    .option(
      '--include-credentials',
      'keep ?token=, Authorization, Cookie and the like in clear (the file then holds secrets); by default they are redacted, those lines are marked "redacted": true, and an import cannot verify them again',
    )
    .option('--json', 'accepted for symmetry: the export is always NDJSON, one request per line')
    .action(async (o: RawFilter & { includeCredentials?: boolean }) => {
      await withContext(
        async (ctx) => {
          let n = 0;
          let redacted = 0;
          for await (const line of exportRaw(ctx, filterOf(o), { includeCredentials: o.includeCredentials ?? false }, () => (redacted += 1))) {
            await write(`${line}\n`);
            n += 1;
          }
          err(`exported ${n} raw requests${redacted > 0 ? ` (credentials redacted in ${redacted}; --include-credentials keeps them)` : ''}`);
        },
        { secrets: 'optional' },
      );
    });

  raw
    .command('import <file>')
    .description("import an NDJSON export (- for stdin); a request already present is skipped, the others run through today's code")
    .option(
      '--trust-received-at',
      "keep the file's received_at and check signed timestamps against it, instead of the import time: only for files this service exported (whoever writes a file chooses its received_at)",
    )
    .option('--dry-run', 'read the file and say how many requests would be imported; store nothing')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, o: { json?: boolean; trustReceivedAt?: boolean; dryRun?: boolean }) => {
      await withContext(
        async (ctx) => {
          if (o.dryRun) {
            const has = async (id: string) => (await ctx.dbh.db.selectFrom('raw_requests').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
            const preview = await previewImport(file, has);
            if (o.json) out(JSON.stringify(preview));
            else out(`dry run: read ${preview.read}, would import ${preview.would_import}, already present ${preview.already_present}; nothing was stored`);
            return;
          }
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
        },
        { secrets: o.dryRun ? 'optional' : 'required' },
      ); // a dry run verifies nothing
    });

  raw
    .command('purge')
    .description('delete raw requests received before a time (message status and history stay); shows what it would delete and asks first')
    .requiredOption('--before <time>', 'ISO-8601', isoTime)
    .option('--yes', 'do not ask (needed without a terminal)')
    .option('--dry-run', 'only show what would be deleted')
    .option('--json', 'print the result as JSON')
    .action(async (o: { before: string; yes?: boolean; dryRun?: boolean; json?: boolean }) => {
      await withContext(
        async (ctx) => {
          const range = await ctx.dbh.db
            .selectFrom('raw_requests')
            .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.min('received_at').as('oldest'), eb.fn.max('received_at').as('newest')])
            .where('received_at', '<', o.before)
            .executeTakeFirstOrThrow();
          const preview = { before: o.before, count: Number(range.n), oldest: range.oldest ?? null, newest: range.newest ?? null };
          const what =
            preview.count === 0
              ? `no raw requests were received before ${o.before}`
              : `${preview.count} raw request(s) received from ${preview.oldest} to ${preview.newest} (before ${o.before})`;
          if (o.dryRun || preview.count === 0) {
            if (o.json) out(JSON.stringify({ dry_run: o.dryRun ?? false, would_purge: preview.count, ...preview }));
            else out(o.dryRun ? `dry run: would purge ${what}; nothing was deleted` : `nothing to purge: ${what}`);
            return;
          }
          if (!o.yes) {
            if (!o.json) for (const line of formatFields([['would purge', what]])) err(line);
            if (!(await confirm(`purge ${what}?`))) {
              err('nothing was deleted');
              process.exitCode = 1;
              return;
            }
          }
          const r = await purgeRaw(ctx, new Date(o.before), cliActor());
          if (o.json) out(JSON.stringify({ dry_run: false, ...preview, purged: r.purged }));
          else out(`purged ${r.purged} raw requests received before ${r.before}`);
        },
        { secrets: 'optional' },
      );
    });
}

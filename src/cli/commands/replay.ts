import type { Command } from 'commander';
import type { RawFilter } from '../../raw/filter';
import { replayMany, replayOne, type ReplayResult } from '../../replay/replay';
import { cliActor, withContext } from '../context';
import { err, out, positive, UsageError } from '../io';
import { formatTable } from '../table';
import { filterOf, withFilterOptions } from './raw';

const PROGRESS_EVERY = 100;
/** The table lists this many requests at most (the summary counts them all; --json lists them all). */
export const REPLAY_TABLE_ROWS = 1000;

/** A replayed request as the table shows it (the events left out: a bulk replay keeps only this). */
type Row = Omit<ReplayResult, 'events'>;

function slim({ events: _events, ...row }: ReplayResult): Row {
  return row;
}

function replayTable(rows: readonly Row[]): string[] {
  return formatTable(rows, [
    { header: 'RAW ID', value: (r) => r.raw_id },
    { header: 'PROVIDER', value: (r) => `${r.provider}/${r.account}` },
    { header: 'VERDICT', value: (r) => (r.previous_verdict === r.verdict ? r.verdict : `${r.previous_verdict} → ${r.verdict}`) },
    { header: 'CHANGES', value: (r) => r.changes.length, align: 'right' },
    { header: 'STATUS', value: (r) => r.changes.map((c) => `${c.message_id}: ${c.from ?? 'none'} → ${c.to}`).join(', ') },
    { header: 'DETAIL', value: (r) => r.detail },
  ]);
}

/** The summary line (scripts and the benchmark read it: keep its form). */
function summaryLine(dryRun: boolean, replayed: number, byVerdict: Record<string, number>, changes: number): string {
  return `${dryRun ? 'dry run: ' : ''}replayed ${replayed}; verdicts ${JSON.stringify(byVerdict)}; ${changes} status change(s)${dryRun ? ' would be made' : ''}`;
}

export function replayCommand(program: Command): void {
  withFilterOptions(
    program
      .command('replay')
      .description(
        "run stored requests through today's verification, parsing and state rules: a table of the requests (old → new verdict, status changes), then a summary line",
      ),
  )
    .option('--id <id>', 'one raw request')
    .option('--dry-run', 'show what would change; write and forward nothing')
    .option('--limit <n>', 'at most this many requests', positive, 1000)
    .option('--json', 'print the results as JSON')
    .action(async (o: RawFilter & { id?: string; dryRun?: boolean; limit: number; json?: boolean }) => {
      const filter = filterOf(o);
      if (!o.id && !Object.values(filter).some((v) => v !== undefined)) {
        throw new UsageError('replay needs --id or at least one filter (--provider, --verdict, --since, …)');
      }
      await withContext(async (ctx) => {
        const dryRun = o.dryRun ?? false;
        if (o.id) {
          const r = await replayOne(ctx, o.id, dryRun, cliActor());
          if (o.json) {
            out(JSON.stringify(r));
            return;
          }
          for (const line of replayTable([slim(r)])) out(line);
          out(summaryLine(dryRun, 1, { [r.verdict]: 1 }, r.changes.length));
          return;
        }
        const rows: Row[] = [];
        const summary = await replayMany(ctx, filter, {
          dryRun,
          max: o.limit,
          actor: cliActor(),
          keepResults: o.json ?? false,
          onProgress: (done, r) => {
            if (!o.json && rows.length < REPLAY_TABLE_ROWS) rows.push(slim(r));
            if (done % PROGRESS_EVERY === 0) err(`replayed ${done}…`);
          },
        });
        if (o.json) {
          out(JSON.stringify(summary));
          return;
        }
        if (rows.length > 0) for (const line of replayTable(rows)) out(line);
        if (summary.replayed > rows.length) out(`… and ${summary.replayed - rows.length} more (--json lists them all)`);
        out(summaryLine(dryRun, summary.replayed, summary.by_verdict, summary.changes));
      });
    });
}

import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool, type Transaction } from 'kysely';
import { matching } from '../db/filters';
import { insertRows, isPostgres } from '../db/sql';
import type { Database, MessageRow } from '../db/types';
import { countryOf } from '../util/country';

/**
 * Message counts kept with the data (table `stats_rollup`, migration 0003): GET /v1/stats sums a
 * few hundred rows instead of counting millions of messages (docs/performance.md).
 *
 * A message counts once in each period, in the second, the minute and the hour of its `created_at`,
 * under its current status and error code (the seconds without its country: migration 0014). The
 * ingest transaction keeps the counts: +1 when a message is created, −1 for the old state and +1
 * for the new one when its status changes. A request's changes are summed first and written in one
 * statement, keys in one order (concurrent PostgreSQL transactions then lock shared rows in the
 * same order).
 */

type Counted = Pick<MessageRow, 'created_at' | 'provider' | 'account' | 'channel' | 'recipient' | 'status' | 'error_code'>;

export const ROLLUP_COLUMNS = ['period', 'bucket', 'provider', 'account', 'channel', 'country', 'status', 'error_code', 'n'] as const;
const upsertRollups = insertRows(
  'stats_rollup',
  ROLLUP_COLUMNS,
  ' ON CONFLICT (period, bucket, provider, account, channel, country, status, error_code) DO UPDATE SET n = stats_rollup.n + excluded.n',
);
/** PostgreSQL: appended, never updated, so concurrent ingests lock nothing in common (migration 0004). */
const insertDeltas = insertRows('stats_rollup_delta', ROLLUP_COLUMNS);

/** Characters of an ISO time that name its bucket: second `YYYY-MM-DDTHH:MM:SS`, minute `…THH:MM`, hour `…THH`. */
const BUCKET_CHARS = { s: 19, m: 16, h: 13 } as const;
type Period = keyof typeof BUCKET_CHARS;

/** The changes one request makes to the counts, written by flush() in its transaction. */
export class RollupDeltas {
  private readonly deltas = new Map<string, { key: string[]; n: number }>();

  /** A message now counts (+1) in this state, or no longer does (−1). */
  add(m: Counted, sign: 1 | -1): void {
    const country = countryOf(m.recipient);
    for (const period of ['m', 'h'] as const)
      this.count([period, m.created_at.slice(0, BUCKET_CHARS[period]), m.provider, m.account, m.channel, country, m.status ?? '', m.error_code ?? ''], sign);
    // seconds serve only the edges of a GET /v1/stats window, which has no country: one row for all (fewer rows)
    this.count(['s', m.created_at.slice(0, BUCKET_CHARS.s), m.provider, m.account, m.channel, '', m.status ?? '', m.error_code ?? ''], sign);
  }

  private count(key: string[], sign: 1 | -1): void {
    const id = key.join('\u0000');
    const entry = this.deltas.get(id);
    if (entry) entry.n += sign;
    else this.deltas.set(id, { key, n: sign });
  }

  /** The rows flush() would write (keys in one order, no zero counts), taken: a caller that writes them itself (src/status/store.ts, PostgreSQL). */
  take() {
    const rows = [...this.deltas.entries()]
      .filter(([, e]) => e.n !== 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, e]) => {
        const [period, bucket, provider, account, channel, country, status, error_code] = e.key as [
          string,
          string,
          string,
          string,
          string,
          string,
          string,
          string,
        ];
        return { period, bucket, provider, account, channel, country, status, error_code, n: e.n };
      });
    this.deltas.clear();
    return rows;
  }

  async flush(trx: Transaction<Database>): Promise<void> {
    if (this.deltas.size === 0) return;
    const rows = this.take();
    if (rows.length === 0) return;
    // SQLite has one writer: the rollup rows themselves. PostgreSQL: delta rows, folded later.
    if (isPostgres(trx)) await insertDeltas.run(trx, rows);
    else await upsertRollups.run(trx, rows);
  }
}

/**
 * Upper bounds, in seconds, of the latency buckets a status report is counted in (receive time minus
 * the provider's occurred_at): from a second to a day, as the dlr_report_latency_seconds histogram.
 */
export const LATENCY_BOUNDS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400] as const;

export const SERIES_COLUMNS = ['period', 'series', 'bucket', 'provider', 'account', 'channel', 'country', 'key', 'n'] as const;
const upsertSeries = insertRows(
  'series_rollup',
  SERIES_COLUMNS,
  ' ON CONFLICT (period, series, bucket, provider, account, channel, country, key) DO UPDATE SET n = series_rollup.n + excluded.n',
);
const insertSeriesDeltas = insertRows('series_rollup_delta', SERIES_COLUMNS);

/** The bucket (its upper bound as text) a report that came `seconds` late is counted in. */
export function latencyKey(seconds: number): string {
  const bound = LATENCY_BOUNDS.find((b) => seconds <= b);
  return bound === undefined ? '+Inf' : String(bound);
}

/**
 * Callbacks by verdict and reports by lateness (table `series_rollup`, migration 0007), counted by
 * the ingest transaction beside the raw request: one statement per request for all of them.
 */
export class SeriesDeltas {
  private readonly deltas = new Map<string, { key: string[]; n: number }>();

  private count(at: Date, series: string, provider: string, account: string, channel: string, country: string, key: string): void {
    const time = at.toISOString();
    for (const period of ['m', 'h'] as const) {
      const k = [period, series, time.slice(0, BUCKET_CHARS[period]), provider, account, channel, country, key];
      const id = k.join('\u0000');
      const entry = this.deltas.get(id);
      if (entry) entry.n += 1;
      else this.deltas.set(id, { key: k, n: 1 });
    }
  }

  /** A callback received at `at`, stored with this verdict. */
  callback(at: Date, provider: string, account: string, verdict: string): void {
    this.count(at, 'callback', provider, account, '', '', verdict);
  }

  /** A status report received at `at`, `seconds` after the provider says it happened (negative: 0). */
  latency(at: Date, provider: string, account: string, channel: string, recipient: string, seconds: number): void {
    this.count(at, 'latency', provider, account, channel, countryOf(recipient), latencyKey(Math.max(0, seconds)));
  }

  /** The counts so far, as rows (in key order), and none left to flush. */
  take() {
    const rows = [...this.deltas.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, e]) => {
        const [period, series, bucket, provider, account, channel, country, key] = e.key as [string, string, string, string, string, string, string, string];
        return { period, series, bucket, provider, account, channel, country, key, n: e.n };
      });
    this.deltas.clear();
    return rows;
  }

  async flush(trx: Kysely<Database> | Transaction<Database>): Promise<void> {
    if (this.deltas.size === 0) return;
    const rows = this.take();
    if (isPostgres(trx)) await insertSeriesDeltas.run(trx, rows);
    else await upsertSeries.run(trx, rows);
  }
}

export interface CountFilter {
  provider?: string;
  account?: string;
  channel?: string;
  /** created_at ≥ since (ISO) */
  since?: string;
  /** created_at < until (ISO) */
  until?: string;
}

/** Messages by provider, current status and error code ('' for none). */
export interface CountRow {
  provider: string;
  status: string;
  error_code: string;
  n: number;
}

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;
const isoOf = (t: number) => new Date(t).toISOString();

/**
 * The messages of a provider, account and channel first seen in [since, until) (each optional), as
 * a condition for a query of `db`: read through the time range's index. SQLite keeps no statistics
 * here and prefers an index on an equality (all of a provider's messages) to one on a range (a
 * second of them); a unary + keeps the equalities' indexes out of its choice
 * (sqlite.org/optoverview.html, "Disqualifying WHERE clause terms"). PostgreSQL weighs them by its
 * statistics (and has no unary + on text).
 */
export function firstSeenIn(db: Kysely<Database>, f: CountFilter): (eb: ExpressionBuilder<Database, 'messages'>) => Expression<SqlBool> {
  const byTime = !isPostgres(db);
  return (eb) => {
    const equal = (column: 'provider' | 'account' | 'channel', value: string | undefined) =>
      value === undefined || value === '' ? [] : [eb(byTime ? sql<string>`+${sql.ref(column)}` : eb.ref(column), '=', value)];
    return eb.and([
      ...equal('provider', f.provider),
      ...equal('account', f.account),
      ...equal('channel', f.channel),
      matching(eb, [
        ['created_at', '>=', f.since],
        ['created_at', '<', f.until],
      ]),
    ]);
  };
}

/** Counted from the messages themselves: the edges of a window that do not fill a second (and a full recount). */
export async function countByScan(db: Kysely<Database>, f: CountFilter): Promise<CountRow[]> {
  const rows = await db
    .selectFrom('messages')
    .where(firstSeenIn(db, f))
    .select((eb) => [
      'provider',
      eb.fn.coalesce('status', eb.val('')).as('status'),
      eb.fn.coalesce('error_code', eb.val('')).as('error_code'),
      eb.fn.countAll<string | number>().as('n'),
    ])
    .groupBy(['provider', 'status', 'error_code'])
    .execute();
  return rows.map((r) => ({ provider: r.provider, status: r.status, error_code: r.error_code, n: Number(r.n) }));
}

/** Summed from the rollups of one period, buckets from `from` up to `to` (either open), in `table`. */
async function countByRollup(
  db: Kysely<Database>,
  f: CountFilter,
  period: Period,
  from?: number,
  to?: number,
  table: 'stats_rollup' | 'stats_rollup_delta' = 'stats_rollup',
): Promise<CountRow[]> {
  const bucket = (t: number | undefined) => (t === undefined ? undefined : isoOf(t).slice(0, BUCKET_CHARS[period]));
  const rows = await db
    .selectFrom(table)
    .where('period', '=', period)
    .where((eb) =>
      matching(eb, [
        ['bucket', '>=', bucket(from)],
        ['bucket', '<', bucket(to)],
        ['provider', '=', f.provider],
        ['account', '=', f.account],
        ['channel', '=', f.channel],
      ]),
    )
    .select((eb) => ['provider', 'status', 'error_code', eb.fn.sum<string | number>('n').as('n')])
    .groupBy(['provider', 'status', 'error_code'])
    .execute();
  return rows.map((r) => ({ provider: r.provider, status: r.status, error_code: r.error_code, n: Number(r.n) }));
}

/** The rollup periods, longest first, with their length in ms. */
const PERIODS = [
  { period: 'h', ms: HOUR_MS },
  { period: 'm', ms: MINUTE_MS },
  { period: 's', ms: SECOND_MS },
] as const;

/**
 * The counts of messages created in [since, until) (either open), exact to the millisecond: whole
 * hours from the hour rollups, whole minutes at their sides from the minute rollups, whole seconds
 * beside those from the second rollups, and what is left at each end (under a second) counted from
 * the messages through their `created_at` index. A window's cost is then a few hundred rollup rows
 * and at most two seconds of messages, however busy the minutes at its edges were.
 */
export async function countMessages(db: Kysely<Database>, f: CountFilter): Promise<CountRow[]> {
  const a = f.since !== undefined ? Date.parse(f.since) : undefined;
  const b = f.until !== undefined ? Date.parse(f.until) : undefined;
  if (a !== undefined && b !== undefined && b <= a) return [];
  // (each period from the rollups and, on PostgreSQL, from the deltas not folded into them yet)
  const tables = isPostgres(db) ? (['stats_rollup', 'stats_rollup_delta'] as const) : (['stats_rollup'] as const);
  const parts: Promise<CountRow[]>[] = [];
  /** [lo, hi) (either open) from the whole buckets of PERIODS[level] inside it, and its sides from shorter periods. */
  const cover = (lo: number | undefined, hi: number | undefined, level: number): void => {
    const p = PERIODS[level];
    if (p === undefined) {
      parts.push(countByScan(db, { ...f, since: lo === undefined ? undefined : isoOf(lo), until: hi === undefined ? undefined : isoOf(hi) }));
      return;
    }
    const from = lo === undefined ? undefined : ceilTo(lo, p.ms);
    const to = hi === undefined ? undefined : floorTo(hi, p.ms);
    if (from !== undefined && to !== undefined && from >= to) return cover(lo, hi, level + 1);
    for (const table of tables) parts.push(countByRollup(db, f, p.period, from, to, table));
    if (lo !== undefined && lo < from!) cover(lo, from, level + 1);
    if (hi !== undefined && to! < hi) cover(to, hi, level + 1);
  };
  cover(a, b, 0);
  const merged = new Map<string, CountRow>();
  for (const rows of await Promise.all(parts)) {
    for (const r of rows) {
      const id = `${r.provider}\u0000${r.status}\u0000${r.error_code}`;
      const seen = merged.get(id);
      if (seen) seen.n += r.n;
      else merged.set(id, { ...r });
    }
  }
  return [...merged.values()].filter((r) => r.n !== 0);
}

/** Delta rows folded per statement. */
const FOLD_BATCH = 5000;

/** The rollups PostgreSQL appends deltas to, each with the columns of its key. */
const FOLDED = [
  { table: 'stats_rollup', key: ['period', 'bucket', 'provider', 'account', 'channel', 'country', 'status', 'error_code'] },
  { table: 'series_rollup', key: ['period', 'series', 'bucket', 'provider', 'account', 'channel', 'country', 'key'] },
] as const;

/**
 * PostgreSQL: moves delta rows into their rollup (stats_rollup, series_rollup), summed, a batch per
 * statement (delete, sum and upsert in one statement: a row is counted in one table or the other,
 * never both or neither). Replicas fold side by side: each takes rows the others have not locked.
 * Returns the rows folded.
 */
export async function foldRollupDeltas(db: Kysely<Database>): Promise<number> {
  let folded = 0;
  for (const { table, key } of FOLDED) {
    const rollup = sql.table(table);
    const deltas = sql.table(`${table}_delta`);
    const columns = sql.join(key.map((c) => sql.ref(c)));
    for (;;) {
      const result = await sql<{ moved: string | number }>`
        WITH moved AS (
          DELETE FROM ${deltas} WHERE id IN (SELECT id FROM ${deltas} ORDER BY id LIMIT ${FOLD_BATCH} FOR UPDATE SKIP LOCKED)
          RETURNING ${columns}, n
        ), summed AS (
          INSERT INTO ${rollup} (${columns}, n)
          SELECT ${columns}, sum(n) FROM moved GROUP BY ${columns} ORDER BY ${columns}
          ON CONFLICT (${columns}) DO UPDATE SET n = ${rollup}.n + excluded.n
        )
        SELECT count(*) AS moved FROM moved`.execute(db);
      const moved = Number(result.rows[0]?.moved ?? 0);
      folded += moved;
      if (moved < FOLD_BATCH) break;
    }
  }
  return folded;
}

/** How often a PostgreSQL server with a worker folds the deltas (stats are exact either way). */
export const FOLD_INTERVAL_MS = 1000;

/** The periodic fold (PostgreSQL; SQLite writes no deltas). Returns a stop function that waits for a running fold. */
export function startRollupFolding(db: Kysely<Database>, onError: (err: unknown) => void): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    running = running.then(() => (stopped ? 0 : foldRollupDeltas(db))).catch(onError);
  }, FOLD_INTERVAL_MS);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

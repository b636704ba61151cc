import { sql, type Kysely } from 'kysely';
import { matching } from '../db/filters';
import { isPostgres, onSnapshot } from '../db/sql';
import type { Database } from '../db/types';
import { BadRequest } from '../errors';
import { LATENCY_BOUNDS } from './rollups';
import { TERMINAL_STATUSES, type Status } from './types';

/**
 * Delivery health over time (GET /v1/stats/timeseries): per bucket, the messages first seen in it
 * by their current status (delivered, final, delivery rate, top error codes), the status reports
 * received in it by how late they came (p50/p95 of receive time minus the provider's event time),
 * and the callbacks received in it by verdict (so a wrong secret shows as a `signature_invalid`
 * spike) — all summed from rollups (src/status/rollups.ts), never from the messages or the raw log,
 * so an answer costs the same at any size. A message counts in the bucket it was first seen in (its
 * `created_at`) under its status now; a bucket with nothing in it is left out.
 */

export const INTERVALS = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type Interval = keyof typeof INTERVALS;
export const GROUPS = ['provider', 'account', 'channel', 'country'] as const;
export type Group = (typeof GROUPS)[number];

/** Buckets one answer holds at most (a week of hours, a day of minutes and then some). */
export const MAX_BUCKETS = 1500;
const TOP_ERRORS = 5;
const FAILURES: ReadonlySet<string> = new Set(['failed', 'expired', 'rejected']);

export interface TimeseriesQuery {
  interval: Interval;
  /** ISO; defaults: the last 24 buckets up to now. */
  since?: string;
  until?: string;
  group_by?: Group;
  provider?: string;
  account?: string;
  channel?: string;
}

export interface Bucket {
  start: string;
  group: string | null;
  total: number;
  by_status: Record<string, number>;
  delivered: number;
  final: number;
  delivery_rate: number | null;
  top_errors: { code: string; count: number }[];
  /** Status reports received in the bucket by lateness, in seconds (interpolated in the rollup's latency buckets); null when none. */
  latency: { count: number; p50: number | null; p95: number | null };
  callbacks: Record<string, number>;
}

/** The rollup period that fills a bucket of `interval`, and the characters of an ISO time that name its rows. */
const SOURCE: Record<Interval, { period: 'm' | 'h'; chars: number }> = {
  '1m': { period: 'm', chars: 16 },
  '1h': { period: 'h', chars: 13 },
  '1d': { period: 'h', chars: 10 },
};

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;

/** The window, widened to whole buckets (the rollups hold whole minutes and hours): the bucket of `since` to the one of `until`. */
function window(q: TimeseriesQuery, now: Date): { from: number; to: number } {
  const step = INTERVALS[q.interval];
  const to = Math.ceil((q.until !== undefined ? Date.parse(q.until) : now.getTime()) / step) * step;
  const from = floorTo(q.since !== undefined ? Date.parse(q.since) : to - 24 * step, step);
  if (to <= from) throw new BadRequest('until must be later than since');
  if ((to - from) / step > MAX_BUCKETS)
    throw new BadRequest(`the window holds more than ${MAX_BUCKETS} buckets of ${q.interval}: narrow since/until or take a longer interval`);
  return { from, to };
}

export interface Timeseries {
  interval: Interval;
  since: string;
  until: string;
  group_by: Group | null;
  buckets: Bucket[];
}

/** The window's buckets, every table read on one snapshot (src/db/sql.ts onSnapshot). */
export function timeseries(db: Kysely<Database>, q: TimeseriesQuery, now: Date = new Date()): Promise<Timeseries> {
  return onSnapshot(db, (snap) => bucketsOf(snap, q, now));
}

async function bucketsOf(db: Kysely<Database>, q: TimeseriesQuery, now: Date): Promise<Timeseries> {
  const { from, to } = window(q, now);
  const { period, chars } = SOURCE[q.interval];
  const iso = (t: number) => new Date(t).toISOString();
  const key = (t: string) => t.slice(0, chars);
  const group = q.group_by ?? null;
  const buckets = new Map<string, Bucket>();
  const bucketOf = (prefix: string, g: string | null): Bucket => {
    const id = `${prefix}\u0000${g ?? ''}`;
    let b = buckets.get(id);
    if (!b) {
      const start = iso(Date.parse(prefix.length === 10 ? `${prefix}T00:00:00.000Z` : prefix.length === 13 ? `${prefix}:00:00.000Z` : `${prefix}:00.000Z`));
      b = {
        start,
        group: g,
        total: 0,
        by_status: {},
        delivered: 0,
        final: 0,
        delivery_rate: null,
        top_errors: [],
        latency: { count: 0, p50: null, p95: null },
        callbacks: {},
      };
      buckets.set(id, b);
    }
    return b;
  };

  // messages, from the rollups (and on PostgreSQL the deltas not folded yet), by bucket and group
  // a group's name: the provider, `provider/account` (an account name is a provider's), the channel,
  // or the recipient's country (`unknown`: e-mail, or a number whose region cannot be told)
  const groupOf = (r: Partial<Record<Dimension, string>>): string | null => {
    if (group === 'provider') return r.provider!;
    if (group === 'account') return `${r.provider}/${r.account}`;
    if (group === 'channel') return r.channel!;
    if (group === 'country') return r.country === '' ? 'unknown' : r.country!;
    return null;
  };
  // only the columns the grouping names are read (a day by the hour sums tens of thousands of rollup rows into a few hundred)
  const dims = DIMENSIONS[group ?? 'none'];
  const errors = new Map<Bucket, Map<string, number>>();
  const tables = isPostgres(db) ? (['stats_rollup', 'stats_rollup_delta'] as const) : (['stats_rollup'] as const);
  for (const table of tables) {
    const rows = await db
      .selectFrom(table)
      .select((eb) => [prefixOf(chars).as('prefix'), ...dims, 'status', 'error_code', eb.fn.sum<number | string>('n').as('n')])
      .where('period', '=', period)
      .where('bucket', '>=', key(iso(from)))
      .where('bucket', '<', key(iso(to)))
      .where((eb) =>
        matching(eb, [
          ['provider', '=', q.provider],
          ['account', '=', q.account],
          ['channel', '=', q.channel],
        ]),
      )
      .groupBy([prefixOf(chars), ...dims, 'status', 'error_code'])
      .$castTo<{ prefix: string; status: string; error_code: string; n: number | string } & Partial<Record<Dimension, string>>>()
      .execute();
    for (const r of rows) {
      const n = Number(r.n);
      if (n === 0) continue;
      const b = bucketOf(r.prefix, groupOf(r));
      const status = r.status === '' ? 'none' : r.status;
      b.by_status[status] = (b.by_status[status] ?? 0) + n;
      b.total += n;
      if (r.error_code !== '' && FAILURES.has(r.status)) {
        const e = errors.get(b) ?? new Map<string, number>();
        e.set(r.error_code, (e.get(r.error_code) ?? 0) + n);
        errors.set(b, e);
      }
    }
  }

  // status reports by lateness, and callbacks by verdict (a raw request has no channel or country:
  // with a channel filter, or grouped by channel or country, callbacks are left out)
  const latencies = new Map<Bucket, Map<string, number>>();
  const withCallbacks = (q.channel === undefined || q.channel === '') && group !== 'channel' && group !== 'country';
  for (const row of await seriesRows(db, q, period, key(iso(from)), key(iso(to)), chars, dims, withCallbacks)) {
    const b = bucketOf(row.prefix, groupOf(row));
    if (row.series === 'callback') {
      b.callbacks[row.key] = (b.callbacks[row.key] ?? 0) + row.n;
      continue;
    }
    const h = latencies.get(b) ?? new Map<string, number>();
    h.set(row.key, (h.get(row.key) ?? 0) + row.n);
    latencies.set(b, h);
  }

  for (const b of buckets.values()) {
    b.delivered = b.by_status.delivered ?? 0;
    b.final = [...TERMINAL_STATUSES].reduce((sum, s: Status) => sum + (b.by_status[s] ?? 0), 0);
    b.delivery_rate = b.final > 0 ? b.delivered / b.final : null;
    b.top_errors = [...(errors.get(b) ?? new Map<string, number>()).entries()]
      .map(([code, count]) => ({ code, count }))
      .sort((x, y) => y.count - x.count || (x.code < y.code ? -1 : 1))
      .slice(0, TOP_ERRORS);
    const h = latencies.get(b);
    if (h) b.latency = { count: [...h.values()].reduce((x, y) => x + y, 0), p50: quantile(h, 0.5), p95: quantile(h, 0.95) };
  }
  const sorted = [...buckets.values()].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : (x.group ?? '') < (y.group ?? '') ? -1 : 1));
  return { interval: q.interval, since: iso(from), until: iso(to), group_by: group, buckets: sorted };
}

type Dimension = 'provider' | 'account' | 'channel' | 'country';
/** The rollup columns each grouping reads (an account is named with its provider). */
const DIMENSIONS: Record<Group | 'none', Dimension[]> = {
  none: [],
  provider: ['provider'],
  account: ['provider', 'account'],
  channel: ['channel'],
  country: ['country'],
};

/** A bucket of `interval` named by the first `chars` characters of a rollup bucket (the whole of it: the column itself, which keeps the index order). */
function prefixOf(chars: number) {
  return chars === 13 || chars === 16 ? sql<string>`bucket` : sql<string>`substr(bucket, 1, ${sql.lit(chars)})`;
}

type SeriesRow = { prefix: string; series: string; key: string; n: number } & Partial<Record<Dimension, string>>;

/** The window's latency counts (and callbacks, when asked), summed per bucket prefix and dimension, from series_rollup (and its PostgreSQL deltas). */
async function seriesRows(
  db: Kysely<Database>,
  q: TimeseriesQuery,
  period: 'm' | 'h',
  from: string,
  to: string,
  chars: number,
  dims: Dimension[],
  withCallbacks: boolean,
): Promise<SeriesRow[]> {
  const out: SeriesRow[] = [];
  const tables = isPostgres(db) ? (['series_rollup', 'series_rollup_delta'] as const) : (['series_rollup'] as const);
  for (const table of tables) {
    for (const series of withCallbacks ? ['latency', 'callback'] : ['latency']) {
      const rows = await db
        .selectFrom(table)
        .select((eb) => [prefixOf(chars).as('prefix'), ...dims, 'key', eb.fn.sum<number | string>('n').as('n')])
        .where('period', '=', period)
        .where('series', '=', series)
        .where('bucket', '>=', from)
        .where('bucket', '<', to)
        .where((eb) =>
          matching(eb, [
            ['provider', '=', q.provider],
            ['account', '=', q.account],
            // callbacks have no channel: a channel filter applies to the latency of reports only
            ['channel', '=', series === 'latency' ? q.channel : undefined],
          ]),
        )
        .groupBy([prefixOf(chars), ...dims, 'key'])
        .$castTo<{ prefix: string; key: string; n: number | string } & Partial<Record<Dimension, string>>>()
        .execute();
      for (const r of rows) if (Number(r.n) !== 0) out.push({ ...r, series, n: Number(r.n) });
    }
  }
  return out;
}

/**
 * The q-quantile of a latency histogram (counts by bucket upper bound): linear within the bucket the
 * rank falls in, from the previous bound (0 for the first), as Prometheus's histogram_quantile does;
 * in the open bucket past the last bound, that bound.
 */
export function quantile(histogram: Map<string, number>, q: number): number | null {
  const total = [...histogram.values()].reduce((x, y) => x + y, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  let lower = 0;
  for (const bound of LATENCY_BOUNDS) {
    const n = histogram.get(String(bound)) ?? 0;
    if (n > 0 && below + n >= rank) return lower + ((bound - lower) * (rank - below)) / n;
    below += n;
    lower = bound;
  }
  return LATENCY_BOUNDS[LATENCY_BOUNDS.length - 1];
}

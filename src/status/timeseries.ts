import { sql, type Kysely } from 'kysely';
import { matching } from '../db/filters';
import { isPostgres } from '../db/sql';
import type { Database } from '../db/types';
import { BadRequest } from '../errors';
import { TERMINAL_STATUSES, type Status } from './types';

/**
 * Delivery health over time (GET /v1/stats/timeseries): per bucket, the messages first seen in it
 * by their current status (delivered, final, delivery rate, top error codes) — summed from the
 * stats rollups, never from the messages — and the callbacks received in it by verdict (so a wrong
 * secret shows as a `signature_invalid` spike). A message counts in the bucket it was first seen in
 * (its `created_at`) under its status now; a bucket with nothing in it is left out.
 */

export const INTERVALS = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type Interval = keyof typeof INTERVALS;
export const GROUPS = ['provider', 'account', 'channel'] as const;
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

export async function timeseries(
  db: Kysely<Database>,
  q: TimeseriesQuery,
  now: Date = new Date(),
): Promise<{ interval: Interval; since: string; until: string; group_by: Group | null; buckets: Bucket[] }> {
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
      b = { start, group: g, total: 0, by_status: {}, delivered: 0, final: 0, delivery_rate: null, top_errors: [], callbacks: {} };
      buckets.set(id, b);
    }
    return b;
  };

  // messages, from the rollups (and on PostgreSQL the deltas not folded yet), by bucket and group
  // a group's name: the provider, `provider/account` (an account name is a provider's), or the channel
  const groupOf = (r: { provider: string; account: string; channel: string }): string | null =>
    group === 'provider' ? r.provider : group === 'account' ? `${r.provider}/${r.account}` : group === 'channel' ? r.channel : null;
  const errors = new Map<Bucket, Map<string, number>>();
  const tables = isPostgres(db) ? (['stats_rollup', 'stats_rollup_delta'] as const) : (['stats_rollup'] as const);
  for (const table of tables) {
    const rows = await db
      .selectFrom(table)
      .select((eb) => [
        sql<string>`substr(bucket, 1, ${sql.lit(chars)})`.as('prefix'),
        'provider',
        'account',
        'channel',
        'status',
        'error_code',
        eb.fn.sum<number | string>('n').as('n'),
      ])
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
      .groupBy([sql`substr(bucket, 1, ${sql.lit(chars)})`, 'provider', 'account', 'channel', 'status', 'error_code'])
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

  // callbacks by verdict, from the raw log's received_at index (a raw request has no channel: with
  // a channel filter or grouped by channel, they are left out)
  if ((q.channel === undefined || q.channel === '') && group !== 'channel') {
    const knownProvider = sql<string>`CASE WHEN verdict = 'unknown_provider' THEN 'unknown' ELSE provider END`;
    const knownAccount = sql<string>`CASE WHEN verdict = 'unknown_provider' THEN 'unknown' ELSE account END`;
    const rows = await db
      .selectFrom('raw_requests')
      .select((eb) => [
        sql<string>`substr(received_at, 1, ${sql.lit(chars)})`.as('prefix'),
        // a request to an unknown provider or account names them with whatever its sender wrote in the
        // URL: counted as `unknown`, never a group of its own
        knownProvider.as('provider'),
        knownAccount.as('account'),
        'verdict',
        eb.fn.countAll<number | string>().as('n'),
      ])
      .where('received_at', '>=', iso(from))
      .where('received_at', '<', iso(to))
      .where((eb) =>
        matching(eb, [
          ['provider', '=', q.provider],
          ['account', '=', q.account],
        ]),
      )
      .groupBy([sql`substr(received_at, 1, ${sql.lit(chars)})`, knownProvider, knownAccount, 'verdict'])
      .execute();
    for (const r of rows) {
      const b = bucketOf(r.prefix, groupOf({ ...r, channel: '' }));
      b.callbacks[r.verdict] = (b.callbacks[r.verdict] ?? 0) + Number(r.n);
    }
  }

  for (const b of buckets.values()) {
    b.delivered = b.by_status.delivered ?? 0;
    b.final = [...TERMINAL_STATUSES].reduce((sum, s: Status) => sum + (b.by_status[s] ?? 0), 0);
    b.delivery_rate = b.final > 0 ? b.delivered / b.final : null;
    b.top_errors = [...(errors.get(b) ?? new Map<string, number>()).entries()]
      .map(([code, count]) => ({ code, count }))
      .sort((x, y) => y.count - x.count || (x.code < y.code ? -1 : 1))
      .slice(0, TOP_ERRORS);
  }
  const sorted = [...buckets.values()].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : (x.group ?? '') < (y.group ?? '') ? -1 : 1));
  return { interval: q.interval, since: iso(from), until: iso(to), group_by: group, buckets: sorted };
}

import { DateTime } from 'luxon';
import { sql, type ExpressionBuilder, type Kysely, type RawBuilder } from 'kysely';
import { matching } from '../db/filters';
import { isPostgres, onSnapshot } from '../db/sql';
import type { Database } from '../db/types';
import { BadRequest } from '../errors';
import { isValidZone } from '../util/time';

/**
 * The daily report (issue #16, reconciliation: GET /v1/reports/daily, `dlr report`): messages
 * counted per local day, provider, account, status and error code, the numbers finance holds
 * against a provider's bill. Summed from the stats rollups (src/status/rollups.ts), never from the
 * messages: a message counts on the local day of its `created_at` (when it was first seen), under
 * its status now — final or not (`queued`, `sent`, `deferred` are still on their way; `none`: no
 * status known yet) — with its error code.
 *
 * A local day is a UTC range: [00:00, next 00:00) in its zone, 23 or 25 hours on a DST change
 * (computed with luxon). Its whole UTC hours come from the hour rollups and what is left at its
 * edges — half an hour a day in a zone such as Asia/Kolkata (+05:30), where local midnight falls
 * inside a UTC hour — from the minute rollups. The window is cut at every local midnight and every
 * offset change; the pieces with the same offset are asked in one query (several ranges of buckets),
 * which names each bucket's local day in SQL (the bucket plus that offset), so the database sums to
 * days and the answer never passes hours through JavaScript.
 */

export const DIMENSIONS = ['day', 'provider', 'account', 'status'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Days one report spans at most (a year and a month of slack). */
export const MAX_REPORT_DAYS = 400;

/** An account's configured zone (`providers.<p>.accounts.<a>.timeZone`). */
export interface AccountZone {
  provider: string;
  account: string;
  zone: string;
}

/**
 * The zone of the days: one for every row (`tz`), or each account its own — `fallback` (the
 * configured default) for an account the configuration does not list (any more).
 */
export type Zones = { zone: string } | { accounts: readonly AccountZone[]; fallback: string };

export interface DailyQuery {
  /** The first local day, YYYY-MM-DD. */
  since: string;
  /** The day after the last one, YYYY-MM-DD (exclusive). */
  until: string;
  by: readonly Dimension[];
  zones: Zones;
  provider?: string;
  account?: string;
  channel?: string;
}

/** One row: the dimensions of `by` (status with its error code), the zone its days are in, the count. */
export interface DailyRow {
  day?: string;
  time_zone: string;
  provider?: string;
  account?: string;
  /** The message's status now; `none` when no report has given one. */
  status?: string;
  error_code?: string | null;
  count: number;
}

export interface DailyReport {
  since: string;
  until: string;
  by: Dimension[];
  /** The zone of every row, when there is one; null when accounts of different zones are counted each in its own (see each row). */
  time_zone: string | null;
  rows: DailyRow[];
}

// ---------------------------------------------------------------------------------------------
// Parameters (the HTTP route and the CLI check them alike)

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar date YYYY-MM-DD (`name` says which parameter in the refusal). */
export function parseDay(name: string, value: string): string {
  if (!DATE.test(value) || !DateTime.fromISO(value, { zone: 'UTC' }).isValid) throw new BadRequest(`${name} must be a date YYYY-MM-DD`);
  return value;
}

/** `by`: a comma list of dimensions, in any order, each at most once; empty or absent: all four. */
export function parseBy(name: string, value: string | undefined): Dimension[] {
  if (value === undefined || value.trim() === '') return [...DIMENSIONS];
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.find((n) => !(DIMENSIONS as readonly string[]).includes(n));
  if (unknown !== undefined)
    throw new BadRequest(`${name} is a comma list of ${DIMENSIONS.join(', ')}; ${JSON.stringify(unknown.slice(0, 32))} is none of them`);
  return DIMENSIONS.filter((d) => names.includes(d));
}

/** An IANA zone name (or a fixed offset luxon reads, such as UTC+8), as luxon names it. */
export function parseZone(name: string, value: string): string {
  if (value.length > 64 || !isValidZone(value)) throw new BadRequest(`${name} must be an IANA time zone, e.g. Asia/Shanghai`);
  return DateTime.now().setZone(value).zoneName ?? value;
}

/** The days from `since` up to `until`: at least one, at most MAX_REPORT_DAYS. */
export function reportDays(since: string, until: string): number {
  const days = Math.round((Date.parse(until) - Date.parse(since)) / 86_400_000);
  if (days < 1) throw new BadRequest('until must be later than since (until is exclusive: the day after the last one)');
  if (days > MAX_REPORT_DAYS) throw new BadRequest(`the report spans ${days} days; at most ${MAX_REPORT_DAYS} days per report: narrow since/until`);
  return days;
}

/** Every configured account with its zone. */
export function accountZones(providers: Readonly<Record<string, { accounts: Readonly<Record<string, { timeZone: string }>> }>>): AccountZone[] {
  return Object.entries(providers).flatMap(([provider, p]) => Object.entries(p.accounts).map(([account, a]) => ({ provider, account, zone: a.timeZone })));
}

// ---------------------------------------------------------------------------------------------
// The plan: which accounts in which zone, which buckets for which local days

type Pair = Pick<AccountZone, 'provider' | 'account'>;

/** The accounts counted in one zone: those listed (`only`), or all but those listed (`except`). */
interface ZoneGroup {
  zone: string;
  only?: Pair[];
  except?: Pair[];
}

function zoneGroups(zones: Zones, q: DailyQuery): ZoneGroup[] {
  if ('zone' in zones) return [{ zone: zones.zone }];
  const inFilter = (a: Pair) => (!q.provider || a.provider === q.provider) && (!q.account || a.account === q.account);
  const elsewhere = zones.accounts.filter((a) => a.zone !== zones.fallback && inFilter(a));
  const byZone = new Map<string, Pair[]>();
  for (const a of elsewhere) byZone.set(a.zone, [...(byZone.get(a.zone) ?? []), a]);
  const groups: ZoneGroup[] = [...byZone.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([zone, only]) => ({ zone, only }));
  // the fallback zone: the accounts configured with it and those the configuration does not list
  const oneAccountElsewhere = q.provider && q.account && elsewhere.length > 0;
  if (!oneAccountElsewhere) groups.push({ zone: zones.fallback, except: elsewhere });
  return groups;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;

/** UTC offset (minutes) of `zone` at `ms`. */
const offsetAt = (zone: string, ms: number) => Math.round(DateTime.fromMillis(ms, { zone }).offset);

/** A local day's start, UTC ms (luxon moves a midnight that does not exist to the first time that does). */
const dayStart = (zone: string, day: string) => floorTo(DateTime.fromISO(day, { zone }).toMillis(), MINUTE_MS);

/** A stretch of UTC time with one local day and one offset (`offset` null: no days asked, one stretch). */
interface Piece {
  from: number;
  to: number;
  offset: number | null;
}

/** The window [since, until) in `zone`, cut at each local midnight and each offset change (when days are asked). */
function pieces(zone: string, since: string, until: string, days: number, byDay: boolean): Piece[] {
  const first = DateTime.fromISO(since, { zone: 'UTC' });
  if (!byDay) return [{ from: dayStart(zone, since), to: dayStart(zone, until), offset: null }];
  const starts = Array.from({ length: days + 1 }, (_, i) => dayStart(zone, first.plus({ days: i }).toISODate()!));
  const out: Piece[] = [];
  for (let i = 0; i < days; i++) {
    const a = starts[i];
    const b = starts[i + 1];
    const oa = offsetAt(zone, a);
    const ob = offsetAt(zone, b - 1);
    if (oa === ob) {
      out.push({ from: a, to: b, offset: oa });
      continue;
    }
    // a DST change inside the day: the first minute of the new offset, by halving
    let lo = a / MINUTE_MS;
    let hi = b / MINUTE_MS - 1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(zone, mid * MINUTE_MS) === oa) lo = mid;
      else hi = mid;
    }
    out.push({ from: a, to: hi * MINUTE_MS, offset: oa }, { from: hi * MINUTE_MS, to: b, offset: ob });
  }
  return out;
}

type Period = 'h' | 'm';
const BUCKET_CHARS: Record<Period, number> = { h: 13, m: 16 };

/** Bucket ranges of one period asked with one offset: one query (or a few, RANGES_PER_QUERY each). */
interface Spans {
  period: Period;
  offset: number | null;
  ranges: [number, number][];
}

/** The hour buckets inside each piece, the minute buckets at its edges; then, per period and offset, touching ranges joined. */
function spans(all: Piece[]): Spans[] {
  const groups = new Map<string, Spans>();
  const add = (period: Period, offset: number | null, from: number, to: number) => {
    if (to <= from) return;
    const id = `${period}|${offset}`;
    const g = groups.get(id) ?? { period, offset, ranges: [] };
    groups.set(id, g);
    const last = g.ranges.at(-1);
    if (last && last[1] >= from) last[1] = Math.max(last[1], to);
    else g.ranges.push([from, to]);
  };
  for (const p of all) {
    const h0 = ceilTo(p.from, HOUR_MS);
    const h1 = floorTo(p.to, HOUR_MS);
    if (h0 >= h1) {
      add('m', p.offset, p.from, p.to);
      continue;
    }
    add('m', p.offset, p.from, h0);
    add('h', p.offset, h0, h1);
    add('m', p.offset, h1, p.to);
  }
  return [...groups.values()];
}

/**
 * OR-ed bucket ranges per statement: a :30 zone has one range a day of each period (400 days, 400
 * ranges); SQLite nests an OR chain one level per term, within its expression depth of 1,000.
 */
const RANGES_PER_QUERY = 200;

// ---------------------------------------------------------------------------------------------
// The queries

/** The local day (YYYY-MM-DD) of a bucket of `period` at `offset` minutes from UTC, in SQL. */
function localDay(db: Kysely<Database>, period: Period, offset: number): RawBuilder<string> {
  const start = period === 'h' ? sql`${sql.ref('bucket')} || ':00'` : sql.ref('bucket');
  // literals, not parameters: GROUP BY repeats the expression, and PostgreSQL matches it by its text
  if (isPostgres(db)) return sql<string>`to_char(cast(${start} as timestamp) + ${sql.lit(offset)} * interval '1 minute', 'YYYY-MM-DD')`;
  return sql<string>`substr(datetime(${start}, ${sql.lit(`${offset >= 0 ? '+' : ''}${offset} minutes`)}), 1, 10)`;
}

/** A dimension not asked: '' in every row, and not grouped by. */
const NOTHING = sql<string>`''`;
const column = (asked: boolean, name: 'provider' | 'account' | 'status' | 'error_code') => (asked ? sql<string>`${sql.ref(name)}` : NOTHING);

type RollupTable = 'stats_rollup' | 'stats_rollup_delta';

interface Summed {
  day: string;
  provider: string;
  account: string;
  status: string;
  error_code: string;
  n: number | string;
}

async function sumRanges(db: Kysely<Database>, table: RollupTable, s: Spans, ranges: [number, number][], group: ZoneGroup, q: DailyQuery): Promise<Summed[]> {
  const by = new Set(q.by);
  const key = (t: number) => new Date(t).toISOString().slice(0, BUCKET_CHARS[s.period]);
  const day = by.has('day') && s.offset !== null ? localDay(db, s.period, s.offset) : null;
  const pair = (eb: ExpressionBuilder<Database, RollupTable>, a: Pair) => eb.and([eb('provider', '=', a.provider), eb('account', '=', a.account)]);
  return (
    db
      .selectFrom(table)
      // the period in every range: SQLite then searches the primary key once a range (MULTI-INDEX OR);
      // with `period = ? AND (range OR range …)` it tests the ranges on every row of the period
      .where((eb) => eb.or(ranges.map(([from, to]) => eb.and([eb('period', '=', s.period), eb('bucket', '>=', key(from)), eb('bucket', '<', key(to))]))))
      .where((eb) =>
        matching(eb, [
          ['provider', '=', q.provider],
          ['account', '=', q.account],
          ['channel', '=', q.channel],
        ]),
      )
      .$if(group.only !== undefined, (qb) => qb.where((eb) => eb.or(group.only!.map((a) => pair(eb, a)))))
      .$if((group.except ?? []).length > 0, (qb) => qb.where((eb) => eb.not(eb.or(group.except!.map((a) => pair(eb, a))))))
      .select((eb) => [
        (day ?? NOTHING).as('day'),
        column(by.has('provider'), 'provider').as('provider'),
        column(by.has('account'), 'account').as('account'),
        column(by.has('status'), 'status').as('status'),
        column(by.has('status'), 'error_code').as('error_code'),
        eb.fn.sum<number | string>('n').as('n'),
      ])
      .groupBy([
        ...(day ? [day] : []),
        ...(by.has('provider') ? (['provider'] as const) : []),
        ...(by.has('account') ? (['account'] as const) : []),
        ...(by.has('status') ? (['status', 'error_code'] as const) : []),
      ])
      .execute()
  );
}

const compare = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** The report; `since`, `until`, `by` and the zones checked by the parsers above. */
/** The report, its rollups (and PostgreSQL deltas) read on one snapshot (src/db/sql.ts onSnapshot). */
export function dailyReport(db: Kysely<Database>, q: DailyQuery): Promise<DailyReport> {
  return onSnapshot(db, (snap) => dailyOn(snap, q));
}

async function dailyOn(db: Kysely<Database>, q: DailyQuery): Promise<DailyReport> {
  const days = reportDays(q.since, q.until);
  const by = DIMENSIONS.filter((d) => q.by.includes(d));
  const groups = zoneGroups(q.zones, q);
  const tables = isPostgres(db) ? (['stats_rollup', 'stats_rollup_delta'] as const) : (['stats_rollup'] as const);
  const totals = new Map<string, DailyRow & { n: number }>();
  for (const group of groups) {
    for (const s of spans(pieces(group.zone, q.since, q.until, days, by.includes('day')))) {
      for (let i = 0; i < s.ranges.length; i += RANGES_PER_QUERY) {
        for (const table of tables) {
          for (const r of await sumRanges(db, table, s, s.ranges.slice(i, i + RANGES_PER_QUERY), group, { ...q, by })) {
            const id = [group.zone, r.day, r.provider, r.account, r.status, r.error_code].join('\u0000');
            const row = totals.get(id) ?? { ...rowOf(by, group.zone, r), n: 0 };
            row.n += Number(r.n);
            totals.set(id, row);
          }
        }
      }
    }
  }
  const rows = [...totals.values()]
    .filter((r) => r.n !== 0)
    .map(({ n, ...r }) => ({ ...r, count: n }))
    .sort(
      (x, y) =>
        compare(x.day ?? '', y.day ?? '') ||
        compare(x.provider ?? '', y.provider ?? '') ||
        compare(x.account ?? '', y.account ?? '') ||
        compare(x.status ?? '', y.status ?? '') ||
        compare(x.error_code ?? '', y.error_code ?? '') ||
        compare(x.time_zone, y.time_zone),
    );
  const zones = new Set(groups.map((g) => g.zone));
  return { since: q.since, until: q.until, by, time_zone: zones.size === 1 ? [...zones][0] : null, rows };
}

/** A row's fields, in the answer's order: only the dimensions asked. */
function rowOf(by: readonly Dimension[], zone: string, r: Summed): DailyRow {
  const row: Partial<DailyRow> = {};
  if (by.includes('day')) row.day = r.day;
  row.time_zone = zone;
  if (by.includes('provider')) row.provider = r.provider;
  if (by.includes('account')) row.account = r.account;
  if (by.includes('status')) {
    row.status = r.status === '' ? 'none' : r.status;
    row.error_code = r.error_code === '' ? null : r.error_code;
  }
  return row as DailyRow;
}

// ---------------------------------------------------------------------------------------------
// CSV

const COLUMNS = ['day', 'time_zone', 'provider', 'account', 'status', 'error_code', 'count'] as const;

/**
 * One cell (RFC 4180): quoted when it holds a quote, comma, CR or LF. A text that a spreadsheet
 * would run as a formula — starting with =, +, -, @, tab or CR (an error code is the provider's
 * text, and a provider may be anyone who reaches the callback URL) — gets a leading `'`.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The report as CSV: a header row, then one line per row (CRLF), the columns of its dimensions. */
export function dailyCsv(report: DailyReport): string {
  const has = (c: (typeof COLUMNS)[number]) =>
    c === 'time_zone' || c === 'count' || (c === 'error_code' ? report.by.includes('status') : report.by.includes(c));
  const columns = COLUMNS.filter(has);
  const lines = [columns.join(','), ...report.rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

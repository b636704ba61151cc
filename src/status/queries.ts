import { CompiledQuery, sql, type Expression, type ExpressionBuilder, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { Database, MessageRow, ReportRow } from '../db/types';
import { Conflict, NotFound, quoted } from '../errors';
import { isSet, matching } from '../db/filters';
import { isPostgres, onSnapshot } from '../db/sql';
import { encodeCursor, type Page } from '../db/paging';
import { readHistoryRow, readMessageRows } from './stored-form';
import { findRegistration, type Registration } from './registrations';
import { countMessages, firstSeenIn } from './rollups';
import { TERMINAL_STATUSES, type Status } from './types';
import { ID_ORDER_CHARS } from '../db/migrations/0018-window-keys';
import { ULID_ALPHABET } from '../util/ids';

const FAILURE_STATUSES: ReadonlySet<string> = new Set(['failed', 'expired', 'rejected']);
const TOP_ERROR_CODES = 10;

export function messageView(row: MessageRow, registration: Registration | null = null) {
  return {
    provider: row.provider,
    account: row.account,
    channel: row.channel,
    message_id: row.message_id,
    recipient: row.recipient,
    status: row.status,
    terminal: row.status !== null && TERMINAL_STATUSES.has(row.status as Status),
    version: row.version,
    error: row.error_code !== null ? { code: row.error_code, message: row.error_message } : null,
    occurred_at: row.occurred_at,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    reference: registration?.reference ?? null,
    metadata: registration?.metadata ?? null,
    created_at: row.created_at,
    updated_at: row.updated_at,
    /** When its final report was due and had not come (src/status/stale.ts); null when it is not stale. */
    stale_since: row.stale_at,
  };
}

export function reportView(row: ReportRow) {
  return {
    id: row.id,
    raw_id: row.raw_id,
    type: row.type,
    status: row.status,
    action: row.action,
    error: row.error_code !== null ? { code: row.error_code, message: row.error_message } : null,
    occurred_at: row.occurred_at,
    received_at: row.received_at,
    changed: row.changed === 1,
    reason: row.reason,
    event_id: row.event_id,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
  };
}

export interface MessageLookup {
  provider: string;
  messageId: string;
  account?: string;
  recipient?: string;
}

/** A message's answer carries at most this many reports (the newest), with `history_truncated: true` past it. */
export const MAX_HISTORY = 1000;

/** At most this many values a refusal lists to choose from (the answer's fields list them all). */
const MAX_LISTED = 10;
const listed = (values: string[]) => values.slice(0, MAX_LISTED).map(quoted).join(', ') + (values.length > MAX_LISTED ? ', …' : '');

function notFoundHint(q: MessageLookup): string {
  const narrowed = [
    q.account !== undefined && q.account !== '' ? `account ${quoted(q.account)}` : '',
    q.recipient !== undefined ? `recipient ${quoted(q.recipient)}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return `provider ${quoted(q.provider)} has none with this id${narrowed ? ` and ${narrowed}` : ''}: GET /v1/search?q= finds messages by id, recipient or reference`;
}

/** What to add to the query: ?recipient= (and ?account= when the id spans accounts), with the values to choose from. */
function ambiguousDetail(messageId: string, recipients: string[], accounts: string[]): string {
  const account = accounts.length > 1 ? ` and ?account= (one of ${listed(accounts)})` : '';
  return `several messages have the id ${quoted(messageId)}: add ?recipient= (one of ${listed(recipients)})${account}`;
}

/** One message and its history; 409 when the id covers several recipients and none was named. */
export async function getMessage(db: Kysely<Database>, q: MessageLookup) {
  let query = db.selectFrom('messages').selectAll().where('provider', '=', q.provider).where('message_id', '=', q.messageId);
  if (q.account) query = query.where('account', '=', q.account);
  if (q.recipient !== undefined) query = query.where('recipient', '=', q.recipient);
  const rows = await query.limit(100).execute();
  if (rows.length === 0) throw new NotFound('message', q.messageId, notFoundHint(q));
  if (rows.length > 1) {
    const recipients = [...new Set(rows.map((r) => r.recipient))];
    const accounts = [...new Set(rows.map((r) => r.account))];
    throw new Conflict('ambiguous', ambiguousDetail(q.messageId, recipients, accounts), { recipients, accounts });
  }
  // its history and its registration, asked together (each is a read-thread query of its own: in
  // turn, each waited behind the other readers' queries)
  const [row] = rows;
  const [newest, registration] = await Promise.all([
    // The newest MAX_HISTORY reports, oldest first: a sender can add reports to one message without end.
    db
      .selectFrom('reports')
      .selectAll()
      .where('message_pk', '=', row.id)
      .orderBy('id', 'desc')
      .limit(MAX_HISTORY + 1)
      .execute(),
    findRegistration(db, { provider: row.provider, account: row.account, messageId: row.message_id, recipient: row.recipient }),
  ]);
  // a row that says '' has its first report's attributes (stored-form.ts): in the history when it is whole
  const first = newest.length <= MAX_HISTORY ? newest.at(-1) : undefined;
  const [message] = row.attributes === '' && first ? [{ ...row, attributes: first.attributes }] : await readMessageRows(db, rows);
  const history = newest.slice(0, MAX_HISTORY).reverse().map(readHistoryRow);
  const answer: Record<string, unknown> = { message: messageView(message, registration), history: history.map(reportView) };
  if (newest.length > MAX_HISTORY) answer.history_truncated = true;
  return answer;
}

export interface MessageFilter {
  provider?: string;
  account?: string;
  status?: string;
  recipient?: string;
  /** 'true': only stale messages (through the partial index of migration 0006); 'false': only the others. */
  stale?: string;
  since?: string;
  until?: string;
}

/**
 * Messages, newest first, filtered on their last change time (`updated_at`). On SQLite a list by
 * provider, account or status walks its (column…) index in rowid order, which is creation order
 * as the key's is (migration 0015); the cursor stays the last message's key, found through the
 * primary key's index: the list goes on below its row, or below the newest older key's should that
 * row not be there. A list in rowid order with a time window is read by `windowPage`; a
 * recipient's with a window (and on PostgreSQL every list with one) by `keyWindowPage`. Every other
 * list walks the key's order through an index that ends with it. `options` (tests): `windowWalk`,
 * the rows a list with a window walks before it bounds the window; `bound`, how a window is read
 * past them (on PostgreSQL, and on SQLite a window alone's newest message), instead of the
 * estimates.
 */
export async function listMessages(db: Kysely<Database>, f: MessageFilter & Page, options: { windowWalk?: number; bound?: 'walk' | 'pass' } = {}) {
  const sqlite = !isPostgres(db);
  const byColumn = [f.provider, f.account, f.status].some(isSet) && !isSet(f.recipient);
  const windowed = isSet(f.since) || isSet(f.until);
  const windowOnly = !byColumn && !isSet(f.recipient) && f.stale === undefined && windowed;
  // stale=false is nearly every message: its window is read as a window alone's, each row tested
  const byRowid = sqlite && (byColumn || (windowed && !isSet(f.recipient) && f.stale !== 'true'));
  const columns = (eb: ExpressionBuilder<Database, 'messages'>) =>
    matching(eb, [
      ['provider', '=', f.provider],
      ['account', '=', f.account],
      ['status', '=', f.status],
      ['recipient', '=', f.recipient],
      ['stale_at', 'is not', f.stale === 'true' ? null : undefined],
      ['stale_at', 'is', f.stale === 'false' ? null : undefined],
    ]);
  const rows =
    byRowid && windowed
      ? await windowPage(db, f, columns, windowOnly, options.windowWalk ?? WINDOW_WALK, options.bound)
      : windowed && (isSet(f.recipient) || !sqlite)
        ? await keyWindowPage(db, f, columns, options.windowWalk ?? KEY_WALK, options.bound)
        : await db
            .selectFrom('messages')
            .selectAll()
            .where(columns)
            .where((eb) =>
              matching(eb, [
                ['updated_at', '>=', f.since],
                ['updated_at', '<', f.until],
                ['id', '<', byRowid ? undefined : f.cursor],
              ]),
            )
            .$if(byRowid && f.cursor !== undefined, (q) => q.where(sql.ref('rowid'), '<', below(f.cursor!)))
            .orderBy(byRowid ? sql.ref('rowid') : sql.ref('id'), 'desc')
            .limit(f.limit + 1)
            .execute();
  const page = await readMessageRows(db, rows.slice(0, f.limit));
  return { items: page.map((m) => messageView(m)), next_cursor: rows.length > f.limit ? encodeCursor(page[page.length - 1].id) : null };
}

/** The rowid a list in rowid order goes on below after `cursor` (a message's key); null: nothing is below. */
function below(cursor: string) {
  return sql<number | null>`(SELECT c.rowid + (c.id <> ${cursor}) FROM messages c WHERE c.id <= ${cursor} ORDER BY c.id DESC LIMIT 1)`;
}

/**
 * The messages a list with a time window walks newest first (SQLite), of those its other filters
 * leave, before it looks elsewhere: about 3 ms of rows on the growth database.
 */
const WINDOW_WALK = 2_000;

/**
 * A page of the messages whose last change falls in a window, newest first (rowid order), on
 * SQLite. No index has both the window and that order: sorting a window's rows took 380 ms for a
 * minute of the growth database (216,000 messages) and 15 s for all of its 2 M, and walking a
 * column's index from the newest row tests every row above an old window (0.4 s for Aliyun's). So,
 * each step only when the one before did not fill the page:
 * - the newest `walk` messages below the cursor that the other filters leave (a stretch of the
 *   table, or of the column's index) are read and kept when in the window: a recent window (the
 *   usual question) fills its page there;
 * - the newest message of the rest of the window is found in one pass along the covering index
 *   `messages_updated` (updated_at, rowid), no sort (~0.07 µs an entry: 14 ms for 180,000), and
 *   the `walk` messages from it down are read the same way: an older window whose messages came
 *   together fills its page there. A window that holds most of the messages but not the newest
 *   finds that message by walking the list's rows down instead, when the rows above the window
 *   are estimated to cost less than the pass (sqliteWalkIsCheaper);
 * - the rest: with no other filter, the window's newest rowids below those, the same index and a
 *   sort of rowids (~0.2 µs an entry), and only their rows are read; with one, the column's index
 *   from there on, each row tested.
 */
async function windowPage(
  db: Kysely<Database>,
  f: MessageFilter & Page,
  columns: (eb: ExpressionBuilder<Database, 'messages'>) => Expression<SqlBool>,
  windowOnly: boolean,
  walk: number,
  bound?: 'walk' | 'pass',
): Promise<MessageRow[]> {
  const rows: MessageRow[] = [];
  const want = () => f.limit + 1 - rows.length;
  const top = await db
    .selectNoFrom(f.cursor !== undefined ? below(f.cursor).as('r') : sql<number | null>`(SELECT max(rowid) + 1 FROM messages)`.as('r'))
    .executeTakeFirstOrThrow();
  if (top.r === null) return rows;
  const window = (time: RawBuilder<unknown>) => windowTerms(f, time);
  // `+updated_at`: the table's or the column's own index, never the time index (which sorts)
  const inWindow = sql<SqlBool>`${sql.join(window(sql`+updated_at`), sql` AND `)}`;
  const newestFirst = (end: number) => db.selectFrom('messages').where(columns).where(sql.ref('rowid'), '<', end).orderBy(sql.ref('rowid'), 'desc');
  /** The rowid `walk` messages (that the other filters leave) below `end` reach down to; 0: the bottom. */
  const stretch = async (end: number) => {
    if (windowOnly) return Math.max(end - walk, 0); // rowids are dense: rows are only appended
    const last = await newestFirst(end)
      .select(sql<number>`rowid`.as('k'))
      .offset(walk - 1)
      .limit(1)
      .executeTakeFirst();
    return last === undefined ? 0 : Number(last.k);
  };
  /** Walks a stretch down from `end`; the rowid it reached, or null when the page is full or the table ends. */
  const walkFrom = async (end: number) => {
    const from = await stretch(end);
    rows.push(...(await newestFirst(end).selectAll().where(sql.ref('rowid'), '>=', from).where(inWindow).limit(want()).execute()));
    return want() <= 0 || from <= 1 ? null : from;
  };
  let end = await walkFrom(Number(top.r));
  if (end === null) return rows;
  /** The share of rowids the other filters leave, as that walk found it (1: a window alone). */
  const density = walk / Math.max(walk, Number(top.r) - end);
  // INDEXED BY: left to itself SQLite walks the table by rowid (no sort), which is the walk again
  const timeIndexBelow = (at: number) =>
    sql`messages INDEXED BY messages_updated WHERE ${sql.join([...window(sql`updated_at`), sql`rowid < ${at}`], sql` AND `)}`;
  const walkDown =
    bound === undefined
      ? isSet(f.until) && (await sqliteWalkIsCheaper(db, f, end, density * (windowOnly ? ROW_VS_ENTRY : FILTERED_ROW_VS_ENTRY)))
      : bound === 'walk';
  const newest = walkDown
    ? ((await newestFirst(end)
        .select(sql<number>`rowid`.as('m'))
        .where(inWindow)
        .limit(1)
        .executeTakeFirst()) ?? { m: null })
    : await db.selectNoFrom(sql<number | null>`(SELECT max(rowid) FROM ${timeIndexBelow(end)})`.as('m')).executeTakeFirstOrThrow();
  if (newest.m === null) return rows;
  end = await walkFrom(Number(newest.m) + 1);
  if (end === null) return rows;
  const rest = windowOnly
    ? await db
        .selectFrom('messages')
        .selectAll()
        .where(sql.ref('rowid'), 'in', sql`(SELECT rowid FROM ${timeIndexBelow(end)} ORDER BY rowid DESC LIMIT ${want()})`)
        .orderBy(sql.ref('rowid'), 'desc')
        .execute()
    : await newestFirst(end).selectAll().where(inWindow).limit(want()).execute();
  return [...rows, ...rest];
}

/**
 * What walking down costs a row, against an entry of the pass along `messages_updated` (0.065 µs
 * on the growth database): the table's in rowid order 0.2 µs, a column's index's (each row read to
 * test its time) 0.5 µs a row it holds.
 */
const ROW_VS_ENTRY = 3;
const FILTERED_ROW_VS_ENTRY = 8;

/**
 * Whether the newest message of a window below `end` is cheaper found by walking the list's rows
 * down (the table's, or a column's index) than by the pass along the time index (windowPage): the
 * rows above the window, times `rowCost` (the share of rows the list's filters leave, by what
 * they cost against an entry of the pass), against the entries inside it; both counts estimated
 * from where the window's ends fall among the messages' first sights (`messages_created`: rowids
 * are dense and given in that order, so two seeks, no count). A window of 90 % of the growth
 * database's time that leaves out its newest 5 %: 113 ms by the pass, 17 ms walked; a tenth in
 * its middle: 17 ms by the pass, 123 ms walked. A wrong guess costs that time, never a wrong
 * answer: both ways give the same message.
 */
async function sqliteWalkIsCheaper(db: Kysely<Database>, f: MessageFilter, end: number, rowCost: number): Promise<boolean> {
  const firstSince = async (time: string | undefined) => {
    if (!isSet(time)) return 1;
    const row = await db
      .selectFrom('messages')
      .select(sql<number>`rowid`.as('r'))
      .where('created_at', '>=', time!)
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? end : Math.min(Number(row.r), end);
  };
  const [from, to] = await Promise.all([firstSince(f.since), firstSince(f.until)]);
  return (end - to) * rowCost < to - from;
}

/**
 * The messages a list with a time window walks newest first in key order before it bounds the
 * window (keyWindowPage): each is a row read to test its time (~2 µs), where the bounds cost a pass
 * along the time index (SQLite ~0.08 µs an entry: 18 ms for a tenth of the growth database's
 * messages; PostgreSQL 45-50 ms).
 */
const KEY_WALK = 200;

/** A window's conditions on `time` (one at least: the callers have a since or an until). */
function windowTerms(f: MessageFilter, time: RawBuilder<unknown>) {
  return [...(isSet(f.since) ? [sql`${time} >= ${f.since}`] : []), ...(isSet(f.until) ? [sql`${time} < ${f.until}`] : [])];
}

/**
 * A page of messages whose last change falls in a window, newest first in key order: a
 * recipient's on SQLite, any filter's on PostgreSQL. The index a list walks (the recipient's
 * (recipient, id), a column's, the key's) has the list's order but not the window: walking it from
 * the newest message tested every message above an old window (SQLite: 140 ms for a number with
 * 200,000 messages of the growth database; PostgreSQL: 236-427 ms for a window alone or that
 * number's, 104 ms for Aliyun's failures, at 2 M messages). So: the newest `walk` messages below
 * the cursor are read and kept when in the window (a recent window fills its page there); then the
 * window's messages are bounded in key order, their lowest and highest key found in one pass along
 * the time index `messages_updated`, and only the messages between those keys are walked, each
 * tested.
 */
async function keyWindowPage(
  db: Kysely<Database>,
  f: MessageFilter & Page,
  columns: (eb: ExpressionBuilder<Database, 'messages'>) => Expression<SqlBool>,
  walk: number,
  bound?: 'walk' | 'pass',
): Promise<MessageRow[]> {
  const inWindow = sql<SqlBool>`${sql.join(windowTerms(f, sql`updated_at`), sql` AND `)}`;
  /** The list's messages below `key`, newest first. */
  const listedBelow = (key: string | undefined) =>
    db
      .selectFrom('messages')
      .where(columns)
      .where((eb) => matching(eb, [['id', '<', key]]))
      .orderBy('id', 'desc');
  const edge = await listedBelow(f.cursor)
    .select('id')
    .offset(walk - 1)
    .limit(1)
    .executeTakeFirst();
  const rows = await listedBelow(f.cursor)
    .selectAll()
    .where((eb) => matching(eb, [['id', '>=', edge?.id]]))
    .where(inWindow)
    .limit(f.limit + 1)
    .execute();
  if (rows.length > f.limit || edge === undefined) return rows;
  const bounds = isPostgres(db) ? await postgresBounds(db, f, columns, inWindow, bound) : await sqliteBounds(db, inWindow);
  if (bounds === null) return rows;
  const rest = await listedBelow(edge.id)
    .selectAll()
    .where((eb) =>
      matching(eb, [
        ['id', '>=', bounds.lo],
        ['id', '<=', bounds.hi],
      ]),
    )
    .where(inWindow)
    .limit(f.limit + 1 - rows.length)
    .execute();
  return [...rows, ...rest];
}

/** The lowest and highest key of a window's messages (keyWindowPage); null: the window holds none. */
type Bounds = { lo: string; hi: string } | null;

/**
 * SQLite: one pass along the covering time index (updated_at, rowid) for both ends, and rowid
 * order is key order (listMessages); named: the planner keeps no statistics here.
 */
async function sqliteBounds(db: Kysely<Database>, terms: RawBuilder<unknown>): Promise<Bounds> {
  const [{ lo, hi }] = (
    await sql<{
      lo: string | null;
      hi: string | null;
    }>`SELECT (SELECT id FROM messages WHERE rowid = s.lo) AS lo, (SELECT id FROM messages WHERE rowid = s.hi) AS hi
      FROM (SELECT min(rowid) AS lo, max(rowid) AS hi FROM messages INDEXED BY messages_updated WHERE ${terms}) s`.execute(db)
  ).rows;
  return lo === null || hi === null ? null : { lo, hi };
}

/** PostgreSQL's estimate of the rows a query reads (its plan's top row count, from its statistics). */
async function estimatedRows(db: Kysely<Database>, query: { sql: string; parameters: readonly unknown[] }): Promise<number> {
  const plan = await db.executeQuery<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
    CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]),
  );
  return plan.rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
}

/**
 * How much more a row walked along the key's index costs than an entry of the pass along the
 * window (its `id_order`, migration 0018): on the 2 M growth database 0.25-0.29 µs a row against
 * 0.06-0.07 µs an entry, for windows of 10-90 % of its time.
 */
const KEY_ROW_VS_ENTRY = 4;
/**
 * How much more a row walked along a filter's index costs than one along the key's, when the
 * filter's rows are few: each lies on a page of its own (the common number's, 4.8 µs a row against
 * 0.3). A filter that keeps most messages reads most pages, as the key's walk does: its walk is
 * counted as at most that (Aliyun's messages, 99 % of the growth database's, walked in 24-37 ms
 * over a wide window the pass took 96-111 ms for).
 */
const FILTERED_WALK = 16;
const filtered = (f: MessageFilter) => [f.provider, f.account, f.status, f.recipient, f.stale].some(isSet);

/** Whether walking from the edge is estimated to cost less than a pass along the window (postgresBounds). */
async function walkIsCheaper(
  db: Kysely<Database>,
  f: MessageFilter,
  columns: (eb: ExpressionBuilder<Database, 'messages'>) => Expression<SqlBool>,
  terms: RawBuilder<unknown>,
): Promise<boolean> {
  if (!isSet(f.until)) return true; // the newest messages are the window's
  const after = db
    .selectFrom('messages')
    .select(sql`1`.as('x'))
    .where('created_at', '>=', f.until!);
  const walked = await estimatedRows(db, after.where(columns).compile());
  const walkCost = filtered(f) ? Math.min(walked * FILTERED_WALK, await estimatedRows(db, after.compile())) : walked;
  return walkCost * KEY_ROW_VS_ENTRY < (await estimatedRows(db, sql`SELECT 1 FROM messages WHERE ${terms}`.compile(db)));
}

/**
 * PostgreSQL: bounding the window costs a pass along its entries in the time index, reading each
 * one's `id_order` (~0.06 µs an entry on the growth database; the ids' text took ~0.25: migration
 * 0018); walking the list's index from the cursor costs a row read for each of the list's messages
 * made after the window ends (~0.27 µs along the key's index, ~5 along a filter's), as those come
 * first in key order. Either can be the larger: a tenth of the build's time in its middle, bounded,
 * 23 ms against 212 walked; 90 % of it without its newest 5 %, 111 against 25. So the planner's
 * estimates of both (its statistics, no rows read) choose: a walk from the edge as it is
 * ({ lo: undefined }), or the pass (OFFSET 0 keeps PostgreSQL from answering min and max by
 * walking the key's index from each end, testing every row's time: 530 ms for that tenth).
 */
async function postgresBounds(
  db: Kysely<Database>,
  f: MessageFilter,
  columns: (eb: ExpressionBuilder<Database, 'messages'>) => Expression<SqlBool>,
  terms: RawBuilder<unknown>,
  bound: 'walk' | 'pass' | undefined,
): Promise<Bounds | { lo: undefined; hi: undefined }> {
  if (bound === undefined ? await walkIsCheaper(db, f, columns, terms) : bound === 'walk') return { lo: undefined, hi: undefined };
  const [order] = (
    await sql<{
      lo: string | null;
      hi: string | null;
      unordered: string;
    }>`SELECT min(id_order) AS lo, max(id_order) AS hi, count(*) - count(id_order) AS unordered FROM (SELECT id_order FROM messages WHERE ${terms} OFFSET 0) s`.execute(
      db,
    )
  ).rows;
  if (order.unordered !== '0') return await postgresTextBounds(db, terms);
  // the lowest key of the lowest prefix is the prefix itself; the highest of the highest, the prefix and the alphabet's last character
  return order.lo === null || order.hi === null
    ? null
    : { lo: keyPrefixOf(BigInt(order.lo)), hi: `${keyPrefixOf(BigInt(order.hi))}${ULID_ALPHABET[31].repeat(26 - ID_ORDER_CHARS)}` };
}

/** The pass over the keys' text: for a window holding a message whose key has no `id_order` (migration 0018). */
async function postgresTextBounds(db: Kysely<Database>, terms: RawBuilder<unknown>): Promise<Bounds> {
  const [{ lo, hi }] = (
    await sql<{ lo: string | null; hi: string | null }>`SELECT min(id) AS lo, max(id) AS hi FROM (SELECT id FROM messages WHERE ${terms} OFFSET 0) s`.execute(
      db,
    )
  ).rows;
  return lo === null || hi === null ? null : { lo, hi };
}

/** The beginning every key whose `id_order` is `n` shares (migration 0018: the ULID's first ID_ORDER_CHARS characters read in base 32). */
function keyPrefixOf(n: bigint): string {
  let chars = '';
  for (let i = ID_ORDER_CHARS - 1; i >= 0; i -= 1) chars += ULID_ALPHABET[Number((n >> BigInt(5 * i)) & 31n)];
  return `msg_${chars}`;
}

export interface StatsFilter {
  provider?: string;
  account?: string;
  channel?: string;
  since?: string;
  until?: string;
}

/**
 * Counts by status of the messages first seen in the window, the delivery rate (delivered among
 * messages with a final status) and the most frequent failure codes. Summed from the rollups
 * (src/status/rollups.ts): milliseconds at any size.
 */
export async function stats(db: Kysely<Database>, f: StatsFilter) {
  const [rows, stale] = await onSnapshot(db, async (snap) => [await countMessages(snap, f), await countStale(snap, f)] as const);
  const counts: Record<string, number> = {};
  let total = 0;
  const errors = new Map<string, { provider: string; code: string; count: number }>();
  for (const r of rows) {
    const status = r.status === '' ? 'none' : r.status;
    counts[status] = (counts[status] ?? 0) + r.n;
    total += r.n;
    if (r.error_code !== '' && FAILURE_STATUSES.has(r.status)) {
      const id = `${r.provider}\u0000${r.error_code}`;
      const e = errors.get(id) ?? { provider: r.provider, code: r.error_code, count: 0 };
      e.count += r.n;
      errors.set(id, e);
    }
  }
  const delivered = counts.delivered ?? 0;
  const final = [...TERMINAL_STATUSES].reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  const top = [...errors.values()].sort(
    (x, y) => y.count - x.count || (x.code < y.code ? -1 : x.code > y.code ? 1 : 0) || (x.provider < y.provider ? -1 : x.provider > y.provider ? 1 : 0),
  );
  return {
    window: { since: f.since ?? null, until: f.until ?? null },
    total,
    by_status: counts,
    final,
    delivered,
    delivery_rate: final === 0 ? null : delivered / final,
    stale,
    top_error_codes: top.slice(0, TOP_ERROR_CODES),
  };
}

/** Stale messages first seen in the window: few, read through the partial index `messages_stale_created` (migration 0014). */
async function countStale(db: Kysely<Database>, f: StatsFilter): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('stale_at', 'is not', null)
    .where(firstSeenIn(db, f))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

import { sql, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { matching } from '../db/filters';
import { isPostgres } from '../db/sql';
import type { Database, RawRequestRow } from '../db/types';

export interface RawFilter {
  provider?: string;
  account?: string;
  verdict?: string;
  since?: string;
  until?: string;
  /** A message id or recipient that one of the request's reports named (masked forms match too). */
  q?: string;
  ids?: string[];
}

/**
 * A masked value as logs show it (`138******00`, `a***@example.com`): each run of `*` matches
 * anything (a `_` or `%` in the term is a LIKE wildcard too, which only widens the search). The
 * characters before the first `*` bound an index range; a term that starts with `*` has none and
 * walks the index whole (within server.readTimeoutSeconds).
 */
function maskedPattern(q: string): { like: string; prefix: string } | null {
  if (!q.includes('*')) return null;
  return { like: q.replace(/\*+/g, '%'), prefix: q.slice(0, q.indexOf('*')) };
}

/** The first string after every string that starts with `prefix` (its last character + 1). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The columns of a message a search term may name. */
export type NamedBy = 'message_id' | 'recipient';
const NAMED_BY: readonly NamedBy[] = ['message_id', 'recipient'];

/** The messages whose `column` a search term names, through that column's index. */
function namedBy(db: Kysely<Database>, term: string, column: NamedBy) {
  const pattern = maskedPattern(term);
  let q = db.selectFrom('messages').select('id');
  if (!pattern) return q.where(column, '=', term);
  if (pattern.prefix !== '') q = q.where(column, '>=', pattern.prefix).where(column, '<', prefixEnd(pattern.prefix));
  return q.where(column, 'like', pattern.like);
}

/**
 * The messages a search term names, through an index each: by message id (`messages_message_id`)
 * and by recipient (`messages_recipient_id`), united, never an OR over both columns (which no
 * index serves). The requests found are then sorted newest first: only those that named the term.
 */
function messagesNamed(db: Kysely<Database>, term: string) {
  return namedBy(db, term, 'message_id').unionAll(namedBy(db, term, 'recipient')); // ALL: no merge sort, a repeat changes nothing in an IN list
}

/**
 * Whether one of a raw request's reports names the term by one of `columns` (those the planner
 * found it in), asked of each request as a walk of the log meets it. An exact term: each report's
 * message is probed in the column's own index, (column, message key) — on SQLite named (`INDEXED
 * BY`: left to itself it takes the messages' key and then the row, a third more B-tree descents,
 * 40 against 25 ms for a walk through 16,000 single-report requests). A masked term is matched
 * with LIKE on the message's row.
 */
export function namesTerm(db: Kysely<Database>, term: string, columns: readonly NamedBy[] = NAMED_BY) {
  const pattern = maskedPattern(term);
  if (pattern) {
    return (eb: ExpressionBuilder<Database, 'raw_requests'>) =>
      eb.exists(
        eb
          .selectFrom('reports')
          .innerJoin('messages', 'messages.id', 'reports.message_pk')
          .select(sql.lit(1).as('one'))
          .whereRef('reports.raw_id', '=', 'raw_requests.id')
          .where((m) => m.or(columns.map((c) => m(`messages.${c}`, 'like', pattern.like)))),
      );
  }
  const sqlite = !isPostgres(db);
  const probes = columns.map(
    (c) =>
      sql`EXISTS (SELECT 1 FROM messages m ${sqlite ? sql.raw(`INDEXED BY ${c === 'recipient' ? 'messages_recipient_id' : 'messages_message_id'} `) : sql``}WHERE m.${sql.ref(c)} = ${term} AND m.id = p.message_pk)`,
  );
  return () => sql<SqlBool>`EXISTS (SELECT 1 FROM reports p WHERE p.raw_id = raw_requests.id AND (${sql.join(probes, sql` OR `)}))`;
}

/**
 * A search (`q`) finds a page of raw requests, newest first, one of two ways, each fast where the
 * other is slow (2 M-message growth database, SQLite, a page of 50; c = the messages the term names):
 *  - `index`: every raw request that named one of the term's messages, through the indexes
 *    (`filtered`), then sorted: ~6 µs per message named, so 0.3 ms for a number with 184 messages,
 *    30 ms for 5,000, 870 ms for 490,000;
 *  - `walk`: the log newest first, keeping each request whose reports name the term (`namesTerm`):
 *    ~1 µs per report looked at, and a page looks at about (limit + 1) × messages ÷ c of them:
 *    0.3 ms for 490,000, 5 ms for 20,000, 23 ms for 5,000, but 330 ms for 184.
 * The term's messages are counted (along an index, up to where the answer is clear) and the walk
 * is taken when its expected cost is the lower. That expectation holds when the term's requests
 * are spread over the log; when they are older than most of it, the walk gives up after looking at
 * as many reports as the index way costs (`budget`, in reports) and the rest of the page comes the
 * index way: a search costs at most about twice the cheaper of the two. `first` is the walk's
 * first stretch, in requests: twice what fills a page when a request holds the log's average
 * number of reports. `columns`: those the term was found in (both when unset).
 */
export type SearchPlan = { way: 'index' } | { way: 'walk'; first: number; budget: number; columns?: readonly NamedBy[] };

/**
 * The time of a message named the index way over that of a report looked at by a walk: SQLite
 * ~6 µs over ~1 µs (measured as above), PostgreSQL ~2–5 µs over ~3.5 µs (400,000 messages in
 * requests of 20 reports: 7.7 ms the index way for a number with 4,000 messages, 18 ms walking).
 */
const COST_RATIO = { sqlite: 6, postgres: 1 };

export async function planSearch(db: Kysely<Database>, term: string, limit: number): Promise<SearchPlan> {
  const { messages, requests } = await logSize(db);
  if (messages <= 0 || requests <= 0) return { way: 'index' };
  const ratio = COST_RATIO[isPostgres(db) ? 'postgres' : 'sqlite'];
  // the walk is the cheaper from sqrt((limit + 1) × messages ÷ ratio) messages on: counting twice
  // that many by each column (along its index, a few ms at most) tells the two apart
  const cap = Math.ceil(2 * Math.sqrt(((limit + 1) * messages) / ratio));
  const counted = await db
    .selectNoFrom((eb) =>
      NAMED_BY.map((column) =>
        eb
          .selectFrom(namedBy(db, term, column).limit(cap).as('named'))
          .select((e) => e.fn.countAll<number | string>().as('n'))
          .as(column),
      ),
    )
    .executeTakeFirstOrThrow();
  const columns = NAMED_BY.filter((column) => Number(counted[column]) > 0);
  const c = NAMED_BY.reduce((sum, column) => sum + Number(counted[column]), 0);
  const reportsPerPage = ((limit + 1) * messages) / c; // reports a walk looks at to fill a page
  const budget = ratio * c; // the index way's cost, in reports looked at
  if (c === 0 || reportsPerPage >= budget) return { way: 'index' };
  return { way: 'walk', first: Math.max(limit + 1, Math.ceil((2 * reportsPerPage * requests) / messages)), budget, columns };
}

/**
 * About how many messages and raw requests the database holds, at no cost: SQLite's largest rowid
 * (the raw log's counts the purged too, which only makes the walk's budget larger), PostgreSQL's
 * planner estimate (0 or -1 before the first ANALYZE: the index way is taken then).
 */
async function logSize(db: Kysely<Database>): Promise<{ messages: number; requests: number }> {
  const row = isPostgres(db)
    ? await sql<{ messages: number; requests: number }>`SELECT (SELECT reltuples FROM pg_class WHERE oid = 'messages'::regclass) AS messages,
        (SELECT reltuples FROM pg_class WHERE oid = 'raw_requests'::regclass) AS requests`.execute(db)
    : await sql<{
        messages: number;
        requests: number;
      }>`SELECT (SELECT max(rowid) FROM messages) AS messages, (SELECT max(rowid) FROM raw_requests) AS requests`.execute(db);
  const { messages, requests } = row.rows[0];
  return { messages: Number(messages ?? 0), requests: Number(requests ?? 0) };
}

/** The matching rows, nothing selected yet: a list selects the start of each body, replay and export the whole row. */
export function filtered(db: Kysely<Database>, f: RawFilter) {
  let q = db.selectFrom('raw_requests').where((eb) =>
    matching(eb, [
      ['provider', '=', f.provider],
      ['account', '=', f.account],
      ['verdict', '=', f.verdict],
      ['received_at', '>=', f.since],
      ['received_at', '<', f.until],
      ['id', 'in', f.ids],
    ]),
  );
  if (f.q) {
    const term = f.q;
    q = q.where('id', 'in', (eb) => eb.selectFrom('reports').select('raw_id').where('message_pk', 'in', messagesNamed(db, term)));
  }
  return q;
}

/**
 * Matching raw requests, oldest first, a batch at a time (replay and export walk the log this way).
 * A search (`q`) goes the way planSearch chooses for a batch: through the indexes, which find the
 * term's requests anew for each batch, or, for a term in many messages, asking each request of
 * the log in turn (`namesTerm`), one pass in all: an export of a number in 200,000 of 2 M
 * messages would otherwise take about a second per batch of 200.
 */
export async function* walkRaw(db: Kysely<Database>, f: RawFilter, max: number, batch = 200, plan?: SearchPlan): AsyncGenerator<RawRequestRow> {
  const way = f.q ? (plan ?? (await planSearch(db, f.q, batch))) : null;
  const requests = f.q && way?.way === 'walk' ? filtered(db, { ...f, q: undefined }).where(namesTerm(db, f.q, way.columns)) : filtered(db, f);
  let after = '';
  let yielded = 0;
  while (yielded < max) {
    const rows = await requests
      .selectAll()
      .where('id', '>', after)
      .orderBy('id', 'asc')
      .limit(Math.min(batch, max - yielded))
      .execute();
    if (rows.length === 0) return;
    for (const row of rows) yield row;
    yielded += rows.length;
    after = rows[rows.length - 1].id;
  }
}

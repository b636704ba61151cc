import { createInflateRaw } from 'node:zlib';
import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { matching } from '../db/filters';
import { encodeCursor, type Page } from '../db/paging';
import type { Database } from '../db/types';
import { NotFound } from '../errors';
import { rebuildEvents } from '../status/event-history';
import { readHistoryRow } from '../status/stored-form';
import { filtered, namesTerm, planSearch, type RawFilter, type SearchPlan } from './filter';
import { DEFLATED_HEAD_BYTES, DETAIL_PREVIEW_CHARS, RAW_PREVIEW_BYTES, rawListView, rawView, type RawListRow } from './view';

/** The read API's queries of the raw log (GET /v1/raw, /v1/raw/:id, /v1/raw/:id/body). */

/**
 * Raw requests, newest first, each as rawListView shows it. The database hands over only the start
 * of each body and detail (`substr`: bytes of a BLOB on SQLite, of a bytea on PostgreSQL), so a
 * page costs this process memory by its number of rows, not by the size of their bodies. (SQLite
 * still reads each body's pages inside the query — for `substr`, and for the columns stored after
 * `body` — about 1 s for 500 bodies of 1 MiB; bodies in a table of their own would end that.)
 */
export async function listRaw(db: Kysely<Database>, f: RawFilter & Page, plan?: SearchPlan) {
  const want = f.limit + 1;
  const way = f.q ? (plan ?? (await planSearch(db, f.q, f.limit))) : null;
  const rows = f.q && way?.way === 'walk' ? await walkNewest(db, f, f.q, want, way) : await newest(filtered(db, f), f.cursor, want);
  const page = rows.slice(0, f.limit);
  return { items: page.map(rawListView), next_cursor: rows.length > f.limit ? encodeCursor(page[page.length - 1].id) : null };
}

/** Up to `n` of the rows `q` matches below `below` (a cursor), newest first, as a list shows them. */
function newest(q: ReturnType<typeof filtered>, below: string | undefined, n: number): Promise<RawListRow[]> {
  return q
    .select([
      'id',
      'provider',
      'account',
      'method',
      'url',
      'headers',
      'body_size',
      'remote_addr',
      'received_at',
      'verdict',
      sql<string | null>`substr(detail, 1, ${sql.lit(DETAIL_PREVIEW_CHARS + 1)})`.as('detail'),
      'body_encoding',
      // SQLite answers NULL for a part of an empty BLOB
      sql<Buffer | null>`substr(body, 1, CASE WHEN body_encoding IS NULL THEN ${sql.lit(RAW_PREVIEW_BYTES + 1)} ELSE ${sql.lit(DEFLATED_HEAD_BYTES)} END)`.as(
        'body_head',
      ),
    ])
    .where((eb) => matching(eb, [['id', '<', below]]))
    .orderBy('id', 'desc')
    .limit(n)
    .execute();
}

/**
 * The first `want` requests a search names, walking the log as planSearch chose: a stretch at a
 * time, newest first, `plan.first` requests, then four times as many each time, until the page is
 * full, the log ends, or the reports of the stretches looked at reach `plan.budget`; below what it
 * looked at, the rest of the page comes through the indexes.
 */
async function walkNewest(
  db: Kysely<Database>,
  f: RawFilter & Page,
  term: string,
  want: number,
  plan: Extract<SearchPlan, { way: 'walk' }>,
): Promise<RawListRow[]> {
  const log = filtered(db, { ...f, q: undefined });
  const found: RawListRow[] = [];
  let below = f.cursor;
  let looked = 0;
  for (let stretch = plan.first; looked < plan.budget; stretch *= 4) {
    // the oldest request of this stretch (none: the log ends within it)
    const edge = await log
      .select('id')
      .where((eb) => matching(eb, [['id', '<', below]]))
      .orderBy('id', 'desc')
      .limit(1)
      .offset(stretch - 1)
      .executeTakeFirst();
    const named = log.where(namesTerm(db, term, plan.columns)).where((eb) => matching(eb, [['id', '>=', edge?.id]]));
    found.push(...(await newest(named, below, want - found.length)));
    if (found.length >= want || !edge) return found;
    // what the stretch cost: its reports (counted along reports_raw, a small part of looking at them)
    const reports = await db
      .selectFrom('reports')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where((eb) =>
        matching(eb, [
          ['raw_id', '>=', edge.id],
          ['raw_id', '<', below],
        ]),
      )
      .executeTakeFirstOrThrow();
    looked += Number(reports.n);
    below = edge.id;
  }
  return found.concat(await newest(filtered(db, f), below, want - found.length));
}

/** One raw request with the events it produced. */
export async function getRaw(db: Kysely<Database>, id: string) {
  // the request, its stored events and its reports, asked together (on SQLite each is a read-thread
  // query of its own: in turn, each waited behind the other readers' queries)
  const [row, events, reportRows] = await Promise.all([
    db.selectFrom('raw_requests').selectAll().where('id', '=', id).executeTakeFirst(),
    db.selectFrom('events').select(['id', 'payload']).where('raw_id', '=', id).orderBy('id').execute(),
    db.selectFrom('reports').selectAll().where('raw_id', '=', id).execute(),
  ]);
  if (!row) throw new NotFound('raw request', id, 'GET /v1/raw lists the stored requests (those older than retention.rawDays are purged)');
  // events a subscription took are stored; the others are rebuilt from the history (event-history.ts)
  const stored = events.map((e) => ({ id: e.id, event: JSON.parse(e.payload) as unknown }));
  const have = new Set(stored.map((e) => e.id));
  const reports = reportRows.map(readHistoryRow);
  const rebuilt = (
    await rebuildEvents(
      db,
      reports.filter((r) => !have.has(r.event_id ?? '')),
    )
  ).map((e) => ({ id: e.id, event: e }));
  const all = [...stored, ...rebuilt].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ...rawView(row), events: all.map((e) => e.event) };
}

/**
 * How much of a body one query reads when GET /v1/raw/:id/body streams it: a body within the default
 * limit (1 MiB) takes one query. (A larger `server.bodyLimitBytes` takes a query per chunk, and each
 * makes SQLite read the whole BLOB again: the price of holding one chunk instead of one body.)
 */
export const RAW_BODY_CHUNK_BYTES = 1024 * 1024;

export interface RawBody {
  /** The request's own Content-Type header, if it had one. */
  contentType: string | undefined;
  size: number;
  /** The stored bytes, RAW_BODY_CHUNK_BYTES at a time (a purge meanwhile ends them with an error). */
  chunks: AsyncGenerator<Buffer>;
}

/** The exact stored bytes of a raw request, read a chunk per query: memory stays at one chunk whatever the body limit. */
export async function openRawBody(db: Kysely<Database>, id: string): Promise<RawBody> {
  const chunkAt = (offset: number) => sql<Buffer | null>`substr(body, ${sql.lit(offset + 1)}, ${sql.lit(RAW_BODY_CHUNK_BYTES)})`;
  const first = await db
    .selectFrom('raw_requests')
    .select(['headers', 'body_size', 'body_encoding', sql<number | string>`length(body)`.as('stored'), chunkAt(0).as('chunk')])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!first) throw new NotFound('raw request', id, 'GET /v1/raw lists the stored requests (those older than retention.rawDays are purged)');
  const stored = Number(first.stored);
  const head = first.chunk;
  async function* storedChunks(): AsyncGenerator<Buffer> {
    if (head && head.length > 0) yield Buffer.from(head);
    for (let offset = RAW_BODY_CHUNK_BYTES; offset < stored; offset += RAW_BODY_CHUNK_BYTES) {
      const row = await db.selectFrom('raw_requests').select(chunkAt(offset).as('chunk')).where('id', '=', id).executeTakeFirst();
      if (!row?.chunk) throw new Error(`raw request ${id} went away while its body was read`);
      yield Buffer.from(row.chunk);
    }
  }
  // a deflated body is inflated as it streams: memory stays at a chunk either way
  async function* inflated(): AsyncGenerator<Buffer> {
    const inflate = createInflateRaw();
    const input = Readable.from(storedChunks());
    input.on('error', (err) => inflate.destroy(err));
    for await (const chunk of input.pipe(inflate)) yield chunk as Buffer;
  }
  const headers = JSON.parse(first.headers) as Record<string, string>;
  return { contentType: headers['content-type'], size: first.body_size, chunks: first.body_encoding === 'deflate' ? inflated() : storedChunks() };
}

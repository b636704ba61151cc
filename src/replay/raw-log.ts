import iconv from 'iconv-lite';
import { NotFound } from '../errors';
import { charsetOf } from '../providers/decode';
import { redactHeaders, redactUrl } from '../util/mask';
import { encodeCursor } from '../util/paging';
import { sql, type Kysely, type Transaction } from 'kysely';
import { Statement } from '../db/sql';
import type { Database, RawRequestRow } from '../db/types';
import type { RawCallback } from '../providers/types';
import { iso } from '../util/time';

const insertRawRequest = new Statement(
  'INSERT INTO raw_requests (id, provider, account, method, url, headers, body, body_size, remote_addr, received_at, verdict, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
);

/** Writes a raw request with its verdict: every request that reached a known provider route. */
export async function insertRaw(
  db: Kysely<Database> | Transaction<Database>,
  raw: RawCallback,
  verdict: string,
  detail: string | null,
): Promise<void> {
  await insertRawRequest.run(db, [
    raw.id,
    raw.provider,
    raw.account,
    raw.method,
    raw.url,
    JSON.stringify(raw.headers),
    raw.body,
    raw.body.length,
    raw.remoteAddr,
    iso(raw.receivedAt),
    verdict,
    detail,
  ]);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text when it decodes in its declared charset (GBK included), else base64. A `partial`
 * body (the start of one) may end inside a character: streaming decoders keep that sequence back
 * instead of failing on it.
 */
export function bodyView(body: Buffer, headers: Record<string, string>, partial = false): { encoding: 'text' | 'base64'; content: string } {
  const charset = charsetOf(headers['content-type']);
  try {
    if (charset !== 'utf-8' && charset !== 'utf8' && iconv.encodingExists(charset)) return { encoding: 'text', content: partial ? iconv.getDecoder(charset).write(body) : iconv.decode(body, charset) };
    return { encoding: 'text', content: partial ? new TextDecoder('utf-8', { fatal: true }).decode(body, { stream: true }) : strictUtf8.decode(body) };
  } catch {
    return { encoding: 'base64', content: body.toString('base64') };
  }
}

/**
 * How much of each body a list shows (GET /v1/raw): a page of 500 requests of 1 MiB each is under
 * a megabyte instead of a third of a gigabyte. The whole body: GET /v1/raw/:id and
 * GET /v1/raw/:id/body.
 */
export const RAW_PREVIEW_BYTES = 1024;
/** How much of a verdict's detail a list shows (details made before they were cut may quote a whole field). */
export const DETAIL_PREVIEW_CHARS = 1024;

/**
 * The first RAW_PREVIEW_BYTES of a body, as bodyView shows a whole one: `head` holds one byte more
 * when there is more, and then text is cut before a character the preview holds only part of.
 */
export function bodyPreview(head: Buffer, headers: Record<string, string>): { encoding: 'text' | 'base64'; content: string; truncated: boolean } {
  const truncated = head.length > RAW_PREVIEW_BYTES;
  return { ...bodyView(truncated ? head.subarray(0, RAW_PREVIEW_BYTES) : head, headers, truncated), truncated };
}

function view<B>(row: Omit<RawRequestRow, 'body'>, headers: Record<string, string>, body: B) {
  return {
    id: row.id,
    provider: row.provider,
    account: row.account,
    method: row.method,
    url: redactUrl(row.url),
    headers: redactHeaders(headers),
    body,
    body_size: row.body_size,
    remote_addr: row.remote_addr,
    verdict: row.verdict,
    detail: row.detail,
    received_at: row.received_at,
  };
}

/** One raw request with its whole body (`{ encoding, content }`). */
export function rawView(row: RawRequestRow) {
  const headers = JSON.parse(row.headers) as Record<string, string>;
  return view(row, headers, bodyView(Buffer.from(row.body), headers));
}

/** A list's row: the body's first bytes (`body_head`, see bodyPreview) and the start of the detail, never more. */
type RawListRow = Omit<RawRequestRow, 'body'> & { body_head: Buffer | null };

/**
 * A raw request as a list shows it: `body` is a preview (`{ encoding, content, truncated }`, the
 * first RAW_PREVIEW_BYTES), `body_size` the whole body's size, `detail` at most
 * DETAIL_PREVIEW_CHARS (then "…"). An item is bounded: URL and headers by node's 16 KiB limit on
 * them, the preview and the detail by these constants (a few KB as JSON even when escaped).
 */
function rawListView(row: RawListRow) {
  const headers = JSON.parse(row.headers) as Record<string, string>;
  const detail = row.detail !== null && row.detail.length > DETAIL_PREVIEW_CHARS ? `${row.detail.slice(0, DETAIL_PREVIEW_CHARS)}…` : row.detail;
  return view({ ...row, detail }, headers, bodyPreview(row.body_head ? Buffer.from(row.body_head) : Buffer.alloc(0), headers));
}

export interface RawFilter {
  provider?: string;
  account?: string;
  verdict?: string;
  since?: string;
  until?: string;
  /** A message id or recipient that one of the request's reports named (masked forms match too). */
  q?: string;
  ids?: string[];
  cursor?: string;
  limit: number;
}

/**
 * A masked value as logs show it (`138******00`, `a***@example.com`): each run of `*` matches
 * anything (a `_` or `%` in the term is a LIKE wildcard too, which only widens the search).
 */
function maskedPattern(q: string): string | null {
  return q.includes('*') ? q.replace(/\*+/g, '%') : null;
}

/** The matching rows, nothing selected yet: a list selects the start of each body, replay and export the whole row. */
function filtered(db: Kysely<Database>, f: Omit<RawFilter, 'cursor' | 'limit'>) {
  let q = db.selectFrom('raw_requests');
  if (f.provider) q = q.where('provider', '=', f.provider);
  if (f.account) q = q.where('account', '=', f.account);
  if (f.verdict) q = q.where('verdict', '=', f.verdict);
  if (f.since) q = q.where('received_at', '>=', f.since);
  if (f.until) q = q.where('received_at', '<', f.until);
  if (f.ids && f.ids.length > 0) q = q.where('id', 'in', f.ids);
  if (f.q) {
    const term = f.q;
    const pattern = maskedPattern(term);
    q = q.where('id', 'in', (eb) =>
      eb
        .selectFrom('reports')
        .innerJoin('messages', 'messages.id', 'reports.message_pk')
        .select('reports.raw_id')
        .where((w) =>
          pattern
            ? w.or([w('messages.message_id', 'like', pattern), w('messages.recipient', 'like', pattern)])
            : w.or([w('messages.message_id', '=', term), w('messages.recipient', '=', term)]),
        ),
    );
  }
  return q;
}

/**
 * Raw requests, newest first, each as rawListView shows it. The database hands over only the start
 * of each body and detail (`substr`: bytes of a BLOB on SQLite, of a bytea on PostgreSQL), so a
 * page costs this process memory by its number of rows, not by the size of their bodies. (SQLite
 * still reads each body's pages inside the query — for `substr`, and for the columns stored after
 * `body` — about 1 s for 500 bodies of 1 MiB; bodies in a table of their own would end that.)
 */
export async function listRaw(db: Kysely<Database>, f: RawFilter) {
  let q = filtered(db, f).select([
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
    // SQLite answers NULL for a part of an empty BLOB
    sql<Buffer | null>`substr(body, 1, ${sql.lit(RAW_PREVIEW_BYTES + 1)})`.as('body_head'),
  ]);
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows: RawListRow[] = await q.orderBy('id', 'desc').limit(f.limit + 1).execute();
  const page = rows.slice(0, f.limit);
  return { items: page.map(rawListView), next_cursor: rows.length > f.limit ? encodeCursor(page[page.length - 1]!.id) : null };
}

/** Matching raw requests, oldest first, a batch at a time (replay and export walk the log this way). */
export async function* walkRaw(db: Kysely<Database>, f: Omit<RawFilter, 'cursor' | 'limit'>, max: number, batch = 200): AsyncGenerator<RawRequestRow> {
  let after = '';
  let yielded = 0;
  while (yielded < max) {
    const rows = await filtered(db, f)
      .selectAll()
      .where('id', '>', after)
      .orderBy('id', 'asc')
      .limit(Math.min(batch, max - yielded))
      .execute();
    if (rows.length === 0) return;
    for (const row of rows) yield row;
    yielded += rows.length;
    after = rows[rows.length - 1]!.id;
  }
}

/** The stored request as the pipeline takes it. */
export function rawFromRow(row: RawRequestRow): RawCallback {
  return {
    id: row.id,
    provider: row.provider,
    account: row.account,
    method: row.method,
    url: row.url,
    headers: JSON.parse(row.headers) as Record<string, string>,
    body: Buffer.from(row.body),
    remoteAddr: row.remote_addr,
    receivedAt: new Date(row.received_at),
  };
}

const setVerdict = new Statement('UPDATE raw_requests SET verdict = ?, detail = ? WHERE id = ?');

export async function updateVerdict(db: Kysely<Database> | Transaction<Database>, id: string, verdict: string, detail: string | null): Promise<void> {
  await setVerdict.run(db, [verdict, detail, id]);
}

/** One raw request with the events it produced. */
export async function getRaw(db: Kysely<Database>, id: string) {
  const row = await db.selectFrom('raw_requests').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('raw request');
  const events = await db.selectFrom('events').select('payload').where('raw_id', '=', id).orderBy('id').execute();
  return { ...rawView(row), events: events.map((e) => JSON.parse(e.payload) as unknown) };
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
    .select(['headers', sql<number | string>`length(body)`.as('size'), chunkAt(0).as('chunk')])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!first) throw new NotFound('raw request');
  const size = Number(first.size);
  const head = first.chunk;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (head && head.length > 0) yield Buffer.from(head);
    for (let offset = RAW_BODY_CHUNK_BYTES; offset < size; offset += RAW_BODY_CHUNK_BYTES) {
      const row = await db.selectFrom('raw_requests').select(chunkAt(offset).as('chunk')).where('id', '=', id).executeTakeFirst();
      if (!row?.chunk) throw new Error(`raw request ${id} went away while its body was read`);
      yield Buffer.from(row.chunk);
    }
  }
  const headers = JSON.parse(first.headers) as Record<string, string>;
  return { contentType: headers['content-type'], size, chunks: chunks() };
}

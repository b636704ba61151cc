import { createInflateRaw, constants as zlib, deflateRawSync, inflateRawSync } from 'node:zlib';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { NotFound } from '../errors';
import { charsetOf } from '../providers/decode';
import { redactHeaders, redactUrl } from '../util/mask';
import { encodeCursor } from '../util/paging';
import { sql, type Kysely, type Transaction } from 'kysely';
import { Statement } from '../db/sql';
import type { Database, RawRequestRow } from '../db/types';
import type { RawCallback } from '../providers/types';
import { rebuildEvents } from '../status/event-history';
import { iso } from '../util/time';

const insertRawRequest = new Statement(
  'INSERT INTO raw_requests (id, provider, account, method, url, headers, body, body_size, remote_addr, received_at, verdict, detail, body_encoding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
);

/** Bodies shorter than this are stored as they are (deflating a few hundred bytes saves little). */
const DEFLATE_MIN_BYTES = 256;
/** zlib's fastest level: a 100-report JSON batch shrinks about fivefold in tens of microseconds. */
const DEFLATE_LEVEL = 1;

/**
 * How a body is stored: raw-deflated when that saves a tenth or more (provider batches are
 * repetitive JSON or XML), else as received. Every reader gets the exact bytes back (storedBody).
 */
export function storedForm(body: Buffer): { bytes: Buffer; encoding: 'deflate' | null } {
  if (body.length >= DEFLATE_MIN_BYTES) {
    const packed = deflateRawSync(body, { level: DEFLATE_LEVEL });
    if (packed.length <= body.length * 0.9) return { bytes: packed, encoding: 'deflate' };
  }
  return { bytes: body, encoding: null };
}

/** The body as received, from its stored form (at most server.bodyLimitBytes: this service deflated it). */
export function storedBody(row: Pick<RawRequestRow, 'body' | 'body_encoding'>): Buffer {
  return row.body_encoding === 'deflate' ? inflateRawSync(row.body) : Buffer.from(row.body);
}

/**
 * Writes a raw request with its verdict: every request that reached a known provider route.
 * `stored`: its body's stored form, made before a transaction is opened (deflating inside a grouped
 * SQLite commit would hold every request of the group).
 */
export async function insertRaw(
  db: Kysely<Database> | Transaction<Database>,
  raw: RawCallback,
  verdict: string,
  detail: string | null,
  stored: { bytes: Buffer; encoding: 'deflate' | null } = storedForm(raw.body),
): Promise<void> {
  await insertRawRequest.run(db, [
    raw.id,
    raw.provider,
    raw.account,
    raw.method,
    raw.url,
    JSON.stringify(raw.headers),
    stored.bytes,
    raw.body.length,
    raw.remoteAddr,
    iso(raw.receivedAt),
    verdict,
    detail,
    stored.encoding,
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

/** Compressed bytes a list reads of a deflated body: its first RAW_PREVIEW_BYTES (+1) inflate from far fewer. */
const DEFLATED_HEAD_BYTES = 4 * RAW_PREVIEW_BYTES;
/** Compressed bytes added per try in previewHead (each can inflate to at most ~1,032 times as much). */
const INFLATE_STEP_BYTES = 256;

/**
 * The first RAW_PREVIEW_BYTES + 1 bytes of a body from the start of its stored form. A deflated
 * start is inflated a step at a time until it yields enough: 4 KB of deflate could unpack to
 * megabytes (a body of one repeated byte), a page of them to gigabytes.
 */
function previewHead(head: Buffer, encoding: string | null): Buffer {
  if (encoding !== 'deflate') return head;
  let out = Buffer.alloc(0);
  for (let n = Math.min(INFLATE_STEP_BYTES, head.length); ; n = Math.min(n + INFLATE_STEP_BYTES, head.length)) {
    out = inflateRawSync(head.subarray(0, n), { finishFlush: zlib.Z_SYNC_FLUSH });
    if (out.length > RAW_PREVIEW_BYTES || n === head.length) return out.subarray(0, RAW_PREVIEW_BYTES + 1);
  }
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
  return view(row, headers, bodyView(storedBody(row), headers));
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
  return view({ ...row, detail }, headers, bodyPreview(previewHead(row.body_head ? Buffer.from(row.body_head) : Buffer.alloc(0), row.body_encoding), headers));
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

/**
 * The messages a search term names, through an index each: by message id (`messages_message_id`)
 * and by recipient (`messages_recipient_id`), united, never an OR over both columns (which no
 * index serves). The requests found are then sorted newest first: only those that named the term.
 */
function messagesNamed(db: Kysely<Database>, term: string) {
  const pattern = maskedPattern(term);
  const by = (column: 'message_id' | 'recipient') => {
    let q = db.selectFrom('messages').select('id');
    if (!pattern) return q.where(column, '=', term);
    if (pattern.prefix !== '') q = q.where(column, '>=', pattern.prefix).where(column, '<', prefixEnd(pattern.prefix));
    return q.where(column, 'like', pattern.like);
  };
  return by('message_id').unionAll(by('recipient')); // ALL: no merge sort, a repeat changes nothing in an IN list
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
    q = q.where('id', 'in', (eb) => eb.selectFrom('reports').select('raw_id').where('message_pk', 'in', messagesNamed(db, term)));
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
    'body_encoding',
    // SQLite answers NULL for a part of an empty BLOB
    sql<Buffer | null>`substr(body, 1, CASE WHEN body_encoding IS NULL THEN ${sql.lit(RAW_PREVIEW_BYTES + 1)} ELSE ${sql.lit(DEFLATED_HEAD_BYTES)} END)`.as('body_head'),
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
    body: storedBody(row),
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
  // events a subscription took are stored; the others are rebuilt from the history (event-history.ts)
  const stored = (await db.selectFrom('events').select(['id', 'payload']).where('raw_id', '=', id).orderBy('id').execute()).map((e) => ({ id: e.id, event: JSON.parse(e.payload) as unknown }));
  const have = new Set(stored.map((e) => e.id));
  const reports = await db.selectFrom('reports').selectAll().where('raw_id', '=', id).execute();
  const rebuilt = (await rebuildEvents(db, reports.filter((r) => !have.has(r.event_id ?? '')))).map((e) => ({ id: e.id, event: e as unknown }));
  const events = [...stored, ...rebuilt].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { ...rawView(row), events: events.map((e) => e.event) };
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
  if (!first) throw new NotFound('raw request');
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

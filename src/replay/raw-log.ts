import iconv from 'iconv-lite';
import { NotFound } from '../errors';
import { charsetOf } from '../providers/decode';
import { redactHeaders, redactUrl } from '../util/mask';
import { encodeCursor } from '../util/paging';
import type { Kysely, Transaction } from 'kysely';
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

/** The body as text when it decodes in its declared charset (GBK included), else base64. */
export function bodyView(body: Buffer, headers: Record<string, string>): { encoding: 'text' | 'base64'; content: string } {
  const charset = charsetOf(headers['content-type']);
  try {
    if (charset !== 'utf-8' && charset !== 'utf8' && iconv.encodingExists(charset)) return { encoding: 'text', content: iconv.decode(body, charset) };
    return { encoding: 'text', content: strictUtf8.decode(body) };
  } catch {
    return { encoding: 'base64', content: body.toString('base64') };
  }
}

export function rawView(row: RawRequestRow) {
  const headers = JSON.parse(row.headers) as Record<string, string>;
  return {
    id: row.id,
    provider: row.provider,
    account: row.account,
    method: row.method,
    url: redactUrl(row.url),
    headers: redactHeaders(headers),
    body: bodyView(Buffer.from(row.body), headers),
    body_size: row.body_size,
    remote_addr: row.remote_addr,
    verdict: row.verdict,
    detail: row.detail,
    received_at: row.received_at,
  };
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

function filtered(db: Kysely<Database>, f: Omit<RawFilter, 'cursor' | 'limit'>) {
  let q = db.selectFrom('raw_requests').selectAll();
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

/** Raw requests, newest first. */
export async function listRaw(db: Kysely<Database>, f: RawFilter) {
  let q = filtered(db, f);
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1).execute();
  const page = rows.slice(0, f.limit);
  return { items: page.map(rawView), next_cursor: rows.length > f.limit ? encodeCursor(page[page.length - 1]!.id) : null };
}

/** Matching raw requests, oldest first, a batch at a time (replay and export walk the log this way). */
export async function* walkRaw(db: Kysely<Database>, f: Omit<RawFilter, 'cursor' | 'limit'>, max: number, batch = 200): AsyncGenerator<RawRequestRow> {
  let after = '';
  let yielded = 0;
  while (yielded < max) {
    const rows = await filtered(db, f)
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

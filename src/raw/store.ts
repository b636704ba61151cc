import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Kysely, Transaction } from 'kysely';
import { fixed, insertRows, Statement } from '../db/sql';
import type { Database, RawRequestRow } from '../db/types';
import { SERIES_COLUMNS, SeriesDeltas } from '../status/rollups';
import { iso } from '../util/time';
import type { RawCallback } from './types';

/**
 * The raw-request store: every request that reached a known provider route is written here first,
 * byte for byte, with its verdict (capture is the first step of ingest); replay, export and the read
 * API read it back. Bodies are kept in a stored form (storedForm) and always handed back exact.
 */

const RAW_COLUMNS = [
  'id',
  'provider',
  'account',
  'method',
  'url',
  'headers',
  'body',
  'body_size',
  'remote_addr',
  'received_at',
  'verdict',
  'detail',
  'body_encoding',
] as const satisfies readonly (keyof RawRequestRow)[];
const insertRawRows = insertRows('raw_requests', RAW_COLUMNS);
const setVerdict = fixed('raw_requests')`UPDATE raw_requests SET verdict = ${'verdict'}, detail = ${'detail'} WHERE id = ${'id'}`;

/** A stored body: its bytes as kept and how (null: as received). */
export interface StoredForm {
  bytes: Buffer;
  encoding: 'deflate' | null;
}

/** Bodies shorter than this are stored as they are (deflating a few hundred bytes saves little). */
const DEFLATE_MIN_BYTES = 256;
/** zlib's fastest level: provider batches still shrink several times over (docs/performance.md). */
const DEFLATE_LEVEL = 1;

/**
 * How a body is stored: raw-deflated when that saves a tenth or more (provider batches are
 * repetitive JSON or XML), else as received. Every reader gets the exact bytes back (storedBody).
 */
export function storedForm(body: Buffer): StoredForm {
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
 * The row a request is stored as, with its verdict. `stored`: its body's stored form — ingest makes
 * it before a transaction is opened (deflating inside a grouped SQLite commit would hold every
 * request of the group). rawFromRow is the way back.
 */
export function rowOf(raw: RawCallback, verdict: string, detail: string | null, stored: StoredForm = storedForm(raw.body)): RawRequestRow {
  return {
    id: raw.id,
    provider: raw.provider,
    account: raw.account,
    method: raw.method,
    url: raw.url,
    headers: JSON.stringify(raw.headers),
    body: stored.bytes,
    body_size: raw.body.length,
    remote_addr: raw.remoteAddr,
    received_at: iso(raw.receivedAt),
    verdict,
    detail,
    body_encoding: stored.encoding,
  };
}

/**
 * Writes a raw request's row (rowOf) — every request that reached a provider route — and counts
 * it by verdict in the series rollups (the callbacks of GET /v1/stats/timeseries), with whatever
 * else `series` holds (ingest: the latency of its reports), in one transaction. A request to an
 * unknown provider or account is counted as `unknown`: a URL's text never becomes a group.
 */
export async function insertRaw(db: Kysely<Database> | Transaction<Database>, row: RawRequestRow, series = new SeriesDeltas()): Promise<void> {
  if (!db.isTransaction) {
    await db.transaction().execute((trx) => insertRaw(trx, row, series));
    return;
  }
  countCallback(series, row);
  await insertRawRows.run(db, [row]);
  await series.flush(db);
}

/**
 * PostgreSQL: the raw requests of a grouped commit in one statement of one text whatever their
 * number (an array per column, as src/status/store.ts writes batches), with the callbacks' and
 * reports' counts (series_rollup_delta, src/status/rollups.ts) in the same statement: one round
 * trip fewer per group.
 */
const insertRawManyAndSeries = new Statement(
  `WITH raw AS (INSERT INTO raw_requests (${RAW_COLUMNS.join(', ')}) SELECT * FROM unnest(${RAW_COLUMNS.map((c) => (c === 'body' ? '?::bytea[]' : c === 'body_size' ? '?::integer[]' : '?::text[]')).join(', ')})) ` +
    `INSERT INTO series_rollup_delta (${SERIES_COLUMNS.join(', ')}) SELECT * FROM unnest(${SERIES_COLUMNS.map((c) => (c === 'n' ? '?::integer[]' : '?::text[]')).join(', ')})`,
);

/** insertRaw for the requests of a grouped commit on PostgreSQL (src/ingest/ingest.ts), in one transaction's statements. */
export async function insertRawAll(trx: Transaction<Database>, rows: readonly RawRequestRow[], series: SeriesDeltas): Promise<void> {
  for (const row of rows) countCallback(series, row);
  const counts = series.take();
  await insertRawManyAndSeries.run(trx, [...RAW_COLUMNS.map((c) => rows.map((r) => r[c])), ...SERIES_COLUMNS.map((c) => counts.map((r) => r[c]))]);
}

function countCallback(series: SeriesDeltas, row: RawRequestRow): void {
  const unknown = row.verdict === 'unknown_provider';
  series.callback(new Date(row.received_at), unknown ? 'unknown' : row.provider, unknown ? 'unknown' : row.account, row.verdict);
}

/** The stored request as the pipeline takes it (the inverse of rowOf). */
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

export async function updateVerdict(db: Kysely<Database> | Transaction<Database>, id: string, verdict: string, detail: string | null): Promise<void> {
  await setVerdict.run(db, { verdict, detail, id });
}

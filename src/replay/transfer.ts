import type { AppContext } from '../context';
import type { RawRequestRow } from '../db/types';
import { redactHeaders, redactUrl } from '../util/mask';
import { audit } from './audit';
import { insertRaw, rawFromRow, rowOf } from '../raw/store';
import { walkRaw, type RawFilter } from '../raw/filter';
import { replayRow } from './replay';

/**
 * One line of `dlr raw export`: a stored raw request's row, its headers as an object and its body
 * in base64 (the bytes exactly as received).
 */
export type ExportLine = Omit<RawRequestRow, 'headers' | 'body' | 'body_size' | 'body_encoding'> & {
  headers: Record<string, string>;
  body_base64: string;
  /**
   * Present (true) when the export redacted credentials of this request (`?token=`, Authorization,
   * Cookie, … as the raw log API does): an import cannot verify it again where they mattered.
   */
  redacted?: boolean;
};

export interface ExportOptions {
  /** Keep `?token=`, Authorization, Cookie… in clear (`dlr raw export --include-credentials`). */
  includeCredentials?: boolean;
}

/** The text redaction leaves in place of a credential (src/util/mask.ts). */
const REDACTED = '[redacted]';

export function exportLine(row: RawRequestRow, opts: ExportOptions = {}): { text: string; redacted: boolean } {
  const { headers, body } = rawFromRow(row);
  const line: ExportLine = {
    id: row.id,
    provider: row.provider,
    account: row.account,
    method: row.method,
    url: row.url,
    headers,
    body_base64: body.toString('base64'),
    remote_addr: row.remote_addr,
    received_at: row.received_at,
    verdict: row.verdict,
    detail: row.detail,
  };
  if (!opts.includeCredentials) {
    line.url = redactUrl(row.url);
    line.headers = redactHeaders(headers);
    // A request stored from a redacted export (its credentials already replaced) is marked too.
    const redacted =
      line.url !== row.url ||
      Object.keys(headers).some((k) => line.headers[k] !== headers[k]) ||
      line.url.includes(REDACTED) ||
      line.url.includes(encodeURIComponent(REDACTED)) ||
      Object.values(line.headers).includes(REDACTED);
    if (redacted) line.redacted = true;
  }
  return { text: JSON.stringify(line), redacted: line.redacted === true };
}

/** The lines of an export, oldest first; `onRedacted` hears of each line whose credentials were redacted. */
export async function* exportRaw(ctx: AppContext, filter: RawFilter, opts: ExportOptions = {}, onRedacted?: (id: string) => void): AsyncGenerator<string> {
  for await (const row of walkRaw(ctx.dbh.db, filter, Number.MAX_SAFE_INTEGER)) {
    const line = exportLine(row, opts);
    if (line.redacted) onRedacted?.(row.id);
    yield line.text;
  }
}

function parseLine(text: string, n: number): ExportLine {
  let v: Partial<ExportLine>;
  try {
    v = JSON.parse(text) as Partial<ExportLine>;
  } catch {
    throw new Error(`line ${n}: not JSON`);
  }
  for (const k of ['id', 'provider', 'account', 'method', 'url', 'body_base64', 'remote_addr', 'received_at', 'verdict'] as const) {
    if (typeof v[k] !== 'string') throw new Error(`line ${n}: "${k}" is missing`);
  }
  if (!/^raw_[0-9A-Z]{26}$/.test(v.id!)) throw new Error(`line ${n}: "id" is not a raw request id`);
  if (Number.isNaN(Date.parse(v.received_at!))) throw new Error(`line ${n}: "received_at" is not a time`);
  if (v.redacted !== undefined && typeof v.redacted !== 'boolean') throw new Error(`line ${n}: "redacted" must be true or false`);
  return v as ExportLine;
}

export interface ImportSummary {
  read: number;
  imported: number;
  already_present: number;
  by_verdict: Record<string, number>;
  changes: number;
  /**
   * Requests imported from lines the export redacted (`"redacted": true`) that today's verification
   * refuses as `signature_invalid`: their credentials are not in the file, so they cannot be
   * verified again. They are stored with that detail; nothing of theirs is applied.
   */
  unverifiable: string[];
}

export interface ImportOptions {
  /**
   * Store and verify with the file's `received_at` instead of the import time
   * (`dlr raw import --trust-received-at`): only for files this service exported, since whoever
   * writes a file chooses its `received_at`.
   */
  trustReceivedAt?: boolean;
}

/** The detail of a redacted line's refusal. */
export const UNVERIFIABLE = 'cannot be verified again: credentials were redacted at export';

/**
 * Imports exported lines into this database, oldest first as exported: each request not already
 * present (by id — importing twice stores it once) is stored and run through today's code, so the
 * messages end in the states the requests lead to.
 *
 * The receive time: signed timestamps are checked against a request's stored `received_at`, at
 * import and at every later replay. A file's `received_at` is whatever its writer chose, so unless
 * `trustReceivedAt` the import time is stored instead (a stale signed request is then refused, now
 * and on any replay); with it, the file's. Nonces are claimed as a replay claims them (a token
 * another stored request used is refused). A redacted line whose signature is refused is reported
 * in `unverifiable` rather than as an ordinary `signature_invalid`.
 */
export async function importRaw(
  ctx: AppContext,
  lines: AsyncIterable<string>,
  actor: string,
  opts: ImportOptions = {},
  onProgress?: (s: ImportSummary) => void,
): Promise<ImportSummary> {
  const summary: ImportSummary = { read: 0, imported: 0, already_present: 0, by_verdict: {}, changes: 0, unverifiable: [] };
  const redactedDetail = (verdict: string, detail: string) => (verdict === 'signature_invalid' ? `${UNVERIFIABLE} (${detail})` : detail);
  let n = 0;
  for await (const text of lines) {
    n += 1;
    if (text.trim() === '') continue;
    const line = parseLine(text, n);
    summary.read += 1;
    const exists = await ctx.dbh.db.selectFrom('raw_requests').select('id').where('id', '=', line.id).executeTakeFirst();
    if (exists) {
      summary.already_present += 1;
      continue;
    }
    const claimed = new Date(line.received_at);
    const raw = {
      id: line.id,
      provider: line.provider,
      account: line.account,
      method: line.method,
      url: line.url,
      headers: line.headers ?? {},
      body: Buffer.from(line.body_base64, 'base64'),
      remoteAddr: line.remote_addr,
      receivedAt: opts.trustReceivedAt ? claimed : new Date(),
    };
    const row = rowOf(raw, line.verdict, line.detail ?? null);
    await insertRaw(ctx.dbh.db, row);
    const r = await replayRow(ctx, row, false, {
      claimedReceivedAt: opts.trustReceivedAt ? undefined : claimed,
      refusalDetail: line.redacted ? redactedDetail : undefined,
    });
    summary.imported += 1;
    summary.by_verdict[r.verdict] = (summary.by_verdict[r.verdict] ?? 0) + 1;
    summary.changes += r.changes.length;
    if (line.redacted && r.verdict === 'signature_invalid') summary.unverifiable.push(line.id);
    onProgress?.(summary);
  }
  // the audit keeps counts: the ids are in the raw log (detail) and in the summary answered
  await audit(ctx.dbh.db, actor, 'import', { trust_received_at: opts.trustReceivedAt ?? false }, { ...summary, unverifiable: summary.unverifiable.length });
  return summary;
}

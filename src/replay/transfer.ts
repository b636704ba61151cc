import type { AppContext } from '../context';
import type { RawRequestRow } from '../db/types';
import { audit } from './audit';
import { walkRaw, type RawFilter } from './raw-log';
import { replayRow } from './replay';

/** One line of `dlr raw export`: a raw request, the body in base64 (bytes exactly as received). */
export interface ExportLine {
  id: string;
  provider: string;
  account: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body_base64: string;
  remote_addr: string;
  received_at: string;
  verdict: string;
  detail: string | null;
}

export function exportLine(row: RawRequestRow): string {
  const line: ExportLine = {
    id: row.id,
    provider: row.provider,
    account: row.account,
    method: row.method,
    url: row.url,
    headers: JSON.parse(row.headers) as Record<string, string>,
    body_base64: Buffer.from(row.body).toString('base64'),
    remote_addr: row.remote_addr,
    received_at: row.received_at,
    verdict: row.verdict,
    detail: row.detail,
  };
  return JSON.stringify(line);
}

export async function* exportRaw(ctx: AppContext, filter: Omit<RawFilter, 'cursor' | 'limit'>): AsyncGenerator<string> {
  for await (const row of walkRaw(ctx.dbh.db, filter, Number.MAX_SAFE_INTEGER)) yield exportLine(row);
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
  return v as ExportLine;
}

export interface ImportSummary {
  read: number;
  imported: number;
  already_present: number;
  by_verdict: Record<string, number>;
  changes: number;
}

/**
 * Imports exported lines into this database, oldest first as exported: each request not already
 * present (by id — importing twice stores it once) is stored and run through today's code, so the
 * messages end in the states the requests lead to.
 */
export async function importRaw(ctx: AppContext, lines: AsyncIterable<string>, actor: string, onProgress?: (s: ImportSummary) => void): Promise<ImportSummary> {
  const summary: ImportSummary = { read: 0, imported: 0, already_present: 0, by_verdict: {}, changes: 0 };
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
    const body = Buffer.from(line.body_base64, 'base64');
    const row: RawRequestRow = {
      id: line.id,
      provider: line.provider,
      account: line.account,
      method: line.method,
      url: line.url,
      headers: JSON.stringify(line.headers ?? {}),
      body,
      body_size: body.length,
      remote_addr: line.remote_addr,
      received_at: new Date(line.received_at).toISOString(),
      verdict: line.verdict,
      detail: line.detail ?? null,
    };
    await ctx.dbh.db.insertInto('raw_requests').values(row).execute();
    const r = await replayRow(ctx, row, false);
    summary.imported += 1;
    summary.by_verdict[r.verdict] = (summary.by_verdict[r.verdict] ?? 0) + 1;
    summary.changes += r.changes.length;
    onProgress?.(summary);
  }
  await audit(ctx.dbh.db, actor, 'import', {}, summary);
  return summary;
}

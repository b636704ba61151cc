import { inflateRawSync, constants as zlib } from 'node:zlib';
import iconv from 'iconv-lite';
import type { RawRequestRow } from '../db/types';
import { charsetOf } from '../util/content-type';
import { redactHeaders, redactUrl } from '../util/mask';
import { storedBody } from './store';

/** How a raw request is shown by the API and the CLI: credentials redacted, bodies decoded or previewed. */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text when it decodes in its declared charset (GBK included), else base64. A `partial`
 * body (the start of one) may end inside a character: streaming decoders keep that sequence back
 * instead of failing on it.
 */
export function bodyView(body: Buffer, headers: Record<string, string>, partial = false): { encoding: 'text' | 'base64'; content: string } {
  const charset = charsetOf(headers['content-type']);
  try {
    if (charset !== 'utf-8' && charset !== 'utf8' && iconv.encodingExists(charset))
      return { encoding: 'text', content: partial ? iconv.getDecoder(charset).write(body) : iconv.decode(body, charset) };
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
export const DEFLATED_HEAD_BYTES = 4 * RAW_PREVIEW_BYTES;
/** Compressed bytes added per try in previewHead (each can inflate to at most ~1,032 times as much). */
const INFLATE_STEP_BYTES = 256;

/**
 * The first RAW_PREVIEW_BYTES + 1 bytes of a body from the start of its stored form. A deflated
 * start is inflated a step at a time until it yields enough: 4 KB of deflate could unpack to
 * megabytes (a body of one repeated byte), a page of them to gigabytes.
 */
function previewHead(head: Buffer, encoding: string | null): Buffer {
  if (encoding !== 'deflate') return head;
  for (let n = Math.min(INFLATE_STEP_BYTES, head.length); ; n = Math.min(n + INFLATE_STEP_BYTES, head.length)) {
    const out = inflateRawSync(head.subarray(0, n), { finishFlush: zlib.Z_SYNC_FLUSH });
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
export type RawListRow = Omit<RawRequestRow, 'body'> & { body_head: Buffer | null };

/**
 * A raw request as a list shows it: `body` is a preview (`{ encoding, content, truncated }`, the
 * first RAW_PREVIEW_BYTES), `body_size` the whole body's size, `detail` at most
 * DETAIL_PREVIEW_CHARS (then "…"). An item is bounded: URL and headers by node's 16 KiB limit on
 * them, the preview and the detail by these constants (a few KB as JSON even when escaped).
 */
export function rawListView(row: RawListRow) {
  const headers = JSON.parse(row.headers) as Record<string, string>;
  const detail = row.detail !== null && row.detail.length > DETAIL_PREVIEW_CHARS ? `${row.detail.slice(0, DETAIL_PREVIEW_CHARS)}…` : row.detail;
  return view({ ...row, detail }, headers, bodyPreview(previewHead(row.body_head ? Buffer.from(row.body_head) : Buffer.alloc(0), row.body_encoding), headers));
}

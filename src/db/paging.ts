import { BadRequest } from '../errors';

export const DEFAULT_PAGE = 50;
/**
 * The most items a list answers (issue #14: every list answer's size has a bound). An answer is at
 * most this many items times the bound of one item:
 * - GET /v1/raw: URL and headers (node refuses more than 16 KiB of them), a body preview of
 *   RAW_PREVIEW_BYTES and a detail of at most DETAIL_PREVIEW_CHARS (src/raw/view.ts): under
 *   ~25 KB an item at worst (~2 KB typically), under ~15 MB a page at worst. Whole bodies: only
 *   GET /v1/raw/:id (one row) and GET /v1/raw/:id/body (streamed).
 * - GET /v1/subscriptions/:id/deliveries: fixed fields and last_error (a short message of node's or
 *   ours); captured responses (RESPONSE_CAPTURE_BYTES each) only in GET /v1/deliveries/:id.
 * - GET /v1/audit: an entry's parameters and result are kept to 4 KiB each (src/replay/audit.ts).
 * - GET /v1/messages: ids, error and the `attributes` the provider's latest report gave, which only
 *   the body limit bounds today (a provider's `out_id` or user variables are kept as sent).
 * Not paged: GET /v1/subscriptions (few, each made by an admin, each at most a 256 KB API body); a
 * message's `history` in GET /v1/messages/:provider/:message_id is its newest MAX_HISTORY reports
 * (src/status/queries.ts).
 */
export const MAX_PAGE = 500;

/** Which page of a list: after the `cursor` (decoded: the last id of the previous page), `limit` items. */
export interface Page {
  cursor?: string;
  limit: number;
}

/** Opaque cursors: the last id of the previous page. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[a-z]+_[0-9A-Z]{26}$/.test(id)) throw new BadRequest('cursor is not valid: pass the next_cursor of the previous page as it is');
  return id;
}

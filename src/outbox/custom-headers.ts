import { BadRequest } from '../errors';

/**
 * A subscription's custom request headers (`headers`: name → value), sent with every delivery and
 * test event. Names the service sets itself, or that only the connection may set, are refused:
 * the Standard Webhooks signing headers (a subscriber must be able to trust them), `content-type`
 * and `content-length` (the body is ours), `host`, and the hop-by-hop headers of RFC 9110 §7.6.1.
 * Their values may be credentials (an API key the subscriber's gateway wants): they are shown to
 * admin-scope readers of the subscription and never logged.
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/** At most this many custom headers per subscription (the schema says so too). */
export const MAX_CUSTOM_HEADERS = 20;
/** Names and values together, in bytes: well under what servers accept for a whole header block (8 KiB is common). */
export const MAX_CUSTOM_HEADER_BYTES = 4096;

/** An HTTP field value node sends as it is: tab, visible ASCII, space and obs-text; no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Checks custom headers beyond the schema (which bounds their count and the form of names and
 * values): no reserved name, no name twice in different case, the total size. Throws a 400 that
 * names the header, never its value.
 */
export function checkCustomHeaders(headers: Record<string, string>): void {
  const seen = new Set<string>();
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) {
      const why = lower.startsWith('webhook-') ? 'a signing header the service sets' : 'set by the service or the connection';
      throw new BadRequest(`invalid subscription: headers.${name}: may not be set (${why}); reserved: ${[...RESERVED_HEADERS].join(', ')}`);
    }
    if (seen.has(lower)) throw new BadRequest(`invalid subscription: headers.${name}: given twice (header names are case-insensitive)`);
    seen.add(lower);
    if (!FIELD_VALUE.test(value)) throw new BadRequest(`invalid subscription: headers.${name}: the value may not hold control characters (CR, LF, NUL)`);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (bytes > MAX_CUSTOM_HEADER_BYTES)
    throw new BadRequest(`invalid subscription: headers: ${bytes} bytes of names and values, over ${MAX_CUSTOM_HEADER_BYTES}`);
}

/** The stored headers of a subscription row (its `headers` column), names lower-cased for the request. */
export function customHeaders(column: string | null): Record<string, string> {
  if (column === null) return {};
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(JSON.parse(column) as Record<string, string>)) out[name.toLowerCase()] = value;
  return out;
}

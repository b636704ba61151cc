/**
 * Masking of personal data for logs. Every log line passes through `maskPersonalData`
 * (see src/logger.ts), so a phone number or e-mail address never reaches a log in clear,
 * wherever it came from (a URL, an error message, a provider's payload).
 *
 * Everything here sees attacker text (request URLs, refusal details that echo input) on every log
 * line, so every pattern runs in time linear in its input: bounded quantifiers, patterns whose
 * every start is a fixed character, or a scan by hand where a regular expression would backtrack.
 * (The e-mail pattern used to retry a whole run of word characters from each of its characters:
 * a 48 KB report blocked the process for 5 s, issue #14.)
 */

// 7–15 digits (E.164 has at most 15), optionally after "+" or its URL-encoded form; not part of a
// longer word, so ULIDs and hex ids are left alone. Linear: the quantifier is bounded, and inside a
// run of digits the lookbehind fails at once, so each position costs at most ~15 steps.
const PHONE = /(?<![\w.])(\+|%2B)?(\d{7,15})(?![\w])/gi;

export function maskPhone(digits: string): string {
  const keepHead = Math.min(3, digits.length - 4);
  return digits.slice(0, keepHead) + '*'.repeat(digits.length - keepHead - 2) + digits.slice(-2);
}

// Character classes of the e-mail scan (ASCII only, as the pattern it replaces).
const LOCAL = 1; // [A-Za-z0-9._+-]: the local part
const LABEL = 2; // [A-Za-z0-9-]: a domain label
const ALPHA = 4; // [A-Za-z]: the top-level domain
const CLASSES = new Uint8Array(128);
for (let c = 0; c < 128; c += 1) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9._+-]/.test(ch)) CLASSES[c] |= LOCAL;
  if (/[A-Za-z0-9-]/.test(ch)) CLASSES[c] |= LABEL;
  if (/[A-Za-z]/.test(ch)) CLASSES[c] |= ALPHA;
}

/** True when the character at `i` is in `cls` (false past either end: charCodeAt gives NaN). */
function isIn(text: string, i: number, cls: number): boolean {
  const c = text.charCodeAt(i);
  return c < 128 && (CLASSES[c] & cls) !== 0;
}

/**
 * Where the domain that starts at `from` ends, or -1 when there is none: what
 * `[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}` would match there — labels separated by
 * dots, up to the letters (two or more) that begin the last label that begins with two letters.
 */
function domainEnd(text: string, from: number): number {
  let j = from;
  while (isIn(text, j, LABEL)) j += 1;
  if (j === from) return -1;
  let end = -1;
  while (text.charCodeAt(j) === 0x2e) {
    const label = j + 1;
    let k = label;
    while (isIn(text, k, LABEL)) k += 1;
    if (k === label) break;
    let letters = label;
    while (letters < k && isIn(text, letters, ALPHA)) letters += 1;
    if (letters - label >= 2) end = letters;
    j = k;
  }
  return end;
}

/**
 * `local@domain` (the "@" also URL-encoded) → first character of the local part + `***` + the rest,
 * exactly as `/([A-Za-z0-9._+-])[A-Za-z0-9._+-]*(@|%40)(domain)/g` replaced it, in one pass: the
 * regular expression retried the whole run of local-part characters from each of them (quadratic
 * on `aaaa…@a`). Each "@" or "%40" is looked at once; the local part is read back to the previous
 * match or delimiter (neither "@" nor "%" is a local-part character) and the domain forward to the
 * next one, so no character is read more than a few times.
 */
function maskEmails(text: string): string {
  let out = '';
  let copied = 0; // where the text not yet copied to `out` starts (the end of the last match)
  let at = text.indexOf('@');
  let pct = text.indexOf('%40');
  while (at >= 0 || pct >= 0) {
    const viaAt = pct < 0 || (at >= 0 && at < pct);
    const p = viaAt ? at : pct;
    if (viaAt) at = text.indexOf('@', p + 1);
    else pct = text.indexOf('%40', p + 1);
    if (p < copied) continue;
    let start = p;
    while (start > copied && isIn(text, start - 1, LOCAL)) start -= 1;
    if (start === p) continue;
    const end = domainEnd(text, p + (viaAt ? 1 : 3));
    if (end < 0) continue;
    out += `${text.slice(copied, start + 1)}***${text.slice(p, end)}`;
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// Cheap tests for what the patterns need (most log lines have neither), run first.
const SEVEN_DIGITS = /\d{7}/;

export function maskPersonalData(text: string): string {
  // most lines have no "@" to look at
  const masked = text.includes('@') || text.includes('%40') ? maskEmails(text) : text;
  return SEVEN_DIGITS.test(masked) ? masked.replace(PHONE, (_m, plus: string | undefined, digits: string) => `${plus ?? ''}${maskPhone(digits)}`) : masked;
}

// A JSON member whose name ends in secret, token, authorization, password, passwd or api key (any
// depth, any case: accessToken, access_token, x-api-key), with a string or number value:
// `token_name` and the like are not such names. Linear: every match starts at a `"`, and the run of
// name characters after one `"` ends before the next, so the runs tried never overlap.
const SECRET_NAME = /(?:secret|token|authorization|password|passwd|api[_-]?key)":/i;
const SECRET_MEMBER = /"([A-Za-z_-]*(?:secret|token|authorization|password|passwd|api[_-]?key))":(?:"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)/gi;

/**
 * Replaces the values of secret-named members of a serialized JSON log line with "[redacted]": one
 * pass over the line, whatever the depth (cheaper than pino's path redaction: docs/performance.md).
 */
export function redactSecrets(line: string): string {
  return SECRET_NAME.test(line) ? line.replace(SECRET_MEMBER, '"$1":"[redacted]"') : line;
}

/**
 * Names of credentials, compared in lower case without `-`, `_` and `.` (so `access_token`,
 * `Access-Token` and `accessToken` are one name): a name that ends in one of `CREDENTIAL_ENDINGS`
 * or is one of `CREDENTIAL_NAMES`. Query parameters (after percent-decoding) and headers with such
 * names are shown as `[redacted]`. Signatures (`X-Twilio-Signature`, `sig`) and digests
 * (`bodySHA256`) are not credentials and stay: they prove one request, and replay needs them visible.
 */
const CREDENTIAL_ENDINGS = [
  'token',
  'secret',
  'password',
  'passwd',
  'apikey',
  'accesskey',
  'secretkey',
  'privatekey',
  'signingkey',
  'authorization',
  'cookie',
  'credential',
  'credentials',
  'sessionid',
];
const CREDENTIAL_NAMES = new Set(['key', 'auth', 'pwd', 'pass', 'session']);

export function isCredentialName(name: string): boolean {
  let compact = '';
  for (let i = 0; i < name.length; i += 1) {
    const c = name.charCodeAt(i);
    if (c === 0x2d || c === 0x5f || c === 0x2e) continue; // - _ .
    compact += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : name[i]; // ASCII lower case only
  }
  return CREDENTIAL_NAMES.has(compact) || CREDENTIAL_ENDINGS.some((ending) => compact.endsWith(ending));
}

const hexValue = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);

/**
 * A query parameter's name as URLSearchParams reads it (what src/ingest/access.ts compares): `+` is
 * a space, `%XX` a byte. Only ASCII matters to the names above, so an escaped byte of 0x80 or more
 * becomes U+FFFD (as invalid UTF-8 would) and a `%` without two hex digits stays: never throws.
 */
function queryName(url: string, from: number, to: number): string {
  let name = '';
  for (let i = from; i < to; i += 1) {
    const c = url.charCodeAt(i);
    if (c === 0x2b) name += ' ';
    else if (c === 0x25 && i + 2 < to && hexValue(url.charCodeAt(i + 1)) >= 0 && hexValue(url.charCodeAt(i + 2)) >= 0) {
      const byte = hexValue(url.charCodeAt(i + 1)) * 16 + hexValue(url.charCodeAt(i + 2));
      name += byte < 0x80 ? String.fromCharCode(byte) : '\ufffd';
      i += 2;
    } else name += url[i];
  }
  return name;
}

/**
 * Removes secrets carried in a URL's query (the `?token=` protection of unsigned providers, and any
 * other credential-named parameter): the value of each such parameter becomes `[redacted]`, the
 * name is kept as sent. The query is everything after the first `?`, split at `&`, names decoded,
 * as src/ingest/access.ts reads it — so `?%74oken=` (which authenticates) is redacted too, and a
 * value runs to the next `&` whatever it holds (`#` included). One pass, linear in the URL.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  let out = url.slice(0, q + 1);
  let start = q + 1;
  let eq = url.indexOf('=', start); // the next "=", kept across pairs that have none (no rescans)
  for (;;) {
    let end = url.indexOf('&', start);
    if (end < 0) end = url.length;
    if (eq >= 0 && eq < start) eq = url.indexOf('=', start);
    if (eq >= 0 && eq < end && isCredentialName(queryName(url, start, eq))) out += `${url.slice(start, eq + 1)}[redacted]`;
    else out += url.slice(start, end);
    if (end === url.length) return out;
    out += '&';
    start = end + 1;
  }
}

/**
 * Shows headers with a credential name as `[redacted]` wherever raw requests are shown:
 * Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, X-Auth-Token and the like all
 * end in one of `CREDENTIAL_ENDINGS`.
 */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = isCredentialName(k) ? '[redacted]' : v;
  return out;
}

/** Characters a cut should not split: those of e-mail addresses, phone numbers and %-escapes. */
function isTokenChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c === 0x25 || c === 0x40 || isIn(text, i, LOCAL);
}

/** The longest e-mail address (RFC 5321: 64 + 1 + 255), the most a cut backs off. */
const TOKEN_BACKOFF = 320;

/**
 * `text` cut to `max` characters, marked `…(N more characters)` when cut: for details and log fields
 * that repeat input. A cut inside a word of e-mail or phone characters backs off to the word's
 * start (when it is near), so that no half address or number, which masking no longer recognises,
 * is left; and it never splits a surrogate pair.
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max;
  if (isTokenChar(text, cut - 1) && isTokenChar(text, cut)) {
    let start = cut - 1;
    const floor = Math.max(0, cut - TOKEN_BACKOFF);
    while (start > floor && isTokenChar(text, start - 1)) start -= 1;
    if (start > 0 && !isTokenChar(text, start - 1)) cut = start;
  }
  const before = text.charCodeAt(cut - 1);
  if (before >= 0xd800 && before <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}…(${text.length - cut} more characters)`;
}

/**
 * True when a value holds a NUL character anywhere (strings, arrays, object keys and values).
 * PostgreSQL text cannot store one; such input is refused on both databases alike. Walks with an
 * explicit stack, not recursion: a deeply nested body must not overflow the call stack (issue #14);
 * strings are checked where they are met, so only nested containers go on the stack.
 */
export function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object') return false;
  const stack: object[] = [value];
  while (stack.length > 0) {
    const here = stack.pop()!;
    if (Array.isArray(here)) {
      for (const item of here as unknown[]) {
        if (typeof item === 'string') {
          if (item.includes('\u0000')) return true;
        } else if (item !== null && typeof item === 'object') stack.push(item);
      }
    } else {
      // (no Object.entries: this walks every report of every request)
      for (const key of Object.keys(here)) {
        if (key.includes('\u0000')) return true;
        const item = (here as Record<string, unknown>)[key];
        if (typeof item === 'string') {
          if (item.includes('\u0000')) return true;
        } else if (item !== null && typeof item === 'object') stack.push(item);
      }
    }
  }
  return false;
}

/**
 * True when a value nests arrays and plain objects more than `max` levels deep (`[]` is one level;
 * other objects, such as a parser's lossless numbers, are leaves). An explicit stack, not recursion:
 * for bodies parsed by JSON.parse (which does not recurse either) before anything that recurses
 * over them — JSON.stringify, a schema validator — sees them.
 */
export function nestingExceeds(root: unknown, max: number): boolean {
  if (root === null || typeof root !== 'object') return false;
  const values: object[] = [root];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop()!;
    const depth = depths.pop()!;
    if (depth > max) return true;
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) {
        if (item !== null && typeof item === 'object') {
          values.push(item);
          depths.push(depth + 1);
        }
      }
    } else {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) continue;
      for (const key in value) {
        const item = (value as Record<string, unknown>)[key];
        if (item !== null && typeof item === 'object') {
          values.push(item);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

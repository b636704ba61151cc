/**
 * Masking of personal data for logs. Every log line passes through `maskPersonalData`
 * (see src/logger.ts), so a phone number or e-mail address never reaches a log in clear,
 * wherever it came from (a URL, an error message, a provider's payload).
 */

// 7–15 digits (E.164 has at most 15), optionally after "+" or its URL-encoded form; not part of a
// longer word, so ULIDs and hex ids are left alone.
const PHONE = /(?<![\w.])(\+|%2B)?(\d{7,15})(?![\w])/gi;
// local@domain, also with the "@" URL-encoded.
const EMAIL = /([A-Za-z0-9._+-])[A-Za-z0-9._+-]*(@|%40)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})/g;

export function maskPhone(digits: string): string {
  const keepHead = Math.min(3, digits.length - 4);
  return digits.slice(0, keepHead) + '*'.repeat(digits.length - keepHead - 2) + digits.slice(-2);
}

// Cheap tests for what the patterns need (most log lines have neither): a third of their cost.
const SEVEN_DIGITS = /\d{7}/;

export function maskPersonalData(text: string): string {
  // the e-mail pattern tries every word character; most lines have no "@" to find
  const masked = text.includes('@') || text.includes('%40') ? text.replace(EMAIL, (_m, first: string, at: string, domain: string) => `${first}***${at}${domain}`) : text;
  return SEVEN_DIGITS.test(masked) ? masked.replace(PHONE, (_m, plus: string | undefined, digits: string) => `${plus ?? ''}${maskPhone(digits)}`) : masked;
}

// A JSON member whose name ends in secret, token, authorization or password (any depth, any case),
// with a string or number value: `token_name` and the like are not such names.
const SECRET_NAME = /(?:secret|token|authorization|password)":/i;
const SECRET_MEMBER = /"([A-Za-z_-]*(?:secret|token|authorization|password))":(?:"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)/gi;

/**
 * Replaces the values of secret-named members of a serialized JSON log line with "[redacted]": one
 * pass over the line, whatever the depth (pino's path redaction cost several times more per line).
 */
export function redactSecrets(line: string): string {
  return SECRET_NAME.test(line) ? line.replace(SECRET_MEMBER, '"$1":"[redacted]"') : line;
}

/** Removes secrets carried in a URL (the `?token=` protection of unsigned providers). */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

/** Headers whose values are credentials: shown as `[redacted]` wherever raw requests are shown. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? '[redacted]' : v;
  return out;
}

/**
 * True when a value holds a NUL character anywhere (strings, arrays, object keys and values).
 * PostgreSQL text cannot store one; such input is refused on both databases alike.
 */
export function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) {
    for (const item of value) if (containsNul(item)) return true;
  } else if (value !== null && typeof value === 'object') {
    // (no Object.entries: this walks every report of every request)
    for (const key of Object.keys(value)) if (key.includes('\u0000') || containsNul((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

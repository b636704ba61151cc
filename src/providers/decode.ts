import iconv from 'iconv-lite';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PayloadInvalid } from '../errors';
import { charsetOf } from '../util/content-type';
import { nestingExceeds } from '../util/mask';
import type { RawCallback } from '../raw/types';

/** A request may carry at most this many reports; more is refused rather than half-processed. */
export const MAX_REPORTS_PER_REQUEST = 1000;
/** Deeper JSON than this is not a delivery report (and could be a stack-exhaustion attempt). */
const MAX_JSON_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function contentType(raw: RawCallback): string {
  return (raw.headers['content-type'] ?? '').toLowerCase();
}

function decodeBytes(bytes: Buffer, charset: string, what: string): string {
  if (charset === 'utf-8' || charset === 'utf8') {
    try {
      return utf8.decode(bytes);
    } catch {
      throw new PayloadInvalid(`${what} is not valid UTF-8 (declare charset=gbk if it is GBK)`);
    }
  }
  if (iconv.encodingExists(charset)) return iconv.decode(bytes, charset);
  // (iconv-lite's Encoding type includes every string, so its guard leaves `never` here)
  throw new PayloadInvalid(`unsupported charset "${charset as string}"`);
}

/** The body as text in the charset the request declares (else `fallbackCharset`; GBK and its kin decoded). */
export function bodyText(raw: RawCallback, fallbackCharset?: string): string {
  if (raw.body.length === 0) throw new PayloadInvalid('empty body');
  return decodeBytes(raw.body, charsetOf(raw.headers['content-type'], fallbackCharset), 'body');
}

/**
 * True when JSON text opens more than `max` arrays and objects inside each other (brackets in
 * strings do not count), read from the text before it is parsed: lossless-json's parser recurses
 * once per level, so 1 MiB of `[` would overflow the stack (issue #14). One pass, no allocation.
 */
export function jsonNestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // to the closing quote: the next `"` not escaped by an odd run of backslashes
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0) return false;
        let backslashes = 0;
        while (text.charCodeAt(i - 1 - backslashes) === 0x5c) backslashes += 1;
        if (backslashes % 2 === 0) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}

/** Texts longer than this have their nesting read before JSON.parse builds them. */
const TEXT_DEPTH_CHECK_CHARS = 16 * 1024;

/** JSON text to a value, refused (400) when malformed or nested too deep; `parse` is JSON.parse unless a provider needs another. */
export function parseJson(text: string, what = 'body', parse: (text: string) => unknown = JSON.parse): unknown {
  const tooDeep = () => new PayloadInvalid(`${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  // A parser in JavaScript (lossless-json) recurses once a level: read the depth from the text before it
  // runs. V8's JSON.parse does not recurse, but building half a million nested arrays from 1 MiB of
  // `[` held the event loop ~0.4 s (and ~200 MB): long texts are read first too. Short ones (every
  // real report) are checked on their value, the cheaper walk.
  const readText = parse !== JSON.parse || text.length > TEXT_DEPTH_CHECK_CHARS;
  if (readText && jsonNestingExceeds(text, MAX_JSON_DEPTH)) throw tooDeep();
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new PayloadInvalid(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (!readText && nestingExceeds(value, MAX_JSON_DEPTH)) throw tooDeep();
  return value;
}

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** One form name or value: `part` holds the body's bytes one character each (read as latin1). */
function percentDecode(part: string, charset: string): string {
  // Plain ASCII is the same text in every charset a form arrives in: nothing to decode.
  if (!/[%+\u0080-\u00ff]/.test(part)) return part;
  const bytes = Buffer.allocUnsafe(part.length);
  let n = 0;
  for (let i = 0; i < part.length; i += 1) {
    const c = part.charCodeAt(i);
    if (c === 0x2b) bytes[n++] = 0x20;
    else if (c === 0x25 && i + 2 < part.length && isHex(part.charCodeAt(i + 1)) && isHex(part.charCodeAt(i + 2))) {
      bytes[n++] = parseInt(part.slice(i + 1, i + 3), 16);
      i += 2;
    } else bytes[n++] = c;
  }
  return decodeBytes(bytes.subarray(0, n), charset, 'form value');
}

/**
 * application/x-www-form-urlencoded in the request's charset: `%XX` escapes are bytes of that
 * charset (a GBK form escapes GBK bytes), `+` is a space. Every pair, in order, repeats included.
 */
export function formEntries(raw: RawCallback, fallbackCharset?: string): [string, string][] {
  if (raw.body.length === 0) throw new PayloadInvalid('empty body');
  const charset = charsetOf(raw.headers['content-type'], fallbackCharset);
  const out: [string, string][] = [];
  for (const pair of raw.body.toString('latin1').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    out.push([percentDecode(eq < 0 ? pair : pair.slice(0, eq), charset), eq < 0 ? '' : percentDecode(pair.slice(eq + 1), charset)]);
  }
  return out;
}

/** A form as a record; the first value of a repeated key wins. */
export function parseForm(raw: RawCallback): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of formEntries(raw)) if (!(k in out)) out[k] = v;
  return out;
}

/**
 * The most characters of an XML document that is parsed. fast-xml-parser reads a character at a time
 * on the event loop: about 0.3 µs a character once warm, several times that cold, so 1 MiB of XML
 * held the process for 0.2–0.6 s. An XML delivery report is far smaller (Cloopen sends one per
 * request, ~0.5 KB; 64 KiB holds a batch of a few hundred).
 */
export const MAX_XML_CHARS = 64 * 1024;
/** Deeper XML than this is not a delivery report (the parser's own default is 100). */
const MAX_XML_DEPTH = MAX_JSON_DEPTH;

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, processEntities: false, maxNestedTags: MAX_XML_DEPTH });

export function parseXml(text: string): Record<string, unknown> {
  if (text.length > MAX_XML_CHARS) throw new PayloadInvalid(`the XML body has ${text.length} characters; at most ${MAX_XML_CHARS} are parsed`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new PayloadInvalid(`body is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  try {
    return xml.parse(text) as Record<string, unknown>;
  } catch (err) {
    // The validator lets a few malformed prologs through that the parser then rejects (found by fuzzing).
    throw new PayloadInvalid(`body is not well-formed XML: ${(err as Error).message}`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads a string field; numbers and other types are refused so nothing is silently coerced. */
export function stringField(obj: Record<string, unknown>, key: string, where: string, required: true): string;
export function stringField(obj: Record<string, unknown>, key: string, where: string, required?: false): string | undefined;
export function stringField(obj: Record<string, unknown>, key: string, where: string, required = false): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') {
    if (required) throw new PayloadInvalid(`${where}: "${key}" is missing`);
    return undefined;
  }
  if (typeof value !== 'string') throw new PayloadInvalid(`${where}: "${key}" must be a string, got ${Array.isArray(value) ? 'array' : typeof value}`);
  return value;
}

/**
 * A JSON field the provider sends as a string or a number (an error code, an address) as text. The
 * value comes from a parsed body, so it is `unknown`: anything else is written as String() writes it.
 */
export function fieldText(value: unknown): string {
  return String(value);
}

export function checkBatchSize(count: number): void {
  if (count > MAX_REPORTS_PER_REQUEST) {
    throw new PayloadInvalid(`${count} reports in one request; at most ${MAX_REPORTS_PER_REQUEST} are accepted`);
  }
}

/** A JSON array of report objects (a lone object is taken as a batch of one). */
export function reportObjects(value: unknown, what: string): Record<string, unknown>[] {
  const items = Array.isArray(value) ? value : [value];
  checkBatchSize(items.length);
  return items.map((item, i) => {
    if (!isObject(item)) throw new PayloadInvalid(`${what}[${i}] is not an object`);
    return item;
  });
}

import { sql, type RawBuilder } from 'kysely';
import { ID_PREFIXES as PREFIXES, ULID_ALPHABET as ALPHABET } from '../util/ids';

/**
 * How SQLite stores the service's ids and times: as short tagged BLOBs instead of their text.
 *
 * An id (`msg_01J…`: a prefix and a 26-character ULID, 30 bytes of text) is stored as 17 bytes: a
 * tag byte naming the prefix, then the ULID's 128 bits. A time (`2026-12-03T06:48:45.123Z`, 24
 * bytes of text) is stored as 7 bytes: a tag byte, then its milliseconds since 1970 in 6 bytes,
 * big-endian. Ids and times fill most of every row and index (docs/performance.md, "What 1 GB per
 * million would take": about a fifth of the file).
 *
 * The conversion is by value, at the one place every statement passes through (the prepared
 * statements of src/db/connect.ts and of the read threads, src/db/read-pool.ts): a parameter that
 * is exactly such a text is bound as its BLOB, and a BLOB of that shape read back is turned into
 * the same text. So the rest of the code, the API and PostgreSQL (which keeps text) see text as
 * before. It is a bijection on the values it touches, which keeps what SQL does with them:
 * - equality: a value and its stored form are one-to-one, whatever column it is in (a provider's
 *   message id that looks like one of ours is stored and found the same way);
 * - order: ids of one prefix sort as their text does (the ULID's bits, big-endian, compared as
 *   bytes), times as their text does (their milliseconds, big-endian).
 * What it does not keep: string functions (substr, `||`, LIKE, datetime) on such a column, and the
 * order between a stored value and text that is not of its form (a rollup bucket `2026-12-03T06`
 * against a time). One query did: the outbox's count of the subscriptions in `fanout` lists, one of
 * which may be a single id (src/db/fanout.ts reads it so). The raw log's LIKE search is on message
 * ids and recipients, with patterns that are never of these forms.
 *
 * BLOBs that are data — a raw request's body and the slices of it that reads take — come back as
 * they are: the columns named in BYTES are never converted.
 */

/** Result columns that hold bytes (raw bodies and slices of them), never an id or a time. */
const BYTES = new Set(['body', 'chunk']);

const TIME_TAG = 0x01;
const TIME_BYTES = 7;
const ID_BYTES = 17;
/** An id's tag byte is ID_TAG_BASE + its prefix's index in ID_PREFIXES (src/util/ids.ts). */
const ID_TAG_BASE = 0x11;
/** A prefix's tag by its three character codes. */
const TAG_OF = new Map<number, number>(PREFIXES.map((p, i) => [(p.charCodeAt(0) << 16) | (p.charCodeAt(1) << 8) | p.charCodeAt(2), ID_TAG_BASE + i]));

const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i += 1) DIGIT[ALPHABET.charCodeAt(i)] = i;

/** `msg_` + 26 ULID characters as 17 bytes, or null when `s` is not exactly that form. */
function packId(s: string): Buffer | null {
  if (s.charCodeAt(3) !== 0x5f) return null; // '_'
  const tag = TAG_OF.get((s.charCodeAt(0) << 16) | (s.charCodeAt(1) << 8) | s.charCodeAt(2));
  if (tag === undefined) return null;
  // a ULID is 128 bits in 26 characters of 5: its first character holds 3 (0-7)
  const first = DIGIT[s.charCodeAt(4)] ?? -1;
  if (first < 0 || first > 7) return null;
  const out = Buffer.allocUnsafe(ID_BYTES);
  out[0] = tag;
  let acc = first;
  let bits = 3;
  let o = 1;
  for (let i = 5; i < 30; i += 1) {
    const code = s.charCodeAt(i);
    const v = code < 128 ? DIGIT[code] : -1;
    if (v < 0) return null;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return out;
}

/**
 * The text of a stored id or time is written into this scratch buffer and read out as latin1 (one
 * string made, not one per character). These conversions run for every id and time of every
 * statement, on the ingest thread: written out by hand, they take a tenth of what the general
 * ways (a string built a character at a time; Date.parse and toISOString) took (docs/performance.md).
 */
const scratch = Buffer.alloc(30);
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));

function unpackId(b: Uint8Array): string {
  const prefix = PREFIXES[b[0] - ID_TAG_BASE];
  scratch.write(prefix, 0, 'latin1');
  scratch[3] = 0x5f;
  // 3 bits, then 25 groups of 5, from the 128 bits after the tag
  let acc = 0;
  let bits = 0;
  let i = 1;
  for (let o = 4; o < 30; o += 1) {
    const want = o === 4 ? 3 : 5;
    if (bits < want) {
      acc = ((acc << 8) | b[i++]) & 0xfff;
      bits += 8;
    }
    bits -= want;
    scratch[o] = ALPHABET_CODES[(acc >> bits) & ((1 << want) - 1)];
  }
  return scratch.toString('latin1', 0, 30);
}

const ZERO = 0x30;
const MS_PER_DAY = 86_400_000;

/** The number of `n` digits at `at` of `s`; -1 when one is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i += 1) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** An ISO time exactly as toISOString writes it (1970 on), as 7 bytes; null for any other text. */
function packTime(s: string): Buffer | null {
  // YYYY-MM-DDTHH:MM:SS.mmmZ
  if (s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(10) !== 0x54 || s.charCodeAt(13) !== 0x3a) return null;
  if (s.charCodeAt(16) !== 0x3a || s.charCodeAt(19) !== 0x2e || s.charCodeAt(23) !== 0x5a) return null;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const milli = digits(s, 20, 3);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) return null;
  const out = Buffer.allocUnsafe(TIME_BYTES);
  out[0] = TIME_TAG;
  out.writeUIntBE(Date.UTC(year, month - 1, day, hour, minute, second, milli), 1, 6);
  return out;
}

function put(at: number, value: number, n: number) {
  for (let i = at + n - 1; i >= at; i -= 1) {
    scratch[i] = ZERO + (value % 10);
    value = Math.floor(value / 10);
  }
}

/** toISOString of a stored time's milliseconds (1970 to 9999: what packTime stores). */
function unpackTime(b: Uint8Array): string {
  const ms = b[1] * 2 ** 40 + b[2] * 2 ** 32 + ((b[3] << 24) >>> 0) + (b[4] << 16) + (b[5] << 8) + b[6];
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  // the civil date of a day count (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms")
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  put(0, year, 4);
  scratch[4] = 0x2d;
  put(5, month, 2);
  scratch[7] = 0x2d;
  put(8, day, 2);
  scratch[10] = 0x54;
  put(11, Math.floor(rest / 3_600_000), 2);
  rest %= 3_600_000;
  scratch[13] = 0x3a;
  put(14, Math.floor(rest / 60_000), 2);
  rest %= 60_000;
  scratch[16] = 0x3a;
  put(17, Math.floor(rest / 1000), 2);
  scratch[19] = 0x2e;
  put(20, rest % 1000, 3);
  scratch[23] = 0x5a;
  return scratch.toString('latin1', 0, 24);
}

/** A value as SQLite stores it: an id or a time as its BLOB, anything else as it is. */
export function storedValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value.length === 30) return packId(value) ?? value;
  if (value.length === 24) return packTime(value) ?? value;
  return value;
}

/** A value as read back: the text of an id's or a time's BLOB, anything else as it is. */
export function readValue(value: unknown): unknown {
  if (!(value instanceof Uint8Array)) return value;
  if (value.length === ID_BYTES) {
    const tag = value[0];
    if (tag >= ID_TAG_BASE && tag < ID_TAG_BASE + PREFIXES.length) return unpackId(value);
  } else if (value.length === TIME_BYTES && value[0] === TIME_TAG) {
    return unpackTime(value);
  }
  return value;
}

/**
 * A column of times as text in SQL, whichever form its rows were stored in: the migrations that
 * take substrings of times (rollup buckets) may run on rows written in either.
 */
export function timeText(column: string, dialect: 'sqlite' | 'postgres'): RawBuilder<string> {
  return dialect === 'sqlite' ? sql<string>`dlr_text(${sql.ref(column)})` : sql<string>`${sql.ref(column)}`;
}

/** Parameters as SQLite stores them (a new array only when one changes). */
export function storedParams(params: readonly unknown[]): readonly unknown[] {
  let out: unknown[] | null = null;
  for (let i = 0; i < params.length; i += 1) {
    const v = params[i];
    const s = storedValue(v);
    if (s !== v) {
      out ??= params.slice();
      out[i] = s;
    }
  }
  return out ?? params;
}

/** A row read back, in place: each id's or time's BLOB as its text (not the columns of BYTES). */
export function readRow<R>(row: R): R {
  const r = row as Record<string, unknown>;
  for (const key in r) {
    const v = r[key];
    if (v instanceof Uint8Array && !BYTES.has(key)) r[key] = readValue(v);
  }
  return row;
}

export function readRows<R>(rows: R[]): R[] {
  for (const row of rows) readRow(row);
  return rows;
}

/** What the callers of a prepared statement use of it (kysely's SQLite driver, src/db/sql.ts). */
export interface StoredStatement {
  readonly reader: boolean;
  all(params: readonly unknown[]): unknown[];
  run(params: readonly unknown[]): { changes: number; lastInsertRowid: number | bigint };
  iterate(params: readonly unknown[]): IterableIterator<unknown>;
}

/** A better-sqlite3 statement that binds and reads ids and times in their stored form. */
export function storedStatement(stmt: StoredStatement): StoredStatement {
  return {
    reader: stmt.reader,
    all: (params) => readRows(stmt.all(storedParams(params))),
    run: (params) => stmt.run(storedParams(params)),
    *iterate(params) {
      for (const row of stmt.iterate(storedParams(params))) yield readRow(row);
    },
  };
}

import { randomFillSync } from 'node:crypto';
import { decodeTime, monotonicFactory } from 'ulid';

/**
 * ulid's default generator asks the OS for one random byte per character; this one takes them
 * from a pool refilled 4 KiB at a time (same source, one call per 256 ids).
 */
const pool = Buffer.alloc(4096);
let used = pool.length;
function prng(): number {
  if (used >= pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  return pool[used++] / 256;
}

const next = monotonicFactory(prng);

/** Crockford's base 32, the ULID's alphabet, in its sort order (upper case: the only form newId makes). */
export const ULID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The prefixes of the ids newId makes. Append only: a prefix's place in this list is the tag byte
 * that names it in SQLite's stored form of an id (src/db/stored-values.ts).
 */
export const ID_PREFIXES = ['raw', 'msg', 'rpt', 'evt', 'dlv', 'att', 'sub', 'req', 'aud'] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

/**
 * Sortable, prefixed identifiers: `raw_01J…`, `evt_01J…`. Sorting by id is sorting by creation.
 * `at`: the time (ms) it names, now when not given; an earlier one than the last id's names that
 * one's instead (the ids stay in order).
 */
export function newId(prefix: IdPrefix, at?: number): string {
  return `${prefix}_${next(at)}`;
}

/** The time (ms) an id of newId names. */
export function timeOfId(id: string): number {
  return decodeTime(id.slice(id.indexOf('_') + 1));
}

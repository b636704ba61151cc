import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

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

/** Sortable, prefixed identifiers: `raw_01J…`, `evt_01J…`. Sorting by id is sorting by creation. */
export function newId(prefix: 'raw' | 'msg' | 'rpt' | 'evt' | 'dlv' | 'att' | 'sub' | 'req' | 'aud'): string {
  return `${prefix}_${next()}`;
}

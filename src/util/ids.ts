import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

/** Sortable, prefixed identifiers: `raw_01J…`, `evt_01J…`. Sorting by id is sorting by creation. */
export function newId(prefix: 'raw' | 'msg' | 'rpt' | 'evt' | 'dlv' | 'att' | 'sub' | 'req' | 'aud'): string {
  return `${prefix}_${next()}`;
}

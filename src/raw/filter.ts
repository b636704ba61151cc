import type { Kysely } from 'kysely';
import { matching } from '../db/filters';
import type { Database, RawRequestRow } from '../db/types';

export interface RawFilter {
  provider?: string;
  account?: string;
  verdict?: string;
  since?: string;
  until?: string;
  /** A message id or recipient that one of the request's reports named (masked forms match too). */
  q?: string;
  ids?: string[];
}

/**
 * A masked value as logs show it (`138******00`, `a***@example.com`): each run of `*` matches
 * anything (a `_` or `%` in the term is a LIKE wildcard too, which only widens the search). The
 * characters before the first `*` bound an index range; a term that starts with `*` has none and
 * walks the index whole (within server.readTimeoutSeconds).
 */
function maskedPattern(q: string): { like: string; prefix: string } | null {
  if (!q.includes('*')) return null;
  return { like: q.replace(/\*+/g, '%'), prefix: q.slice(0, q.indexOf('*')) };
}

/** The first string after every string that starts with `prefix` (its last character + 1). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * The messages a search term names, through an index each: by message id (`messages_message_id`)
 * and by recipient (`messages_recipient_id`), united, never an OR over both columns (which no
 * index serves). The requests found are then sorted newest first: only those that named the term.
 */
function messagesNamed(db: Kysely<Database>, term: string) {
  const pattern = maskedPattern(term);
  const by = (column: 'message_id' | 'recipient') => {
    let q = db.selectFrom('messages').select('id');
    if (!pattern) return q.where(column, '=', term);
    if (pattern.prefix !== '') q = q.where(column, '>=', pattern.prefix).where(column, '<', prefixEnd(pattern.prefix));
    return q.where(column, 'like', pattern.like);
  };
  return by('message_id').unionAll(by('recipient')); // ALL: no merge sort, a repeat changes nothing in an IN list
}

/** The matching rows, nothing selected yet: a list selects the start of each body, replay and export the whole row. */
export function filtered(db: Kysely<Database>, f: RawFilter) {
  let q = db.selectFrom('raw_requests').where((eb) =>
    matching(eb, [
      ['provider', '=', f.provider],
      ['account', '=', f.account],
      ['verdict', '=', f.verdict],
      ['received_at', '>=', f.since],
      ['received_at', '<', f.until],
      ['id', 'in', f.ids],
    ]),
  );
  if (f.q) {
    const term = f.q;
    q = q.where('id', 'in', (eb) => eb.selectFrom('reports').select('raw_id').where('message_pk', 'in', messagesNamed(db, term)));
  }
  return q;
}

/** Matching raw requests, oldest first, a batch at a time (replay and export walk the log this way). */
export async function* walkRaw(db: Kysely<Database>, f: RawFilter, max: number, batch = 200): AsyncGenerator<RawRequestRow> {
  let after = '';
  let yielded = 0;
  while (yielded < max) {
    const rows = await filtered(db, f)
      .selectAll()
      .where('id', '>', after)
      .orderBy('id', 'asc')
      .limit(Math.min(batch, max - yielded))
      .execute();
    if (rows.length === 0) return;
    for (const row of rows) yield row;
    yielded += rows.length;
    after = rows[rows.length - 1].id;
  }
}

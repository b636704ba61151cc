import type { Kysely } from 'kysely';
import { ROWS_PER_STATEMENT, Statement } from '../db/sql';
import type { Database, MessageRow, ReportRow } from '../db/types';
import { timeOfId } from '../util/ids';
import { iso } from '../util/time';

/**
 * What the stored rows leave out because the database holds it elsewhere, and how reads put it
 * back (docs/performance.md, "History rows without what they repeat"): every read of `reports` or
 * `messages` rows that answers with them goes through these.
 */

/**
 * A history row's columns as stored: '' for what is known without them (readHistoryRow puts them
 * back) — its event's id when the event has the report's own ULID (store.ts reportIdFor), its type
 * when it is `message.status` (most reports), its receive time when it is the time its raw
 * request's id names (as a callback's does).
 */
export function storedEventId(eventId: string | null, reportId: string): string | null {
  return eventId !== null && eventId.slice(4) === reportId.slice(4) ? '' : eventId;
}

export function storedType(type: string): string {
  return type === 'message.status' ? '' : type;
}

export function storedReceivedAt(receivedAt: Date, rawId: string): string {
  return receivedAt.getTime() === timeOfId(rawId) ? '' : iso(receivedAt);
}

/** A history row as read: what it stores as '' (storedEventId, storedType, storedReceivedAt) put back. */
export function readHistoryRow(row: ReportRow): ReportRow {
  if (row.event_id === '') row.event_id = `evt_${row.id.slice(4)}`;
  if (row.type === '') row.type = 'message.status';
  if (row.received_at === '') row.received_at = new Date(timeOfId(row.raw_id)).toISOString();
  return row;
}

/**
 * A new message row as stored: the attributes a message is made with are its first report's
 * (store.ts newMessage), which its history row holds too, so the message's row says '' until a
 * later report changes them: ~65 bytes of most messages. '{}' (a message its first report did not
 * change, or a registration's) is stored as it is.
 */
export function storedMessage(row: MessageRow): MessageRow {
  return row.attributes === '{}' ? row : { ...row, attributes: '' };
}

/** The attributes of a message's first report: what its row's '' stands for. */
const selectFirstAttributes = new Statement('SELECT attributes FROM reports WHERE message_pk = ? ORDER BY id LIMIT 1');

/**
 * A message's attributes as read: its row's, or its first report's where the row says ''. For one
 * message on the ingest path, a fixed statement; readMessageRows reads a page's in one query.
 */
export async function attributesOf(db: Kysely<Database>, row: Pick<MessageRow, 'id' | 'attributes'>): Promise<string> {
  if (row.attributes !== '') return row.attributes;
  const first = await selectFirstAttributes.first<{ attributes: string }>(db, [row.id]);
  if (!first) throw new Error(`message ${row.id} has no history to read its attributes from`);
  return first.attributes;
}

/** Message rows as read: each row's attributes filled in where it says '' (one query per 500 rows). */
export async function readMessageRows<R extends Pick<MessageRow, 'id' | 'attributes'>>(db: Kysely<Database>, rows: R[]): Promise<R[]> {
  const missing = rows.filter((r) => r.attributes === '');
  for (let i = 0; i < missing.length; i += ROWS_PER_STATEMENT) {
    const chunk = missing.slice(i, i + ROWS_PER_STATEMENT);
    const firsts = await db
      .selectFrom('reports')
      .select(['message_pk', 'attributes'])
      .where(
        'message_pk',
        'in',
        chunk.map((r) => r.id),
      )
      .where('id', '=', (eb) =>
        eb
          .selectFrom('reports as f')
          .select((f) => f.fn.min('f.id').as('first'))
          .whereRef('f.message_pk', '=', 'reports.message_pk'),
      )
      .execute();
    const byPk = new Map(firsts.map((f) => [f.message_pk, f.attributes]));
    for (const r of chunk) {
      const attributes = byPk.get(r.id);
      if (attributes === undefined) throw new Error(`message ${r.id} has no history to read its attributes from`);
      r.attributes = attributes;
    }
  }
  return rows;
}

import type { Kysely } from 'kysely';
import type { DialectName } from '../connect';

/**
 * Smaller list indexes on SQLite (issue #20, disk per million messages).
 *
 * GET /v1/messages filtered by provider, provider and status, account or status walked
 * (column…, id) indexes newest first: each entry repeated the message's 30-byte text key. An
 * SQLite index entry already ends with the row's rowid, and `messages` is a rowid table whose
 * rows are only ever appended (never deleted, never vacuumed), each with a key drawn from a
 * monotonic ULID inside the transaction that inserts it, under the write lock: rowid order is
 * creation order, as key order is. So these lists now walk (column…) indexes in rowid order
 * (src/status/queries.ts listMessages): 40–60 % of each index's size, 8 % of the database
 * (200,000-message growth database, vacuumed: 293 → 269 MB).
 *
 * Kept as they were: (recipient, id), which the raw log's search probes with a message's key
 * (src/raw/filter.ts namesTerm), and PostgreSQL's indexes (its entries point at a heap tuple,
 * not a rowid; the keyset order there stays the key).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  if (dialect !== 'sqlite') return;
  for (const [name, columns] of LIST_INDEXES) {
    await db.schema.createIndex(name).on('messages').columns(columns).execute();
    await db.schema.dropIndex(`${name}_id`).execute();
  }
}

const LIST_INDEXES: readonly (readonly [string, string[]])[] = [
  ['messages_provider', ['provider']],
  ['messages_provider_status', ['provider', 'status']],
  ['messages_account', ['account']],
  ['messages_status', ['status']],
];

import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connect';

/**
 * SQLite: a message's history is stored with the message's reports side by side (issue #20, half
 * the disk). `reports` becomes a WITHOUT ROWID table keyed by (message_pk, id): the history of a
 * message, in order, is one range of the table itself, and the duplicate check (message_pk,
 * dedupe_key) reads that same short range (a message has a handful of reports). Three indexes go:
 * the rowid table's primary key on `id`, `reports_message` (message_pk, dedupe_key) and
 * `reports_message_id` (message_pk, id). `reports_raw` stays (a raw request's reports, the raw
 * log's search), now holding the table's key beside each raw id. On the bench's database the
 * history and its indexes take a quarter less (docs/performance.md).
 * Nothing reads a report by its id alone.
 *
 * The table is copied once, in key order (about 2.5 s per 220,000 reports on the bench machine, so
 * some 25 s at start on a database of two million messages). PostgreSQL keeps its heap table and
 * indexes: its tables are not clustered, and the batch path reads (message_pk, dedupe_key).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  if (dialect !== 'sqlite') return;
  await db.schema
    .createTable('reports_next')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('message_pk', 'text', (c) => c.notNull().references('messages.id'))
    .addColumn('raw_id', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text')
    .addColumn('action', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('changed', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('event_id', 'text')
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('reports_pk', ['message_pk', 'id'])
    .modifyEnd(sql`WITHOUT ROWID`)
    .execute();
  const columns = sql.raw(
    'id, message_pk, raw_id, dedupe_key, type, status, action, error_code, error_message, occurred_at, received_at, changed, reason, event_id, attributes',
  );
  await sql`INSERT INTO reports_next (${columns}) SELECT ${columns} FROM reports ORDER BY message_pk, id`.execute(db);
  await db.schema.dropTable('reports').execute();
  await db.schema.alterTable('reports_next').renameTo('reports').execute();
  await db.schema.createIndex('reports_raw').on('reports').columns(['raw_id']).execute();
}

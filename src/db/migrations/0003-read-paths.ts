import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connect';
import { timeText } from '../stored-values';

/**
 * Reads at scale and half the disk (issue #20): deflated raw bodies, indexes that match each list's filter and order (newest first by id,
 * so a page is the first rows of one index range: no sort, no scan), lookups by message id and
 * recipient for the raw-log search, and the stats rollups.
 *
 * `stats_rollup` counts messages by the minute (`period` 'm', bucket `YYYY-MM-DDTHH:MM`) and the hour
 * ('h', `YYYY-MM-DDTHH`) of their `created_at`, per provider, account, channel, current status
 * ('' for none) and error code ('' for none). The ingest transaction keeps it (src/status/rollups.ts):
 * +1 when a message is created, −1/+1 when its status changes. This migration fills it from the
 * messages that exist.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('messages_status').execute();
  await db.schema.dropIndex('messages_recipient').execute();
  await db.schema.createIndex('messages_provider_id').on('messages').columns(['provider', 'id']).execute();
  await db.schema.createIndex('messages_provider_status_id').on('messages').columns(['provider', 'status', 'id']).execute();
  await db.schema.createIndex('messages_account_id').on('messages').columns(['account', 'id']).execute();
  await db.schema.createIndex('messages_status_id').on('messages').columns(['status', 'id']).execute();
  await db.schema.createIndex('messages_recipient_id').on('messages').columns(['recipient', 'id']).execute();
  await db.schema.createIndex('messages_message_id').on('messages').columns(['message_id']).execute();
  await db.schema.createIndex('messages_created').on('messages').columns(['created_at']).execute();

  // raw bodies may be stored deflated (src/raw/store.ts storedForm); rows before stay as they are
  await db.schema.alterTable('raw_requests').addColumn('body_encoding', 'text').execute();
  await db.schema.createIndex('raw_requests_provider_id').on('raw_requests').columns(['provider', 'id']).execute();
  await db.schema.createIndex('raw_requests_verdict_id').on('raw_requests').columns(['verdict', 'id']).execute();
  await db.schema.dropIndex('raw_requests_verdict').execute();

  // a message's newest reports (its history), a request's events in order
  await db.schema.createIndex('reports_message_id').on('reports').columns(['message_pk', 'id']).execute();
  await db.schema.dropIndex('events_raw').execute();
  await db.schema.createIndex('events_raw_id').on('events').columns(['raw_id', 'id']).execute();

  await db.schema.createIndex('deliveries_subscription_id').on('deliveries').columns(['subscription_id', 'id']).execute();
  await db.schema.createIndex('audit_log_action_id').on('audit_log').columns(['action', 'id']).execute();

  await db.schema
    .createTable('stats_rollup')
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('stats_rollup_key', ['period', 'bucket', 'provider', 'account', 'channel', 'status', 'error_code'])
    .execute();
  for (const [period, chars] of [
    ['m', 16],
    ['h', 13],
  ] as const) {
    await sql`
      INSERT INTO stats_rollup (period, bucket, provider, account, channel, status, error_code, n)
      SELECT ${period}, substr(${timeText('created_at', dialect)}, 1, ${sql.lit(chars)}), provider, account, channel, coalesce(status, ''), coalesce(error_code, ''), count(*)
      FROM messages
      GROUP BY substr(${timeText('created_at', dialect)}, 1, ${sql.lit(chars)}), provider, account, channel, coalesce(status, ''), coalesce(error_code, '')`.execute(
      db,
    );
  }
}

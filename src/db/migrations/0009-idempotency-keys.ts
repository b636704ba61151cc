import type { Kysely } from 'kysely';
import type { DialectName } from '../connect';

/**
 * `Idempotency-Key` on admin POSTs (issue #18, src/http/idempotency.ts): one row per token (actor)
 * and key, holding a fingerprint of the request (method, path, body) and, once the request has been
 * answered, its status and JSON body. `status` null: the first request is still being served.
 * Rows expire after 24 h; `expires_at` is indexed for the retention job's purge
 * (src/replay/retention.ts). Text and integer columns only: the same DDL on both dialects.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('body', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['actor', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_expiry').on('idempotency_keys').column('expires_at').execute();
}

import type { Kysely } from 'kysely';
import type { DialectName } from '../connect';

/**
 * Reads for support and operators (issues #15, #16): a send registration found by its business
 * reference, newest first (src/status/search.ts), like messages by id and by recipient (migration
 * 0003); and the oldest pending delivery found in one index step (the
 * dlr_outbox_oldest_pending_age_seconds gauge, src/ops/metrics.ts), however long the backlog.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.createIndex('registrations_reference').on('registrations').columns(['reference', 'updated_at']).execute();
  await db.schema.createIndex('deliveries_state_created').on('deliveries').columns(['state', 'created_at']).execute();
}

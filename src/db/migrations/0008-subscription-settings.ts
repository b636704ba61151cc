import type { Kysely } from 'kysely';
import type { DialectName } from '../connect';

/**
 * Per-subscription settings (issue #18, "Subscribers"; src/outbox/subscriptions.ts):
 * - `headers`: JSON object of custom request headers sent with every delivery (null: none);
 * - `rate_limit_per_second`: deliveries per second the worker allows the subscription (null: no limit);
 * - `failing_since`: when the first failed attempt after the last success started (null: the last
 *   attempt succeeded, or none yet). The worker disables a subscription whose attempts have all
 *   failed for `delivery.disableAfterFailingSeconds` (src/outbox/auto-disable.ts).
 * Plain columns on both dialects: existing rows get null for all three (no settings, not failing).
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('subscriptions').addColumn('headers', 'text').execute();
  await db.schema.alterTable('subscriptions').addColumn('rate_limit_per_second', 'integer').execute();
  await db.schema.alterTable('subscriptions').addColumn('failing_since', 'text').execute();
}

import type { Kysely } from 'kysely';

/**
 * The worker claims due deliveries one subscription at a time (src/outbox/claim.ts): a
 * subscription at its in-flight cap or rate limit is simply not asked, instead of being filtered
 * out of one scan of every due delivery, which read a whole backlog (tens of milliseconds on the
 * main thread at each claim) when the busy subscription owned it. `deliveries_subscription`
 * (subscription_id, state) becomes (subscription_id, state, next_attempt_at): the same prefix for
 * the counts by subscription and state, and each subscription's due range in order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_subscription').execute();
  await db.schema.createIndex('deliveries_subscription_due').on('deliveries').columns(['subscription_id', 'state', 'next_attempt_at']).execute();
}

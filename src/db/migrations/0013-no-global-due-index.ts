import type { Kysely } from 'kysely';

/**
 * `deliveries_due` (state, next_attempt_at) served the worker's single claim over every
 * subscription; since migration 0012 the claim reads each subscription's range of
 * `deliveries_subscription_due`, and what asks by state alone (the backlog, the oldest pending,
 * dead letters) reads `deliveries_state_created`. Nothing reads it any more, and every delivery
 * row paid for it twice: when made, and when its state changed. Dropped.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('deliveries_due').execute();
}

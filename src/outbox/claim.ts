import type { Db } from '../db/connect';

export interface ClaimedDelivery {
  id: string;
  event_id: string;
  subscription_id: string;
  attempts: number;
  next_trigger: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: string | null;
  /** The subscription's custom headers (JSON) and rate limit (migration 0008). */
  headers: string | null;
  rate_limit_per_second: number | null;
  payload: string;
}

/**
 * Claims due deliveries of enabled subscriptions for one worker with a lease (`claimed_until`):
 * a worker that dies mid-delivery loses its claim when the lease ends and another takes over.
 * This is the one place that differs by dialect: PostgreSQL workers of several replicas skip
 * each other's locked rows; SQLite serializes writers anyway.
 */
export async function claimDue(dbh: Db, workerId: string, now: Date, limit: number, busySubscriptions: string[], leaseMs: number): Promise<ClaimedDelivery[]> {
  const nowIso = now.toISOString();
  return dbh.db.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom('deliveries')
      .innerJoin('subscriptions', 'subscriptions.id', 'deliveries.subscription_id')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .select([
        'deliveries.id',
        'deliveries.event_id',
        'deliveries.subscription_id',
        'deliveries.attempts',
        'deliveries.next_trigger',
        'subscriptions.url',
        'subscriptions.secret',
        'subscriptions.previous_secret',
        'subscriptions.previous_secret_until',
        'subscriptions.headers',
        'subscriptions.rate_limit_per_second',
        'events.payload',
      ])
      .where('deliveries.state', '=', 'pending')
      .where('deliveries.next_attempt_at', '<=', nowIso)
      .where((eb) => eb.or([eb('deliveries.claimed_until', 'is', null), eb('deliveries.claimed_until', '<', nowIso)]))
      .where('subscriptions.enabled', '=', 1);
    if (busySubscriptions.length > 0) q = q.where('deliveries.subscription_id', 'not in', busySubscriptions);
    q = q.orderBy('deliveries.next_attempt_at').limit(limit);
    if (dbh.dialect === 'postgres') q = q.forUpdate('deliveries').skipLocked();
    const rows = await q.execute();
    if (rows.length === 0) return [];
    await trx
      .updateTable('deliveries')
      .set({ claimed_by: workerId, claimed_until: new Date(now.getTime() + leaseMs).toISOString() })
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    return rows;
  });
}

/** Gives a claim back untouched (shutdown, or a subscription already at its in-flight cap). */
export async function releaseClaim(dbh: Db, deliveryId: string, workerId: string): Promise<void> {
  await releaseClaims(dbh, [deliveryId], workerId);
}

/** Gives claims back untouched, in one statement (a subscription at its in-flight cap or its rate limit). */
export async function releaseClaims(dbh: Db, deliveryIds: string[], workerId: string): Promise<void> {
  if (deliveryIds.length === 0) return;
  await dbh.db
    .updateTable('deliveries')
    .set({ claimed_by: null, claimed_until: null })
    .where('id', 'in', deliveryIds)
    .where('claimed_by', '=', workerId)
    .execute();
}

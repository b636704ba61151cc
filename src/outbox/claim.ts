import type { Kysely } from 'kysely';
import type { Db } from '../db/connect';
import { isPostgres } from '../db/sql';
import type { Database } from '../db/types';

export interface ClaimedDelivery {
  id: string;
  event_id: string;
  subscription_id: string;
  attempts: number;
  next_trigger: string;
  next_attempt_at: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: string | null;
  /** The subscription's custom headers (JSON) and rate limit (migration 0008). */
  headers: string | null;
  rate_limit_per_second: number | null;
  payload: string;
}

/** Oldest due first (ISO times sort as text). */
const byDue = (a: { next_attempt_at: string }, b: { next_attempt_at: string }) =>
  a.next_attempt_at < b.next_attempt_at ? -1 : a.next_attempt_at > b.next_attempt_at ? 1 : 0;

/**
 * Claims due deliveries of enabled subscriptions for one worker with a lease (`claimed_until`):
 * a worker that dies mid-delivery loses its claim when the lease ends and another takes over.
 * The oldest due first, each subscription's read on its own through deliveries_subscription_due
 * (subscription, state, next attempt): a subscription left out (at its in-flight cap, out of its
 * rate limit) costs nothing, where one scan of every due delivery would read all of its backlog
 * at each claim (migration 0012). The full rows (URL, secret, payload) are read for the chosen
 * ones only. PostgreSQL workers of several replicas skip each other's locked rows; SQLite
 * serializes writers anyway. Runs in the caller's transaction (the worker's step).
 */
export async function claimIn(
  trx: Kysely<Database>,
  workerId: string,
  now: Date,
  limit: number,
  busySubscriptions: string[],
  leaseMs: number,
): Promise<ClaimedDelivery[]> {
  const nowIso = now.toISOString();
  const busy = new Set(busySubscriptions);
  const subscriptions = (await trx.selectFrom('subscriptions').select('id').where('enabled', '=', 1).orderBy('id').execute()).filter((s) => !busy.has(s.id));
  const due: { id: string; next_attempt_at: string }[] = [];
  for (const { id } of subscriptions) {
    let q = trx
      .selectFrom('deliveries')
      .select(['id', 'next_attempt_at'])
      .where('subscription_id', '=', id)
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', nowIso)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', nowIso)]))
      .orderBy('next_attempt_at')
      .limit(limit);
    if (isPostgres(trx)) q = q.forUpdate().skipLocked();
    due.push(...(await q.execute()));
  }
  if (due.length === 0) return [];
  const chosen = due
    .sort(byDue)
    .slice(0, limit)
    .map((d) => d.id);
  const rows = await trx
    .selectFrom('deliveries')
    .innerJoin('subscriptions', 'subscriptions.id', 'deliveries.subscription_id')
    .innerJoin('events', 'events.id', 'deliveries.event_id')
    .select([
      'deliveries.id',
      'deliveries.event_id',
      'deliveries.subscription_id',
      'deliveries.attempts',
      'deliveries.next_trigger',
      'deliveries.next_attempt_at',
      'subscriptions.url',
      'subscriptions.secret',
      'subscriptions.previous_secret',
      'subscriptions.previous_secret_until',
      'subscriptions.headers',
      'subscriptions.rate_limit_per_second',
      'events.payload',
    ])
    .where('deliveries.id', 'in', chosen)
    .execute();
  await trx
    .updateTable('deliveries')
    .set({ claimed_by: workerId, claimed_until: new Date(now.getTime() + leaseMs).toISOString() })
    .where('id', 'in', chosen)
    .execute();
  return rows.sort(byDue); // the worker launches them in this order
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

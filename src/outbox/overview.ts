import type { Kysely } from 'kysely';
import type { Database } from '../db/types';
import { redactUrl } from '../util/mask';
import { unexpanded } from '../db/fanout';

/**
 * What support and operators read of the outbox beside a message or on the health page: the
 * deliveries an event went to, with their attempts (response bodies stay behind the admin route
 * GET /v1/deliveries/:id), and the backlog by subscription.
 */

/** The deliveries of one event, each with its attempts in order. */
export async function eventDeliveries(db: Kysely<Database>, eventId: string) {
  const deliveries = await db
    .selectFrom('deliveries')
    .innerJoin('subscriptions', 'subscriptions.id', 'deliveries.subscription_id')
    .select([
      'deliveries.id',
      'deliveries.subscription_id',
      'subscriptions.url',
      'deliveries.state',
      'deliveries.attempts',
      'deliveries.last_status',
      'deliveries.last_error',
      'deliveries.next_attempt_at',
    ])
    .where('deliveries.event_id', '=', eventId)
    .orderBy('deliveries.subscription_id') // the order of its unique key (event_id, subscription_id): no sort
    .execute();
  const attempts =
    deliveries.length === 0
      ? []
      : await db
          .selectFrom('delivery_attempts')
          .select(['delivery_id', 'attempt', 'trigger', 'started_at', 'duration_ms', 'status_code', 'error'])
          .where(
            'delivery_id',
            'in',
            deliveries.map((d) => d.id),
          )
          .orderBy('delivery_id')
          .orderBy('attempt')
          .execute();
  return {
    items: deliveries.map((d) => ({
      ...d,
      url: redactUrl(d.url), // read tokens see it: a `?token=` in a subscriber's URL stays the admin's
      next_attempt_at: d.state === 'pending' ? d.next_attempt_at : null,
      attempt_list: attempts.filter((a) => a.delivery_id === d.id).map(({ delivery_id: _id, ...a }) => a),
    })),
  };
}

/** Deliveries waiting or dead, in all and per subscription, and how long the oldest waiting one has waited. */
export async function outboxSummary(db: Kysely<Database>, now: Date) {
  const subscriptions = await db.selectFrom('subscriptions').select(['id', 'url', 'enabled']).orderBy('id').execute();
  // per subscription through deliveries_subscription_due (subscription_id, state, …): a few index ranges
  const counts = await db
    .selectFrom('deliveries')
    .select((eb) => ['subscription_id', 'state', eb.fn.countAll<number | string>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('state', 'in', ['pending', 'dead'])
    .groupBy(['subscription_id', 'state'])
    .execute();
  // and the deliveries of events the worker has not fanned out yet, waiting like pending ones
  const later = await Promise.all(subscriptions.map((s) => unexpanded(db, s.id)));
  for (const [i, s] of subscriptions.entries()) {
    const { count: n, oldest } = later[i];
    if (n > 0 && oldest !== null) counts.push({ subscription_id: s.id, state: 'pending', n, oldest });
  }
  const count = (id: string | null, state: string) =>
    counts.filter((c) => (id === null || c.subscription_id === id) && c.state === state).reduce((n, c) => n + Number(c.n), 0);
  // a disabled subscription's deliveries wait for good: they are its backlog, not the outbox's age
  const enabled = new Set(subscriptions.filter((s) => s.enabled === 1).map((s) => s.id));
  const oldest = counts
    .filter((c) => c.state === 'pending' && c.oldest !== null && enabled.has(c.subscription_id))
    .map((c) => c.oldest)
    .sort()[0];
  return {
    pending: count(null, 'pending'),
    dead: count(null, 'dead'),
    oldest_pending_age_seconds: oldest === undefined ? null : Math.max(0, Math.round((now.getTime() - Date.parse(oldest)) / 1000)),
    subscriptions: subscriptions.map((s) => ({
      id: s.id,
      url: redactUrl(s.url),
      enabled: s.enabled === 1,
      pending: count(s.id, 'pending'),
      dead: count(s.id, 'dead'),
    })),
  };
}

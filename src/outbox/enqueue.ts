import type { Transaction } from 'kysely';
import { fixed, insertRows } from '../db/sql';
import type { Database } from '../db/types';
import type { Outbox } from '../status/store';
import { newId } from '../util/ids';
import { matchesFilter, type SubscriptionFilter } from './filter';
import { iso } from '../util/time';

const insertEvents = insertRows('events', ['id', 'message_pk', 'raw_id', 'type', 'payload', 'created_at']);
const selectSubscriptions = fixed('subscriptions')`SELECT id, filter FROM subscriptions WHERE enabled = 1`;
const insertDeliveries = insertRows('deliveries', ['id', 'event_id', 'subscription_id', 'state', 'next_attempt_at', 'created_at', 'updated_at']);

/**
 * The enabled subscriptions, read once per transaction: on SQLite one transaction holds a whole
 * group of ingests (src/db/group-commit.ts), and nothing can change them while it is open.
 */
const subscriptionsByTransaction = new WeakMap<Transaction<Database>, Promise<{ id: string; filter: SubscriptionFilter }[]>>();
function subscriptionsOf(trx: Transaction<Database>) {
  let subs = subscriptionsByTransaction.get(trx);
  if (!subs) {
    subs = selectSubscriptions
      .all<{ id: string; filter: string }>(trx, {})
      .then((rows) => rows.map((s) => ({ id: s.id, filter: JSON.parse(s.filter) as SubscriptionFilter })));
    subscriptionsByTransaction.set(trx, subs);
  }
  return subs;
}

/**
 * The transactional outbox: events are written in the same transaction as the status change
 * that produced them, with one pending delivery per matching subscription (an event no
 * subscription matches is not written: see src/status/event-history.ts). The worker
 * (src/outbox/worker.ts) delivers them later; nothing slow happens in the callback request.
 */
export function createOutbox(trx: Transaction<Database>, now: Date): Outbox {
  const nowIso = iso(now);
  const outbox: Outbox = {
    async enqueue(event, messagePk) {
      return (await outbox.enqueueAll([{ event, messagePk }]))[0];
    },
    async enqueueAll(items) {
      const subs = await subscriptionsOf(trx);
      const times = items.map(({ at }) => (at ? iso(at) : nowIso));
      const deliveries = items.map(({ event }, i) =>
        subs
          .filter((s) => matchesFilter(s.filter, event))
          .map((s) => ({
            id: newId('dlv'),
            event_id: event.id,
            subscription_id: s.id,
            state: 'pending',
            next_attempt_at: times[i],
            created_at: times[i],
            updated_at: times[i],
          })),
      );
      // Only an event some subscription takes is stored (the worker delivers from it); the others
      // are rebuilt from the history when asked for (src/status/event-history.ts).
      const taken = items.flatMap((item, i) => (deliveries[i].length > 0 ? [{ ...item, at: times[i] }] : []));
      await insertEvents.run(
        trx,
        taken.map(({ event, messagePk, at }) => ({
          id: event.id,
          message_pk: messagePk,
          raw_id: event.raw_id ?? '', // message.stale: made by the sweep, from no request
          type: event.type,
          payload: JSON.stringify(event),
          created_at: at,
        })),
      );
      await insertDeliveries.run(trx, deliveries.flat());
      return deliveries.map((d) => d.length);
    },
  };
  return outbox;
}

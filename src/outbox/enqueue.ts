import type { Transaction } from 'kysely';
import { fixed, insertRows } from '../db/sql';
import type { Database } from '../db/types';
import type { Outbox } from '../status/store';
import { matchesFilter, type SubscriptionFilter } from './filter';
import { iso } from '../util/time';

const insertEvents = insertRows('events', ['id', 'message_pk', 'raw_id', 'type', 'payload', 'created_at', 'fanout']);
const selectSubscriptions = fixed('subscriptions')`SELECT id, filter FROM subscriptions WHERE enabled = 1`;

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
 * that produced them, each with the subscriptions that take it (an event no subscription takes is
 * not written: see src/status/event-history.ts). The ingest transaction writes one row per event
 * whatever the number of subscriptions (issue #21); the worker makes the delivery rows from it in
 * batches (src/outbox/expand.ts) and delivers them. Nothing slow happens in the callback request.
 */
export function createOutbox(trx: Transaction<Database>, now: Date): Outbox {
  const nowIso = iso(now);
  const outbox: Outbox = {
    async enqueue(event, messagePk) {
      return (await outbox.enqueueAll([{ event, messagePk }]))[0];
    },
    async enqueueAll(items) {
      const subs = await subscriptionsOf(trx);
      const taking = items.map(({ event }) => subs.filter((s) => matchesFilter(s.filter, event)).map((s) => s.id));
      const taken = items.flatMap((item, i) => (taking[i].length > 0 ? [{ ...item, fanout: taking[i].join(',') }] : []));
      await insertEvents.run(
        trx,
        taken.map(({ event, messagePk, at, fanout }) => ({
          id: event.id,
          message_pk: messagePk,
          raw_id: event.raw_id ?? '', // message.stale: made by the sweep, from no request
          type: event.type,
          payload: JSON.stringify(event),
          created_at: at ? iso(at) : nowIso,
          fanout,
        })),
      );
      return taking.map((ids) => ids.length);
    },
  };
  return outbox;
}

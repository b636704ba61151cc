import type { Transaction } from 'kysely';
import { insertRows, Statement } from '../db/sql';
import type { Database } from '../db/types';
import type { StatusEvent } from '../status/types';
import { newId } from '../util/ids';
import { matchesFilter, type SubscriptionFilter } from './filter';

/**
 * The transactional outbox: events are written in the same transaction as the status change
 * that produced them, with one pending delivery per matching subscription. The worker
 * (src/outbox/worker.ts) delivers them later; nothing slow happens in the callback request.
 */
export interface Outbox {
  /** Stores the event and its deliveries; returns how many deliveries were queued. */
  enqueue(event: StatusEvent, messagePk: string): Promise<number>;
}

const insertEvent = new Statement('INSERT INTO events (id, message_pk, raw_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)');
const selectSubscriptions = new Statement('SELECT id, filter FROM subscriptions WHERE enabled = 1');
const insertDeliveries = insertRows('deliveries', ['id', 'event_id', 'subscription_id', 'state', 'next_attempt_at', 'created_at', 'updated_at']);

export function createOutbox(trx: Transaction<Database>, now: Date): Outbox {
  let subscriptions: { id: string; filter: SubscriptionFilter }[] | null = null;
  const nowIso = now.toISOString();
  return {
    async enqueue(event, messagePk) {
      await insertEvent.run(trx, [event.id, messagePk, event.raw_id, event.type, JSON.stringify(event), nowIso]);
      subscriptions ??= (await selectSubscriptions.all<{ id: string; filter: string }>(trx, [])).map((s) => ({
        id: s.id,
        filter: JSON.parse(s.filter) as SubscriptionFilter,
      }));
      const matching = subscriptions.filter((s) => matchesFilter(s.filter, event));
      if (matching.length > 0) {
        await insertDeliveries(matching.length).run(
          trx,
          matching.flatMap((s) => [newId('dlv'), event.id, s.id, 'pending', nowIso, nowIso, nowIso]),
        );
      }
      return matching.length;
    },
  };
}

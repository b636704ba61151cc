import type { Transaction } from 'kysely';
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

export function createOutbox(trx: Transaction<Database>, now: Date): Outbox {
  let subscriptions: { id: string; filter: SubscriptionFilter }[] | null = null;
  const nowIso = now.toISOString();
  return {
    async enqueue(event, messagePk) {
      await trx
        .insertInto('events')
        .values({ id: event.id, message_pk: messagePk, raw_id: event.raw_id, type: event.type, payload: JSON.stringify(event), created_at: nowIso })
        .execute();
      subscriptions ??= (await trx.selectFrom('subscriptions').select(['id', 'filter']).where('enabled', '=', 1).execute()).map((s) => ({
        id: s.id,
        filter: JSON.parse(s.filter) as SubscriptionFilter,
      }));
      const rows = subscriptions
        .filter((s) => matchesFilter(s.filter, event))
        .map((s) => ({
          id: newId('dlv'),
          event_id: event.id,
          subscription_id: s.id,
          state: 'pending',
          next_attempt_at: nowIso,
          created_at: nowIso,
          updated_at: nowIso,
        }));
      if (rows.length > 0) await trx.insertInto('deliveries').values(rows).execute();
      return rows.length;
    },
  };
}

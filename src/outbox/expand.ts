import type { Kysely } from 'kysely';
import type { Db } from '../db/connect';
import { insertRows, isPostgres } from '../db/sql';
import type { Database } from '../db/types';
import { newId } from '../util/ids';

/** Events fanned out per transaction at most. */
export const EXPAND_BATCH = 500;
/**
 * Delivery rows made per transaction at most (past it, the batch ends after the event that
 * crossed it): the step runs on the thread that serves callbacks, and 500 events to 20
 * subscriptions would be 10,000 rows in one go.
 */
export const EXPAND_ROWS = 1000;

const insertDeliveries = insertRows(
  'deliveries',
  ['id', 'event_id', 'subscription_id', 'state', 'next_attempt_at', 'created_at', 'updated_at'],
  ' ON CONFLICT (event_id, subscription_id) DO NOTHING',
);

/**
 * Makes the delivery rows of events the ingest transaction stored with the subscriptions that take
 * them (src/outbox/enqueue.ts), oldest first, up to `limit` events in one transaction, and clears
 * their `fanout`. Each delivery is due from its event's time, so the outbox's age counts from the
 * report, not from this step. A subscription deleted since gets none. PostgreSQL workers of several
 * replicas skip each other's locked events, so each event is fanned out once; SQLite serializes
 * writers anyway. Answers how many events it fanned out: until it answers 0, there may be more.
 */
export async function expandFanout(dbh: Db, limit = EXPAND_BATCH): Promise<number> {
  return (await dbh.db.transaction().execute((trx) => expandIn(trx, limit))).events;
}

/**
 * {@link expandFanout} inside a transaction the caller holds (the worker's step,
 * src/outbox/worker.ts): how many events it fanned out, and whether it left some it had seen (its
 * limits reached), so that the caller knows whether another step is due at once.
 */
export async function expandIn(trx: Kysely<Database>, limit = EXPAND_BATCH): Promise<{ events: number; more: boolean }> {
  let q = trx.selectFrom('events').select(['id', 'fanout', 'created_at']).where('fanout', 'is not', null).orderBy('created_at').orderBy('id').limit(limit);
  if (isPostgres(trx)) q = q.forUpdate().skipLocked();
  const selected = (await q.execute()).map((e) => ({ ...e, takers: (e.fanout ?? '').split(',') }));
  if (selected.length === 0) return { events: 0, more: false };
  const events: typeof selected = [];
  for (let rows = 0; events.length < selected.length && rows < EXPAND_ROWS;) {
    const e = selected[events.length];
    events.push(e);
    rows += e.takers.length;
  }
  const existing = new Set((await trx.selectFrom('subscriptions').select('id').execute()).map((s) => s.id));
  const deliveries = events.flatMap((e) =>
    e.takers
      .filter((id) => existing.has(id))
      .map((subscriptionId) => ({
        id: newId('dlv'),
        event_id: e.id,
        subscription_id: subscriptionId,
        state: 'pending',
        next_attempt_at: e.created_at,
        created_at: e.created_at,
        updated_at: e.created_at,
      })),
  );
  await insertDeliveries.run(trx, deliveries);
  await trx
    .updateTable('events')
    .set({ fanout: null })
    .where(
      'id',
      'in',
      events.map((e) => e.id),
    )
    .execute();
  return { events: events.length, more: selected.length === limit || events.length < selected.length };
}

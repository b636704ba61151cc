import type { Kysely } from 'kysely';
import type { Database, DeliveryRow } from '../db/types';
import { BadRequest, NotFound } from '../errors';
import { matching } from '../db/filters';
import { encodeCursor, type Page } from '../db/paging';

export const DELIVERY_STATES = ['pending', 'succeeded', 'dead'] as const;

export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    event_id: row.event_id,
    subscription_id: row.subscription_id,
    state: row.state,
    attempts: row.attempts,
    next_attempt_at: row.state === 'pending' ? row.next_attempt_at : null,
    next_trigger: row.state === 'pending' ? row.next_trigger : null,
    last_attempt_at: row.last_attempt_at,
    last_status: row.last_status,
    last_error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export async function listDeliveries(db: Kysely<Database>, subscriptionId: string, f: { state?: string } & Page) {
  const sub = await db.selectFrom('subscriptions').select('id').where('id', '=', subscriptionId).executeTakeFirst();
  if (!sub) throw new NotFound('subscription', subscriptionId, 'GET /v1/subscriptions lists them');
  const rows = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .where((eb) =>
      matching(eb, [
        ['state', '=', f.state],
        ['id', '<', f.cursor],
      ]),
    )
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  const page = rows.slice(0, f.limit);
  return { items: page.map(deliveryView), next_cursor: rows.length > f.limit ? encodeCursor(page[page.length - 1].id) : null };
}

/** One delivery with every attempt (status, duration, response start) and the event it carries. */
export async function getDelivery(db: Kysely<Database>, id: string) {
  const row = await db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('delivery', id, "GET /v1/subscriptions/:id/deliveries lists a subscription's deliveries");
  const attempts = await db.selectFrom('delivery_attempts').selectAll().where('delivery_id', '=', id).orderBy('attempt').execute();
  const event = await db.selectFrom('events').select('payload').where('id', '=', row.event_id).executeTakeFirstOrThrow();
  return { ...deliveryView(row), event: JSON.parse(event.payload) as unknown, attempt_log: attempts };
}

/** Queues one more attempt now (trigger `manual`); a delivery that already succeeded is re-sent too. */
export async function retryDelivery(db: Kysely<Database>, id: string, now: Date) {
  const row = await db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('delivery', id, "GET /v1/subscriptions/:id/deliveries lists a subscription's deliveries");
  if (row.state === 'pending' && row.claimed_until !== null && row.claimed_until > now.toISOString()) {
    throw new BadRequest('this delivery is being attempted right now: retry after the attempt ends (delivery.timeoutSeconds at most)');
  }
  await db
    .updateTable('deliveries')
    .set({ state: 'pending', next_attempt_at: now.toISOString(), next_trigger: 'manual', claimed_by: null, claimed_until: null, updated_at: now.toISOString() })
    .where('id', '=', id)
    .execute();
  return deliveryView(await db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
}

/** Queues a manual attempt for every dead delivery of a subscription. */
export async function retryDead(db: Kysely<Database>, subscriptionId: string, now: Date) {
  const sub = await db.selectFrom('subscriptions').select('id').where('id', '=', subscriptionId).executeTakeFirst();
  if (!sub) throw new NotFound('subscription', subscriptionId, 'GET /v1/subscriptions lists them');
  const result = await db
    .updateTable('deliveries')
    .set({ state: 'pending', next_attempt_at: now.toISOString(), next_trigger: 'manual', claimed_by: null, claimed_until: null, updated_at: now.toISOString() })
    .where('subscription_id', '=', subscriptionId)
    .where('state', '=', 'dead')
    .executeTakeFirst();
  return { requeued: Number(result.numUpdatedRows) };
}

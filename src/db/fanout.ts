import { sql, type Kysely } from 'kysely';
import { isPostgres } from './sql';
import type { Database } from './types';

// The backlog of events the worker has not fanned out into deliveries yet (migration 0011,
// src/outbox/expand.ts): read by the outbox overview (src/outbox/) and by the metrics (src/ops/),
// which sits below the outbox, hence here beside the other shared queries.

/** `fanout` holding one subscription's id: a LIKE pattern with `_` and `%` taken literally. */
function takenBy(subscriptionId: string) {
  return `%,${subscriptionId.replace(/[\\%_]/g, (c) => `\\${c}`)},%`;
}

/**
 * Deliveries not yet made (events still to be fanned out), in all or for one subscription, and the
 * time of the oldest such event: the outbox's backlog counts them as waiting. They go through
 * events_fanout, which holds only these events (a running worker fans them out within moments).
 * On SQLite a list of one subscription is that subscription's id, stored as an id is (a BLOB,
 * src/db/stored-values.ts), which string functions do not read as text: it is counted as one and
 * matched by equality.
 */
export async function unexpanded(db: Kysely<Database>, subscriptionId?: string): Promise<{ count: number; oldest: string | null }> {
  const waiting = db.selectFrom('events').where('fanout', 'is not', null);
  const oldest = sql<string | null>`MIN(created_at)`.as('oldest');
  const takers = sql`LENGTH(fanout) - LENGTH(REPLACE(fanout, ',', '')) + 1`;
  const q =
    subscriptionId === undefined
      ? waiting.select([
          sql<string | number | null>`SUM(${isPostgres(db) ? takers : sql`CASE WHEN typeof(fanout) = 'blob' THEN 1 ELSE ${takers} END`})`.as('n'),
          oldest,
        ])
      : waiting
          .where(sql<boolean>`(fanout = ${subscriptionId} OR ',' || fanout || ',' LIKE ${takenBy(subscriptionId)} ESCAPE '\\')`)
          .select([sql<string | number>`COUNT(*)`.as('n'), oldest]);
  const row = await q.executeTakeFirst();
  return { count: Number(row?.n ?? 0), oldest: row?.oldest ?? null };
}

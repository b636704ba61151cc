import { sql, type Kysely } from 'kysely';

/**
 * Fan-out off the ingest transaction (issue #21): an event records the subscriptions that take it
 * (`fanout`, their ids joined by commas) instead of one delivery row each; the worker turns them
 * into delivery rows in batches (src/outbox/expand.ts) and clears the column. The partial index
 * holds only the events still to be fanned out, in the order the worker takes them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('events').addColumn('fanout', 'text').execute();
  await sql`CREATE INDEX events_fanout ON events (created_at, id) WHERE fanout IS NOT NULL`.execute(db);
}

import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connect';
import { ULID_ALPHABET } from '../../util/ids';

/**
 * PostgreSQL: a message's key as a number beside its text, for the lists whose time window is
 * bounded in key order (issue #20; src/status/queries.ts postgresBounds).
 *
 * Bounding a window finds the lowest and highest key of the messages changed in it, in one pass
 * along the time index `messages_updated`. With the key as text (30 characters, compared under the
 * database's collation) that pass took 98-147 ms for 385,065 entries of the 2 M growth database,
 * and windows of a tenth of its time missed 50 ms; the same pass over a `bigint` took 20-22 ms
 * (docs/performance.md, "A key that is not text").
 *
 * `id_order` is the ULID's first 13 characters (its 48-bit time and the first 15 bits of its
 * random part) read as a base-32 number: 63 bits, so it fits a signed `bigint` when the first
 * character is 0-7, as every ULID's is. It sorts as the ids do, ties kept for ids that share those
 * characters (the pass's bounds are widened to all ids of each end's prefix). It is NULL for a key
 * not of that form (every key newId makes is `msg_` and a ULID); the pass counts those and falls
 * back to the text when a window holds one.
 *
 * A stored generated column, so every way a row is written fills it; the time index is widened
 * to (updated_at, id_order) rather than given a twin, so ingest maintains no more index than
 * before. Adding the column rewrites the table under an exclusive lock (the upgrade of a 2 M
 * message database waits for it: docs/operations.md). SQLite keeps its index: there the pass reads
 * rowids, already numbers (migration 0015).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`ALTER TABLE messages ADD COLUMN id_order bigint GENERATED ALWAYS AS (${sql.raw(ID_ORDER)}) STORED`.execute(db);
  await db.schema.createIndex('messages_updated_order').on('messages').columns(['updated_at', 'id_order']).execute();
  await db.schema.dropIndex('messages_updated').execute();
  await sql`ALTER INDEX messages_updated_order RENAME TO messages_updated`.execute(db);
}

/** The characters read: 13 of 5 bits, the first at most 7 (3 bits), so 63 bits (src/status/queries.ts reads them back). */
export const ID_ORDER_CHARS = 13;

/** The column's expression: immutable (a generated column's must be), one term per character. */
const ID_ORDER = `CASE WHEN id ~ '^msg_[0-7][0-9A-HJKMNP-TV-Z]{25}$' THEN ${Array.from(
  { length: ID_ORDER_CHARS },
  (_, i) => `((strpos('${ULID_ALPHABET}', substr(id, ${5 + i}, 1)) - 1)::bigint << ${5 * (ID_ORDER_CHARS - 1 - i)})`,
).join(' + ')} END`;

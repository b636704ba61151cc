import type { Kysely } from 'kysely';
import type { DialectName } from '../connect';

/**
 * Which raw request used each nonce (issue #14, finding 3): replay and import tell a request's own
 * earlier use of its token from another request's. Rows written before this migration name none
 * (NULL). Nonce rows are now kept as long as a raw request that could carry the nonce is kept
 * (src/replay/retention.ts), no longer deleted as soon as they expire.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('nonces').addColumn('raw_id', 'text').execute();
}

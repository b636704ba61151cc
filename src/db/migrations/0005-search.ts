import type { Kysely } from 'kysely';
import type { DialectName } from '../connect';

/**
 * The console's search (issue #15, src/status/search.ts): a send registration found by its
 * business reference through an index, like messages by id and by recipient (migration 0003).
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.createIndex('registrations_reference').on('registrations').columns(['reference']).execute();
}

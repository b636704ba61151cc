import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connect';

/**
 * SQLite: ids and times written before src/db/stored-values.ts are rewritten in its form (issue
 * #20, disk per million messages): every id as 17 bytes instead of 30 characters, every time as 7
 * instead of 24. Queries bind their ids and times in that form, so text left behind would no
 * longer be found.
 *
 * Every column of every table is passed through `dlr_stored` (the same conversion, registered on
 * the connection by src/db/connect.ts), which leaves anything else as it is: one pass of each
 * table, in one transaction (foreign keys are checked at its commit, when a message's key and its
 * reports' references to it are both rewritten). A database written since is left as it is (each
 * value is stored already). The file keeps its size: the space freed is used by the rows written
 * after (`VACUUM` with the service stopped gives it back). PostgreSQL keeps text.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  if (dialect !== 'sqlite') return;
  await db.transaction().execute(async (trx) => {
    await sql`PRAGMA defer_foreign_keys = ON`.execute(trx);
    const tables = await sql<{ name: string }>`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name`.execute(trx);
    for (const { name } of tables.rows) {
      const columns = await sql<{ name: string }>`SELECT name FROM pragma_table_info(${name})`.execute(trx);
      const set = columns.rows.map((c) => sql`${sql.ref(c.name)} = dlr_stored(${sql.ref(c.name)})`);
      await sql`UPDATE ${sql.table(name)} SET ${sql.join(set)}`.execute(trx);
    }
  });
}

import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connect';

/**
 * Messages that never got a final report (issue #16, src/status/stale.ts). A message, and a send
 * registration, carries the time its final report is due (`final_due_at`, null once it is final or
 * has been found stale) and when it was found stale (`stale_at`). Partial indexes keep both small:
 * the sweep reads the due ones in due order, `GET /v1/messages?stale=true` the stale ones newest
 * first, and neither index holds a final message. Rows written before this migration carry no due
 * time and are not watched (no back-fill: it would rewrite every message at start-up).
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  for (const table of ['messages', 'registrations']) {
    await db.schema.alterTable(table).addColumn('final_due_at', 'text').execute();
    await db.schema.alterTable(table).addColumn('stale_at', 'text').execute();
  }
  await db.schema.createIndex('messages_final_due').on('messages').column('final_due_at').where(sql.ref('final_due_at'), 'is not', null).execute();
  await db.schema.createIndex('messages_stale').on('messages').column('id').where(sql.ref('stale_at'), 'is not', null).execute();
  await db.schema.createIndex('registrations_final_due').on('registrations').column('final_due_at').where(sql.ref('final_due_at'), 'is not', null).execute();
}

import type { Kysely } from 'kysely';
import type { Database } from '../db/types';
import { newId } from '../util/ids';
import { encodeCursor } from '../util/paging';

export type AuditAction = 'replay' | 'import' | 'purge';

export async function audit(db: Kysely<Database>, actor: string, action: AuditAction, parameters: object, result: object): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ id: newId('aud'), at: new Date().toISOString(), actor, action, parameters: JSON.stringify(parameters), result: JSON.stringify(result) })
    .execute();
}

export async function listAudit(db: Kysely<Database>, f: { action?: string; cursor?: string; limit: number }) {
  let q = db.selectFrom('audit_log').selectAll();
  if (f.action) q = q.where('action', '=', f.action);
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1).execute();
  const page = rows.slice(0, f.limit);
  return {
    items: page.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, parameters: JSON.parse(r.parameters) as unknown, result: JSON.parse(r.result) as unknown })),
    next_cursor: rows.length > f.limit ? encodeCursor(page[page.length - 1]!.id) : null,
  };
}

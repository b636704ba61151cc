import type { Kysely } from 'kysely';
import type { Database } from '../db/types';
import { newId } from '../util/ids';
import { matching } from '../db/filters';
import { encodeCursor, type Page } from '../db/paging';

export type AuditAction = 'replay' | 'import' | 'purge';

/**
 * The most characters of an entry's parameters or result as stored: a replay filter may list 10,000
 * ids, and a page of 500 entries must stay small. Longer ones are kept as a `{ truncated, preview }`.
 */
const MAX_AUDIT_JSON = 4096;

function bounded(value: object): string {
  const text = JSON.stringify(value);
  return text.length <= MAX_AUDIT_JSON ? text : JSON.stringify({ truncated: true, characters: text.length, preview: text.slice(0, MAX_AUDIT_JSON) });
}

export async function audit(db: Kysely<Database>, actor: string, action: AuditAction, parameters: object, result: object): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ id: newId('aud'), at: new Date().toISOString(), actor, action, parameters: bounded(parameters), result: bounded(result) })
    .execute();
}

export async function listAudit(db: Kysely<Database>, f: { action?: string } & Page) {
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where((eb) =>
      matching(eb, [
        ['action', '=', f.action],
        ['id', '<', f.cursor],
      ]),
    )
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  const page = rows.slice(0, f.limit);
  return {
    items: page.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      parameters: JSON.parse(r.parameters) as unknown,
      result: JSON.parse(r.result) as unknown,
    })),
    next_cursor: rows.length > f.limit ? encodeCursor(page[page.length - 1].id) : null,
  };
}

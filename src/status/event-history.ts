import type { Kysely } from 'kysely';
import { ROWS_PER_STATEMENT } from '../db/sql';
import type { Database, MessageRow, ReportRow } from '../db/types';
import { findRegistration, hasRegistration } from './registrations';
import { TERMINAL_STATUSES, type Channel, type EventType, type Status, type StatusEvent } from './types';

/**
 * An event is stored (table `events`) only when a subscription takes it: the outbox delivers from
 * that row. An event no subscription matched is not stored — those payloads were most of the disk
 * (docs/performance.md) — and is rebuilt here from what is kept anyway: its report (the
 * history row names the event's id), its message, and the message's status changes before it
 * (version and previous status). Reference and metadata are the message's registration as it is now.
 */
export async function rebuildEvents(db: Kysely<Database>, reports: ReportRow[]): Promise<StatusEvent[]> {
  const withEvents = reports.filter((r) => r.event_id !== null);
  if (withEvents.length === 0) return [];
  const pks = [...new Set(withEvents.map((r) => r.message_pk))];
  const messages = new Map<string, MessageRow>();
  const changes = new Map<string, { id: string; status: string | null }[]>();
  for (let i = 0; i < pks.length; i += ROWS_PER_STATEMENT) {
    const chunk = pks.slice(i, i + ROWS_PER_STATEMENT);
    // asked together: on SQLite each is a read-thread query of its own
    const [rows, changed] = await Promise.all([
      db.selectFrom('messages').selectAll().where('id', 'in', chunk).execute(),
      db
        .selectFrom('reports')
        .select(['message_pk', 'id', 'status'])
        .where('message_pk', 'in', chunk)
        .where('changed', '=', 1)
        .orderBy('message_pk')
        .orderBy('id')
        .execute(),
    ]);
    for (const m of rows) messages.set(m.id, m);
    for (const c of changed) {
      const list = changes.get(c.message_pk) ?? [];
      list.push({ id: c.id, status: c.status });
      changes.set(c.message_pk, list);
    }
  }
  const registered = new Map<string, boolean>();
  const anyRegistered = async (provider: string, account: string) => {
    const key = `${provider}\u0000${account}`;
    if (!registered.has(key)) registered.set(key, await hasRegistration(db, provider, account));
    return registered.get(key)!;
  };
  const events: StatusEvent[] = [];
  for (const r of withEvents) {
    const m = messages.get(r.message_pk);
    if (!m) continue;
    const before = (changes.get(r.message_pk) ?? []).filter((c) => c.id < r.id);
    const event: StatusEvent = {
      id: r.event_id!,
      type: r.type as EventType,
      provider: m.provider,
      account: m.account,
      channel: m.channel as Channel,
      message_id: m.message_id,
      recipient: m.recipient,
      version: before.length + (r.changed === 1 ? 1 : 0),
      error: r.type === 'message.status' && r.error_code !== null ? { code: r.error_code, message: r.error_message } : null,
      occurred_at: r.occurred_at,
      received_at: r.received_at,
      raw_id: r.raw_id,
      attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    };
    if (r.type === 'message.status') {
      event.status = r.status as Status;
      event.previous_status = (before[before.length - 1]?.status as Status | undefined) ?? null;
      event.terminal = TERMINAL_STATUSES.has(r.status as Status);
    } else {
      event.action = r.action ?? '';
    }
    const registration =
      (await anyRegistered(m.provider, m.account)) &&
      (await findRegistration(db, { provider: m.provider, account: m.account, messageId: m.message_id, recipient: m.recipient }));
    if (registration && registration.reference !== null) event.reference = registration.reference;
    if (registration && registration.metadata !== null) event.metadata = registration.metadata;
    events.push(event);
  }
  return events;
}

import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { Statement } from '../db/sql';
import type { Database, MessageRow } from '../db/types';
import { PayloadInvalid } from '../errors';
import type { Outbox } from '../outbox/enqueue';
import { newId } from '../util/ids';
import { describeErrors, schemaValidator } from '../util/schemas';
import { findRegistration, type Registration } from './registrations';
import { decide, type Decision } from './rules';
import { TERMINAL_STATUSES, type Channel, type EngagementReport, type ProviderReport, type Status, type StatusEvent, type StatusReport } from './types';

export interface ApplyContext {
  provider: string;
  account: string;
  channel: Channel;
  rawId: string;
  receivedAt: Date;
  /** PostgreSQL: lock the message row (SELECT … FOR UPDATE) so concurrent replicas serialize. */
  lockRows: boolean;
  /** A replay: a report already in the history is not written again (replaying twice is a no-op). */
  replay: boolean;
  outbox: Outbox;
}

export interface AppliedReport {
  reportId: string;
  messagePk: string;
  /** null for engagement reports, which never change the status. */
  decision: Decision | null;
  duplicate: boolean;
  previousStatus: Status | null;
  event: StatusEvent | null;
  /** Deliveries queued for the event (0 when no subscription matches). */
  queued: number;
}

const validateEvent = schemaValidator<StatusEvent>('status-event.schema.json');

/** The provider's event id, or a hash of what makes the report this report (providers.md, "Dedupe keys"). */
export function dedupeKey(report: ProviderReport): string {
  if (report.eventId) return `id:${report.eventId}`;
  const what = report.type === 'message.status' ? [report.status, report.error?.code ?? ''] : [report.action];
  const material = JSON.stringify([report.type, ...what, report.occurredAt.toISOString()]);
  return `h:${createHash('sha256').update(material).digest('base64url').slice(0, 32)}`;
}

const MESSAGE_KEY = 'provider = ? AND account = ? AND message_id = ? AND recipient = ?';
const insertMessage = new Statement(
  'INSERT INTO messages (id, provider, account, message_id, recipient, channel, status, error_code, error_message, occurred_at, version, attributes, created_at, updated_at) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider, account, message_id, recipient) DO NOTHING RETURNING id',
);
const selectMessage = new Statement(`SELECT * FROM messages WHERE ${MESSAGE_KEY}`);
const selectMessageForUpdate = new Statement(`SELECT * FROM messages WHERE ${MESSAGE_KEY} FOR UPDATE`);
const selectSeen = new Statement('SELECT id FROM reports WHERE message_pk = ? AND dedupe_key = ?');
const updateMessage = new Statement('UPDATE messages SET status = ?, error_code = ?, error_message = ?, occurred_at = ?, version = ?, attributes = ?, updated_at = ? WHERE id = ?');
const insertReport = new Statement(
  'INSERT INTO reports (id, message_pk, raw_id, dedupe_key, type, status, action, error_code, error_message, occurred_at, received_at, changed, reason, event_id, attributes) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
);

/**
 * A message row as a report makes it when it is the first the message has: in that report's state
 * (a status report with a status changes a message that has none), or blank.
 */
function newMessage(ctx: ApplyContext, report: ProviderReport, blank = false): MessageRow {
  const now = ctx.receivedAt.toISOString();
  const changes = !blank && report.type === 'message.status' && report.status !== null;
  return {
    id: newId('msg'),
    provider: ctx.provider,
    account: ctx.account,
    message_id: report.messageId,
    recipient: report.recipient,
    channel: ctx.channel,
    status: changes ? report.status : null,
    error_code: changes ? (report.error?.code ?? null) : null,
    error_message: changes ? (report.error?.message ?? null) : null,
    occurred_at: changes ? report.occurredAt.toISOString() : null,
    version: changes ? 1 : 0,
    attributes: changes ? JSON.stringify(report.attributes) : '{}',
    created_at: now,
    updated_at: now,
  };
}

/** Inserts the row unless the message exists; true when this call created it. */
async function insertIfNew(trx: Transaction<Database>, row: MessageRow): Promise<boolean> {
  const values = [row.id, row.provider, row.account, row.message_id, row.recipient, row.channel, row.status, row.error_code, row.error_message, row.occurred_at, row.version, row.attributes, row.created_at, row.updated_at];
  return (await insertMessage.first(trx, values)) !== undefined;
}

async function existingMessage(trx: Transaction<Database>, ctx: ApplyContext, report: ProviderReport): Promise<MessageRow> {
  const row = await (ctx.lockRows ? selectMessageForUpdate : selectMessage).first<MessageRow>(trx, [ctx.provider, ctx.account, report.messageId, report.recipient]);
  if (!row) throw new Error('message row vanished after insert');
  return row;
}

/**
 * Creates and locks the message rows of a batch in one order (by message id and recipient), before
 * its reports are applied in their own order: concurrent transactions then take the same locks in
 * the same order and cannot deadlock. Only needed where rows are locked (PostgreSQL).
 */
export async function lockMessages(trx: Transaction<Database>, ctx: ApplyContext, reports: ProviderReport[]): Promise<void> {
  if (reports.length < 2) return;
  const byKey = new Map(reports.map((r) => [`${r.messageId}\u0000${r.recipient}`, r]));
  const keys = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const report = byKey.get(key)!;
    await insertIfNew(trx, newMessage(ctx, report, true));
    await existingMessage(trx, ctx, report);
  }
}

/** A status report the provider's table gave a status: the only kind the state rules weigh. */
type StatusChange = StatusReport & { status: Status };

function hasStatus(report: StatusReport): report is StatusChange {
  return report.status !== null;
}

function buildEvent(ctx: ApplyContext, message: MessageRow, report: StatusChange | EngagementReport, version: number, registration: Registration | null): StatusEvent {
  const event: StatusEvent = {
    id: newId('evt'),
    type: report.type,
    provider: ctx.provider,
    account: ctx.account,
    channel: ctx.channel,
    message_id: report.messageId,
    recipient: report.recipient,
    version,
    error: report.type === 'message.status' ? report.error : null,
    occurred_at: report.occurredAt.toISOString(),
    received_at: ctx.receivedAt.toISOString(),
    raw_id: ctx.rawId,
    attributes: report.attributes,
  };
  if (report.type === 'message.status') {
    event.status = report.status;
    event.previous_status = (message.status as Status | null) ?? null;
    event.terminal = TERMINAL_STATUSES.has(report.status);
  } else {
    event.action = report.action;
  }
  if (registration?.reference != null) event.reference = registration.reference;
  if (registration?.metadata != null) event.metadata = registration.metadata;
  if (!validateEvent(event)) throw new PayloadInvalid(`report does not make a valid event: ${describeErrors().join('; ')}`);
  return event;
}

function registrationOf(trx: Transaction<Database>, ctx: ApplyContext, report: ProviderReport): Promise<Registration | null> {
  return findRegistration(trx, { provider: ctx.provider, account: ctx.account, messageId: report.messageId, recipient: report.recipient });
}

/**
 * Applies one report to its message inside the ingest transaction: the state rules decide, the
 * message row changes only through them, the report always lands in the history, and each change
 * (or engagement) becomes an event in the outbox.
 */
export async function applyReport(trx: Transaction<Database>, ctx: ApplyContext, report: ProviderReport): Promise<AppliedReport> {
  const key = dedupeKey(report);
  const occurredAt = report.occurredAt.toISOString();

  // The message's first report: one insert puts it in that report's state, and nothing can have been seen.
  const fresh = newMessage(ctx, report);
  const created = await insertIfNew(trx, fresh);
  const message = created ? { ...fresh, status: null, version: 0 } : await existingMessage(trx, ctx, report);
  const seen = created ? undefined : await selectSeen.first<{ id: string }>(trx, [message.id, key]);
  const previousStatus = (message.status as Status | null) ?? null;

  let decision: Decision | null = null;
  let event: StatusEvent | null = null;
  if (report.type === 'message.status' && !hasStatus(report)) {
    decision = { change: false, reason: seen ? 'duplicate' : 'unmapped' };
  } else if (report.type === 'message.status') {
    const current = previousStatus === null ? null : { status: previousStatus, occurredAt: message.occurred_at ?? '', errorCode: message.error_code };
    decision = decide(current, { status: report.status, occurredAt, errorCode: report.error?.code ?? null }, seen !== undefined);
    if (decision.change) {
      event = buildEvent(ctx, message, report, message.version + 1, await registrationOf(trx, ctx, report));
      if (!created) {
        const attributes = JSON.stringify({ ...(JSON.parse(message.attributes) as Record<string, unknown>), ...report.attributes });
        const error = report.error;
        await updateMessage.run(trx, [report.status, error?.code ?? null, error?.message ?? null, occurredAt, message.version + 1, attributes, ctx.receivedAt.toISOString(), message.id]);
      }
    }
  } else if (!seen) {
    event = buildEvent(ctx, message, report, message.version, await registrationOf(trx, ctx, report));
  }
  const queued = event ? await ctx.outbox.enqueue(event, message.id) : 0;
  if (seen && ctx.replay) return { reportId: seen.id, messagePk: message.id, decision, duplicate: true, previousStatus, event: null, queued };

  const reportId = newId('rpt');
  const status = report.type === 'message.status';
  await insertReport.run(trx, [
    reportId,
    message.id,
    ctx.rawId,
    key,
    report.type,
    status ? report.status : null,
    status ? null : report.action,
    status ? (report.error?.code ?? null) : null,
    status ? (report.error?.message ?? null) : null,
    occurredAt,
    ctx.receivedAt.toISOString(),
    decision?.change ? 1 : 0,
    seen ? 'duplicate' : decision && !decision.change ? decision.reason : null,
    event?.id ?? null,
    JSON.stringify(report.attributes),
  ]);

  return { reportId, messagePk: message.id, decision, duplicate: seen !== undefined, previousStatus, event, queued };
}

import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
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

async function findOrCreateMessage(trx: Transaction<Database>, ctx: ApplyContext, report: ProviderReport): Promise<MessageRow> {
  const select = () => {
    const q = trx
      .selectFrom('messages')
      .selectAll()
      .where('provider', '=', ctx.provider)
      .where('account', '=', ctx.account)
      .where('message_id', '=', report.messageId)
      .where('recipient', '=', report.recipient);
    return (ctx.lockRows ? q.forUpdate() : q).executeTakeFirst();
  };
  const existing = await select();
  if (existing) return existing;
  const now = ctx.receivedAt.toISOString();
  const inserted = await trx
    .insertInto('messages')
    .values({
      id: newId('msg'),
      provider: ctx.provider,
      account: ctx.account,
      message_id: report.messageId,
      recipient: report.recipient,
      channel: ctx.channel,
      status: null,
      error_code: null,
      error_message: null,
      occurred_at: null,
      version: 0,
      attributes: '{}',
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['provider', 'account', 'message_id', 'recipient']).doNothing())
    .returningAll()
    .executeTakeFirst();
  // Ours (on PostgreSQL locked by our transaction until it ends); else another made it meanwhile.
  const created = inserted ?? (await select());
  if (!created) throw new Error('message row vanished after insert');
  return created;
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
  for (const key of keys) await findOrCreateMessage(trx, ctx, byKey.get(key)!);
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
  const message = await findOrCreateMessage(trx, ctx, report);
  const key = dedupeKey(report);
  const seen = await trx
    .selectFrom('reports')
    .select('id')
    .where('message_pk', '=', message.id)
    .where('dedupe_key', '=', key)
    .executeTakeFirst();
  const occurredAt = report.occurredAt.toISOString();
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
      const attributes = { ...(JSON.parse(message.attributes) as Record<string, unknown>), ...report.attributes };
      await trx
        .updateTable('messages')
        .set({
          status: report.status,
          error_code: report.error?.code ?? null,
          error_message: report.error?.message ?? null,
          occurred_at: occurredAt,
          version: message.version + 1,
          attributes: JSON.stringify(attributes),
          updated_at: ctx.receivedAt.toISOString(),
        })
        .where('id', '=', message.id)
        .execute();
    }
  } else if (!seen) {
    event = buildEvent(ctx, message, report, message.version, await registrationOf(trx, ctx, report));
  }
  const queued = event ? await ctx.outbox.enqueue(event, message.id) : 0;
  if (seen && ctx.replay) return { reportId: seen.id, messagePk: message.id, decision, duplicate: true, previousStatus, event: null, queued };

  const reportId = newId('rpt');
  await trx
    .insertInto('reports')
    .values({
      id: reportId,
      message_pk: message.id,
      raw_id: ctx.rawId,
      dedupe_key: key,
      type: report.type,
      status: report.type === 'message.status' ? report.status : null,
      action: report.type === 'message.engagement' ? report.action : null,
      error_code: report.type === 'message.status' ? (report.error?.code ?? null) : null,
      error_message: report.type === 'message.status' ? (report.error?.message ?? null) : null,
      occurred_at: occurredAt,
      received_at: ctx.receivedAt.toISOString(),
      changed: decision?.change ? 1 : 0,
      reason: seen ? 'duplicate' : decision && !decision.change ? decision.reason : null,
      event_id: event?.id ?? null,
      attributes: JSON.stringify(report.attributes),
    })
    .execute();

  return { reportId, messagePk: message.id, decision, duplicate: seen !== undefined, previousStatus, event, queued };
}

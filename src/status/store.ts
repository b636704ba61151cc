import { hash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { Fixed, fixed, insertRows, ROWS_PER_STATEMENT, Statement, type Values } from '../db/sql';
import type { Database, MessageRow } from '../db/types';
import { PayloadInvalid } from '../errors';
import { newId } from '../util/ids';
import { describeErrors, schemaValidator } from '../util/schemas';
import { anyRegistration, clearRegisteredStale, dueAfter, findRegistration, type FoundRegistration, type Registration } from './registrations';
import { ROLLUP_COLUMNS, type RollupDeltas } from './rollups';
import { decide, type Decision } from './rules';
import { TERMINAL_STATUSES, type Channel, type EngagementReport, type ProviderReport, type Status, type StatusEvent, type StatusReport } from './types';
import { iso } from '../util/time';
import { attributesOf, storedEventId, storedMessage, storedReceivedAt, storedType } from './stored-form';

/**
 * Where applying reports puts the events it makes, in the same transaction (src/outbox/enqueue.ts
 * createOutbox): the status layer needs only this, not the outbox.
 */
export interface Outbox {
  /** Stores the event with its deliveries when a subscription takes it; returns how many deliveries were queued. */
  enqueue(event: StatusEvent, messagePk: string): Promise<number>;
  /**
   * The same for several events at once (a few statements for all); the counts in their order. `at`:
   * when the event's request came (its stored event and deliveries are dated so), when it is not
   * the outbox's time (a grouped commit holds requests received at different times).
   */
  enqueueAll(items: { event: StatusEvent; messagePk: string; at?: Date }[]): Promise<number[]>;
}

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
  /** The request's changes to the stats rollups, written at the end of applyAll. */
  rollup: RollupDeltas;
  /** The account's `finalAfterSeconds`: a message not final this long after it was first seen is stale (src/status/stale.ts). */
  finalAfterSeconds: number;
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
  /** What a status report says, changed or not ('unmapped': a code without a status); null for an engagement report. */
  reported: Status | 'unmapped' | null;
  /**
   * Seconds from the provider's occurred_at to the receive time (negative when its clock runs
   * ahead); null in a replay, whose receive time is the stored request's or an import's.
   */
  delaySeconds: number | null;
}

const validateEvent = schemaValidator<StatusEvent>('status-event.schema.json', true);

/**
 * Compiles the event schema now rather than in the first callback after a start (~60 ms that
 * request and those queued behind it would wait): the server calls it before it listens.
 */
export function compileEventSchema(): void {
  validateEvent({});
}

/** The provider's event id, or a hash of what makes the report this report (providers.md, "Dedupe keys"), as the history stores it. */
export function dedupeKey(report: ProviderReport): string {
  return dedupeKeys(report)[0];
}

/** Characters of the hash a history row keeps (base64url: 72 bits), and kept before 2026-12-03. */
const HASH_CHARS = 12;
const LEGACY_HASH_CHARS = 32;

/**
 * The forms a report's dedupe key takes in the history: what a row stores now and what rows written
 * before 2026-12-03 stored (the same key for a provider's event id). A hashed key is only ever
 * compared with the keys of one message's other reports, so 72 bits leave no chance of two
 * different reports meeting (~2⁻⁷² a pair); the 32 characters it had were 20 bytes of every report
 * (docs/performance.md, "Where the rest of the disk goes"). Old rows keep theirs: the duplicate
 * check asks for both forms, and no migration rewrites two million rows at a start.
 */
export function dedupeKeys(report: ProviderReport): readonly [key: string, legacy: string] {
  if (report.eventId) {
    const key = `id:${report.eventId}`;
    return [key, key];
  }
  const what = report.type === 'message.status' ? [report.status, report.error?.code ?? ''] : [report.action];
  const material = JSON.stringify([report.type, ...what, iso(report.occurredAt)]);
  const digest = hash('sha256', material, 'base64url');
  return [`h:${digest.slice(0, HASH_CHARS)}`, `h:${digest.slice(0, LEGACY_HASH_CHARS)}`];
}

/** A stored dedupe key in today's form (a row written before 2026-12-03 may hold the longer one). */
function currentForm(key: string): string {
  return key.startsWith('h:') ? key.slice(0, 2 + HASH_CHARS) : key;
}

const MESSAGE_COLUMNS = [
  'id',
  'provider',
  'account',
  'message_id',
  'recipient',
  'channel',
  'status',
  'error_code',
  'error_message',
  'occurred_at',
  'version',
  'attributes',
  'created_at',
  'updated_at',
  'final_due_at',
  'stale_at',
] as const;
// no RETURNING: it adds to every insert (docs/performance.md), and nearly always every row is new (see applyAll)
export const insertMessageRows = insertRows('messages', MESSAGE_COLUMNS, ' ON CONFLICT (provider, account, message_id, recipient) DO NOTHING');
const selectMessage = fixed(
  'messages',
)`SELECT * FROM messages WHERE provider = ${'provider'} AND account = ${'account'} AND message_id = ${'message_id'} AND recipient = ${'recipient'}`;
const selectMessageForUpdate = fixed(
  'messages',
)`SELECT * FROM messages WHERE provider = ${'provider'} AND account = ${'account'} AND message_id = ${'message_id'} AND recipient = ${'recipient'} FOR UPDATE`;
const selectSeen = new Statement('SELECT id FROM reports WHERE message_pk = ? AND dedupe_key IN (?, ?)');
/** A message's identity and first sight: what a later report never changes. */
const IDENTITY_COLUMNS = ['provider', 'account', 'message_id', 'recipient', 'channel', 'created_at'] as const;
type UpdatedColumn = Exclude<(typeof MESSAGE_COLUMNS)[number], (typeof IDENTITY_COLUMNS)[number]>;
/** What a later report may change in a message row, with its id: MESSAGE_COLUMNS less the identity, in their order. */
const UPDATED_COLUMNS = MESSAGE_COLUMNS.filter((c): c is UpdatedColumn => !(IDENTITY_COLUMNS as readonly string[]).includes(c));
const CHANGED_COLUMNS = UPDATED_COLUMNS.filter((c) => c !== 'id');
/** One message's update (the batch path's updateMessagesMany writes the same columns for many). */
const updateMessage = new Fixed<'messages', UpdatedColumn>(`UPDATE messages SET ${CHANGED_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [
  ...CHANGED_COLUMNS,
  'id',
]);
const REPORT_COLUMNS = [
  'id',
  'message_pk',
  'raw_id',
  'dedupe_key',
  'type',
  'status',
  'action',
  'error_code',
  'error_message',
  'occurred_at',
  'received_at',
  'changed',
  'reason',
  'event_id',
  'attributes',
] as const;
const insertReportRows = insertRows('reports', REPORT_COLUMNS);
type ReportValues = Values<'reports', (typeof REPORT_COLUMNS)[number]>;

/**
 * A message row as a report makes it when it is the first the message has: in that report's state
 * (a status report with a status changes a message that has none), or blank.
 */
function newMessage(ctx: ApplyContext, report: ProviderReport, blank = false): MessageRow {
  const now = iso(ctx.receivedAt);
  const changes = !blank && report.type === 'message.status' && report.status !== null;
  const final = report.type === 'message.status' && changes && TERMINAL_STATUSES.has(report.status!);
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
    occurred_at: changes ? iso(report.occurredAt) : null,
    version: changes ? 1 : 0,
    attributes: changes ? JSON.stringify(report.attributes) : '{}',
    created_at: now,
    updated_at: now,
    final_due_at: final ? null : dueAfter(ctx.receivedAt, ctx.finalAfterSeconds),
    stale_at: null,
  };
}

/** Inserts the row unless the message exists; true when this call created it. */
async function insertIfNew(trx: Transaction<Database>, row: MessageRow): Promise<boolean> {
  return (await insertMessageRows.count(trx, [storedMessage(row)])) > 0;
}

async function existingMessage(trx: Transaction<Database>, ctx: ApplyContext, report: ProviderReport): Promise<MessageRow> {
  const row = await (ctx.lockRows ? selectMessageForUpdate : selectMessage).first(trx, {
    provider: ctx.provider,
    account: ctx.account,
    message_id: report.messageId,
    recipient: report.recipient,
  });
  if (!row) throw new Error('message row vanished after insert');
  return row;
}

/** Which of these message ids exist. */
async function presentIds(trx: Transaction<Database>, ids: string[]): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
    const rows = await trx
      .selectFrom('messages')
      .select('id')
      .where('id', 'in', ids.slice(i, i + ROWS_PER_STATEMENT))
      .execute();
    for (const r of rows) found.push(r.id);
  }
  return found;
}

/** Which message a report is to (its provider and account are the request's). */
function messageKey(report: ProviderReport): string {
  return `${report.messageId}\u0000${report.recipient}`;
}

/** A status report the provider's table gave a status: the only kind the state rules weigh. */
type StatusChange = StatusReport & { status: Status };

function hasStatus(report: StatusReport): report is StatusChange {
  return report.status !== null;
}

function buildEvent(
  ctx: ApplyContext,
  message: MessageRow,
  report: StatusChange | EngagementReport,
  version: number,
  registration: Registration | null,
): StatusEvent {
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
    occurred_at: iso(report.occurredAt),
    received_at: iso(ctx.receivedAt),
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

async function registrationOf(trx: Transaction<Database>, ctx: ApplyContext, report: ProviderReport): Promise<FoundRegistration | null> {
  if (!(await anyRegistration(trx, ctx.provider, ctx.account))) return null;
  return findRegistration(trx, { provider: ctx.provider, account: ctx.account, messageId: report.messageId, recipient: report.recipient });
}

interface Outcome {
  decision: Decision | null;
  event: StatusEvent | null;
  seen: { id: string } | undefined;
  /** The report cleared the stale mark of its message id's all-recipients row (clearRegisteredStale). */
  clearedStale?: boolean;
}

/** A message's first report: it made the message (in its state, see newMessage), nothing was seen before. */
async function firstReport(trx: Transaction<Database>, ctx: ApplyContext, message: MessageRow, report: ProviderReport): Promise<Outcome> {
  const before = { ...message, status: null, version: 0 };
  if (report.type === 'message.status' && !hasStatus(report)) return { decision: { change: false, reason: 'unmapped' }, event: null, seen: undefined };
  const registration = await registrationOf(trx, ctx, report);
  const clearedStale = registration?.staleAt != null && registration.recipient === '' && report.recipient !== '';
  if (clearedStale) await clearRegisteredStale(trx, ctx.provider, ctx.account, report.messageId);
  if (report.type === 'message.status')
    return { decision: { change: true }, event: buildEvent(ctx, before, report, 1, registration), seen: undefined, clearedStale };
  return { decision: null, event: buildEvent(ctx, before, report, 0, registration), seen: undefined, clearedStale };
}

/**
 * A report to a message that existed: the state rules decide against its current state and whether
 * the history holds this report already (`seen`). Counts the change in the rollups; writes nothing
 * to the message: `next` is its new row when it changes.
 */
async function judgeLater(
  trx: Transaction<Database>,
  ctx: ApplyContext,
  message: MessageRow,
  report: ProviderReport,
  seen: { id: string } | undefined,
): Promise<{ o: Outcome; next: MessageRow | null }> {
  if (report.type === 'message.engagement')
    return {
      o: { decision: null, event: seen ? null : buildEvent(ctx, message, report, message.version, await registrationOf(trx, ctx, report)), seen },
      next: null,
    };
  if (!hasStatus(report)) return { o: { decision: { change: false, reason: seen ? 'duplicate' : 'unmapped' }, event: null, seen }, next: null };
  const occurredAt = iso(report.occurredAt);
  const current = message.status === null ? null : { status: message.status as Status, occurredAt: message.occurred_at ?? '', errorCode: message.error_code };
  const decision = decide(current, { status: report.status, occurredAt, errorCode: report.error?.code ?? null }, seen !== undefined);
  if (!decision.change) return { o: { decision, event: null, seen }, next: null };
  const event = buildEvent(ctx, message, report, message.version + 1, await registrationOf(trx, ctx, report));
  const error = report.error;
  // a final status ends the watch for it, and clears a stale mark (the event goes out as usual)
  const final = TERMINAL_STATUSES.has(report.status);
  const next: MessageRow = {
    ...message,
    status: report.status,
    error_code: error?.code ?? null,
    error_message: error?.message ?? null,
    occurred_at: occurredAt,
    version: message.version + 1,
    attributes: JSON.stringify({ ...(JSON.parse(await attributesOf(trx, message)) as Record<string, unknown>), ...report.attributes }),
    updated_at: iso(ctx.receivedAt),
    final_due_at: final ? null : message.final_due_at,
    stale_at: final ? null : message.stale_at,
  };
  ctx.rollup.add(message, -1);
  ctx.rollup.add(next, 1);
  return { o: { decision, event, seen }, next };
}

/** judgeLater one report at a time: its history looked up first, the message updated after. */
async function laterReport(
  trx: Transaction<Database>,
  ctx: ApplyContext,
  message: MessageRow,
  report: ProviderReport,
  keys: readonly [string, string],
): Promise<Outcome> {
  const seen = await selectSeen.first<{ id: string }>(trx, [message.id, ...keys]);
  const { o, next } = await judgeLater(trx, ctx, message, report, seen);
  if (next) await updateMessage.run(trx, next);
  return o;
}

/**
 * A report's id: the ULID of the event it made, under `rpt_`, or a new one. Its history row then
 * names the event with '' instead of repeating the id (readHistoryRow turns it back): 28 bytes of
 * most reports (docs/performance.md, "Where the rest of the disk goes"). Ids still follow the order
 * reports are applied in: an event is made while its report is applied, never ahead of another's.
 */
function reportIdFor(o: Outcome): string {
  return o.event ? `rpt_${o.event.id.slice(4)}` : newId('rpt');
}

/** The history row of a report. */
function reportValues(ctx: ApplyContext, report: ProviderReport, id: string, messagePk: string, key: string, o: Outcome): ReportValues {
  const status = report.type === 'message.status';
  return {
    id,
    message_pk: messagePk,
    raw_id: ctx.rawId,
    dedupe_key: key,
    type: storedType(report.type),
    status: status ? report.status : null,
    action: status ? null : report.action,
    error_code: status ? (report.error?.code ?? null) : null,
    error_message: status ? (report.error?.message ?? null) : null,
    occurred_at: iso(report.occurredAt),
    received_at: storedReceivedAt(ctx.receivedAt, ctx.rawId),
    changed: o.decision?.change ? 1 : 0,
    reason: o.seen ? 'duplicate' : o.decision && !o.decision.change ? o.decision.reason : null,
    event_id: storedEventId(o.event?.id ?? null, id),
    attributes: JSON.stringify(report.attributes),
  };
}

function appliedOf(
  ctx: ApplyContext,
  report: ProviderReport,
  reportId: string,
  message: MessageRow,
  o: Outcome,
  queued: number,
  created: boolean,
): AppliedReport {
  return {
    reportId,
    messagePk: message.id,
    decision: o.decision,
    duplicate: o.seen !== undefined,
    previousStatus: created ? null : ((message.status as Status | null) ?? null),
    event: o.event,
    queued,
    reported: report.type === 'message.status' ? (report.status ?? 'unmapped') : null,
    delaySeconds: ctx.replay ? null : (ctx.receivedAt.getTime() - report.occurredAt.getTime()) / 1000,
  };
}

/**
 * Applies one report to its message inside the ingest transaction: the state rules decide, the
 * message row changes only through them, the report always lands in the history, and each change
 * (or engagement) becomes an event in the outbox. A message's first report inserts it already in
 * the state that report gives it (one statement, no history to look up).
 */
export async function applyReport(trx: Transaction<Database>, ctx: ApplyContext, report: ProviderReport, knownToExist = false): Promise<AppliedReport> {
  const keys = dedupeKeys(report);
  const fresh = knownToExist ? null : newMessage(ctx, report);
  const created = fresh !== null && (await insertIfNew(trx, fresh));
  if (created) ctx.rollup.add(fresh, 1);
  const message = created ? fresh : await existingMessage(trx, ctx, report);
  const o = created ? await firstReport(trx, ctx, message, report) : await laterReport(trx, ctx, message, report, keys);
  return finishReport(trx, ctx, report, keys[0], message, o, created);
}

/** A report's event to the outbox and its row to the history (not in a replay of a report already there). */
async function finishReport(
  trx: Transaction<Database>,
  ctx: ApplyContext,
  report: ProviderReport,
  key: string,
  message: MessageRow,
  o: Outcome,
  created: boolean,
): Promise<AppliedReport> {
  const queued = o.event ? await ctx.outbox.enqueue(o.event, message.id) : 0;
  if (o.seen && ctx.replay) return { ...appliedOf(ctx, report, o.seen.id, message, o, queued, created), event: null };
  const reportId = reportIdFor(o);
  await insertReportRows.run(trx, [reportValues(ctx, report, reportId, message.id, key, o)]);
  return appliedOf(ctx, report, reportId, message, o, queued, created);
}

/**
 * Applies a request's reports in order, with the same result as one by one. Where rows are not
 * locked (SQLite), the first reports of messages seen for the first time go in bulk — one insert of
 * their messages, of their events and deliveries, of their history — and the rest one by one after
 * them. Where they are (PostgreSQL), all of a batch's messages are created and locked first, and
 * its reports applied to them in memory (applyLocked).
 */
export async function applyAll(trx: Transaction<Database>, ctx: ApplyContext, reports: ProviderReport[]): Promise<AppliedReport[]> {
  const results = await applyInOrder(trx, ctx, reports);
  await ctx.rollup.flush(trx);
  return results;
}

async function applyInOrder(trx: Transaction<Database>, ctx: ApplyContext, reports: ProviderReport[]): Promise<AppliedReport[]> {
  if (ctx.lockRows && reports.length > 1) return applyLockedOne(trx, ctx, reports);

  if (reports.length < 2) {
    const out: AppliedReport[] = [];
    for (const report of reports) out.push(await applyReport(trx, ctx, report));
    return out;
  }
  const firstOf = new Map<string, number>();
  reports.forEach((r, i) => {
    const k = messageKey(r);
    if (!firstOf.has(k)) firstOf.set(k, i);
  });
  const candidates = [...firstOf.values()].map((i) => ({ i, row: newMessage(ctx, reports[i]) }));
  const inserted = await insertMessageRows.count(
    trx,
    candidates.map((c) => storedMessage(c.row)),
  );
  // The candidates' ids are new: when some messages existed, the ones now found are the ones inserted.
  const created = new Set(
    inserted === candidates.length
      ? candidates.map((c) => c.row.id)
      : await presentIds(
          trx,
          candidates.map((c) => c.row.id),
        ),
  );

  const results = new Array<AppliedReport>(reports.length);
  const createdFirst = new Map(candidates.filter(({ row }) => created.has(row.id)).map(({ i, row }) => [i, row]));
  for (const row of createdFirst.values()) ctx.rollup.add(row, 1);
  // In report order (ids, and so the order of events and history, follow it): first reports of new
  // messages are gathered and written together, before any report that has to go one by one.
  let pending: { i: number; row: MessageRow; o: Outcome; reportId: string }[] = [];
  const flush = async () => {
    const withEvents = pending.filter((x) => x.o.event);
    const queued = await ctx.outbox.enqueueAll(withEvents.map((x) => ({ event: x.o.event!, messagePk: x.row.id })));
    const queuedOf = new Map(withEvents.map((x, n) => [x.i, queued[n]]));
    await insertReportRows.run(
      trx,
      pending.map((x) => reportValues(ctx, reports[x.i], x.reportId, x.row.id, dedupeKey(reports[x.i]), x.o)),
    );
    for (const x of pending) results[x.i] = appliedOf(ctx, reports[x.i], x.reportId, x.row, x.o, queuedOf.get(x.i) ?? 0, true);
    pending = [];
  };
  for (let i = 0; i < reports.length; i += 1) {
    const row = createdFirst.get(i);
    if (row) {
      const o = await firstReport(trx, ctx, row, reports[i]);
      pending.push({ i, row, o, reportId: reportIdFor(o) });
    } else {
      // a message that existed, or a later report to a new one (whose first must be written by now)
      if (pending.length > 0) await flush();
      results[i] = await applyReport(trx, ctx, reports[i], true);
    }
  }
  if (pending.length > 0) await flush();
  return results;
}

/**
 * PostgreSQL statements of a whole batch take each column's values as one array
 * (`unnest(?::text[], …)`): one short text for any number of rows, parsed and planned in a fraction
 * of what a VALUES list with a placeholder per value costs (docs/performance.md).
 */
function columnArrays<R, C extends keyof R>(rows: readonly R[], columns: readonly C[]): unknown[][] {
  return columns.map((c) => rows.map((r) => r[c]));
}
/** `unnest(?::type[], …)` for these columns, integers where named. */
function unnestOf(columns: readonly string[], integers: readonly string[] = []): string {
  return `unnest(${columns.map((c) => `?::${integers.includes(c) ? 'integer' : 'text'}[]`).join(', ')})`;
}

const insertNewMessages = new Statement(
  `INSERT INTO messages (${MESSAGE_COLUMNS.join(', ')}) SELECT * FROM ${unnestOf(MESSAGE_COLUMNS, ['version'])} ON CONFLICT (provider, account, message_id, recipient) DO NOTHING RETURNING id`,
);
/** Inserts the rows of messages that do not exist yet, in the order given; the ids of those it inserted. */
async function insertNew(trx: Transaction<Database>, rows: readonly MessageRow[]): Promise<Set<string>> {
  const inserted = await insertNewMessages.all<{ id: string }>(trx, columnArrays(rows.map(storedMessage), MESSAGE_COLUMNS));
  return new Set(inserted.map((r) => r.id));
}

/**
 * The messages of `keys` (provider, account, message id, recipient), locked FOR UPDATE in one
 * order: PostgreSQL locks the rows as the sort gives them out (the locking step comes after ORDER
 * BY). The order is the one applyLocked inserts in (keys compared by code unit; "C" compares bytes).
 */
const selectLockedMessages = new Statement(
  `SELECT * FROM messages WHERE (provider, account, message_id, recipient) IN (SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[])) ORDER BY provider COLLATE "C", account COLLATE "C", message_id COLLATE "C", recipient COLLATE "C" FOR UPDATE`,
);
async function selectLocked(trx: Transaction<Database>, keys: readonly MessageRow[]): Promise<MessageRow[]> {
  if (keys.length === 0) return [];
  return selectLockedMessages.all<MessageRow>(trx, columnArrays(keys, ['provider', 'account', 'message_id', 'recipient'] as const));
}

const selectSeenMany = new Statement(
  `SELECT id, message_pk, dedupe_key FROM reports WHERE (message_pk, dedupe_key) IN (SELECT * FROM unnest(?::text[], ?::text[])) ORDER BY id`,
);
/**
 * The history's first report (by id) for each (message pk, dedupe keys) of `pairs` that has one,
 * keyed by message pk and the key's current form (dedupeKeys).
 */
async function selectSeenAll(trx: Transaction<Database>, pairs: readonly [string, readonly [string, string]][]): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  if (pairs.length === 0) return seen;
  // both forms of each key (the same twice for a provider's event id: IN takes it once)
  const asked = pairs.flatMap(([pk, keys]) => keys.map((key) => [pk, key]));
  const rows = await selectSeenMany.all<{ id: string; message_pk: string; dedupe_key: string }>(trx, [asked.map((p) => p[0]), asked.map((p) => p[1])]);
  for (const r of rows) {
    const k = `${r.message_pk}\u0000${currentForm(r.dedupe_key)}`;
    if (!seen.has(k)) seen.set(k, r.id);
  }
  return seen;
}

/**
 * PostgreSQL: a request's history rows and its rollup deltas (src/status/rollups.ts, which then has
 * none left to flush) in one statement — one round trip fewer per request.
 */
const insertHistoryAndDeltas = new Statement(
  `WITH history AS (INSERT INTO reports (${REPORT_COLUMNS.join(', ')}) SELECT * FROM ${unnestOf(REPORT_COLUMNS, ['changed'])}) INSERT INTO stats_rollup_delta (${ROLLUP_COLUMNS.join(', ')}) SELECT * FROM ${unnestOf(ROLLUP_COLUMNS, ['n'])}`,
);
async function writeHistoryAndDeltas(trx: Transaction<Database>, ctx: Pick<ApplyContext, 'rollup'>, rows: readonly ReportValues[]): Promise<void> {
  const deltas = ctx.rollup.take();
  if (rows.length === 0 && deltas.length === 0) return;
  await insertHistoryAndDeltas.run(trx, [...columnArrays(rows, REPORT_COLUMNS), ...columnArrays(deltas, ROLLUP_COLUMNS)]);
}

const updateMessagesMany = new Statement(
  `UPDATE messages AS m SET ${CHANGED_COLUMNS.map((c) => `${c} = v.${c}`).join(', ')} FROM ${unnestOf(UPDATED_COLUMNS, ['version'])} AS v(${UPDATED_COLUMNS.join(', ')}) WHERE m.id = v.id`,
);

/** A report with the context of the request that carried it: a grouped commit applies several requests' reports together. */
interface Item {
  ctx: ApplyContext;
  report: ProviderReport;
}

/** Which message a report is to, across requests (provider and account included). */
function fullKey(of: { provider: string; account: string }, messageId: string, recipient: string): string {
  return `${of.provider}\u0000${of.account}\u0000${messageId}\u0000${recipient}`;
}

/** One request's reports applied together where rows are locked (PostgreSQL): applyLocked. */
function applyLockedOne(trx: Transaction<Database>, ctx: ApplyContext, reports: ProviderReport[]): Promise<AppliedReport[]> {
  return applyLocked(
    trx,
    ctx,
    reports.map((report) => ({ ctx, report })),
  );
}

/**
 * PostgreSQL, a grouped commit (src/ingest/ingest.ts): the reports of several requests, in request
 * order, applied as one batch (applyLocked) — each request's own context (provider, account, raw
 * request, receive time), one outbox and one rollup shared by all of them (`shared`: every context
 * must hold these two). What each request's reports gave, per request.
 */
export async function applyGroup(
  trx: Transaction<Database>,
  shared: Pick<ApplyContext, 'outbox' | 'rollup'>,
  requests: { ctx: ApplyContext; reports: ProviderReport[] }[],
): Promise<AppliedReport[][]> {
  const items: Item[] = [];
  for (const { ctx, reports } of requests) {
    if (ctx.outbox !== shared.outbox || ctx.rollup !== shared.rollup) throw new Error('a grouped request has an outbox or rollup of its own');
    for (const report of reports) items.push({ ctx, report });
  }
  const applied = items.length > 0 ? await applyLocked(trx, shared, items) : [];
  await shared.rollup.flush(trx);
  let n = 0;
  return requests.map(({ reports }) => applied.slice(n, (n += reports.length)));
}

/**
 * A batch where rows are locked (PostgreSQL): its messages are inserted where new (each in its
 * first report's state, as applyReport would) and then locked, all in one order (by provider,
 * account, message id and recipient), so concurrent transactions take the same locks in the same
 * order and cannot deadlock; the reports are then applied in their own order to the rows in memory,
 * and what they write goes out in a few multi-row statements: events and deliveries, history with
 * the rollup deltas, changed messages. The same result as applyReport one by one
 * (test/integration/pg-batch.test.ts). The items may come from several requests (applyGroup): each
 * report is applied under its own request's context; `shared` gives the outbox and rollup they all use.
 */
async function applyLocked(trx: Transaction<Database>, shared: Pick<ApplyContext, 'outbox' | 'rollup'>, items: Item[]): Promise<AppliedReport[]> {
  const keyOf = ({ ctx, report }: Item) => fullKey(ctx, report.messageId, report.recipient);
  const itemKeys = items.map(keyOf);
  /** Each message's candidate row (its first report's state): ids in report order (as one by one). */
  const candidates = new Map<string, MessageRow>();
  items.forEach((item, i) => {
    if (!candidates.has(itemKeys[i])) candidates.set(itemKeys[i], newMessage(item.ctx, item.report));
  });
  // rows in key order
  const keys = [...candidates.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const created = await insertNew(
    trx,
    keys.map((k) => candidates.get(k)!),
  );
  /** Each message's row as this batch has made it so far. */
  const current = new Map<string, MessageRow>();
  /** Messages this batch created whose first report is still to come. */
  const fresh = new Set<string>();
  const existing: MessageRow[] = [];
  for (const k of keys) {
    const row = candidates.get(k)!;
    if (created.has(row.id)) {
      current.set(k, row);
      fresh.add(k);
      shared.rollup.add(row, 1);
    } else existing.push(row);
  }
  for (const row of await selectLocked(trx, existing)) current.set(fullKey(row, row.message_id, row.recipient), row);
  if (current.size !== keys.length) throw new Error('message row vanished after insert');

  const itemDedupeKeys = items.map(({ report }) => dedupeKeys(report));
  /** The history's report per message pk and dedupe key: what was there, then what this batch writes. */
  const history = await selectSeenAll(
    trx,
    items.flatMap((_, i) => (fresh.has(itemKeys[i]) ? [] : [[current.get(itemKeys[i])!.id, itemDedupeKeys[i]] as const])),
  );

  const changed = new Set<MessageRow>();
  const events: { event: StatusEvent; messagePk: string; at: Date }[] = [];
  const rows: ReportValues[] = [];
  const done: { item: Item; message: MessageRow; o: Outcome; reportId: string | null; created: boolean }[] = [];
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i];
    const { ctx, report } = item;
    const k = itemKeys[i];
    const key = itemDedupeKeys[i][0];
    const message = current.get(k)!;
    const created = fresh.delete(k);
    let o: Outcome;
    if (created) {
      o = await firstReport(trx, ctx, message, report);
    } else {
      const seenId = history.get(`${message.id}\u0000${key}`);
      const judged = await judgeLater(trx, ctx, message, report, seenId === undefined ? undefined : { id: seenId });
      o = judged.o;
      if (judged.next) {
        changed.delete(message);
        current.set(k, judged.next);
        changed.add(judged.next);
      }
    }
    if (o.clearedStale) {
      // clearRegisteredStale changed the all-recipients row in the database: so in memory
      const all = current.get(fullKey(ctx, report.messageId, ''));
      if (all) all.stale_at = null;
    }
    if (o.event) events.push({ event: o.event, messagePk: message.id, at: ctx.receivedAt });
    if (o.seen && ctx.replay) {
      done.push({ item, message, o, reportId: null, created });
      continue;
    }
    const reportId = reportIdFor(o);
    rows.push(reportValues(ctx, report, reportId, message.id, key, o));
    const h = `${message.id}\u0000${key}`;
    if (!history.has(h)) history.set(h, reportId);
    done.push({ item, message, o, reportId, created });
  }

  const queued = await shared.outbox.enqueueAll(events);
  await writeHistoryAndDeltas(trx, shared, rows);
  if (changed.size > 0) await updateMessagesMany.run(trx, columnArrays([...changed], UPDATED_COLUMNS));
  let n = 0;
  return done.map(({ item, message, o, reportId, created }) => {
    const q = o.event ? queued[n++] : 0;
    const applied = appliedOf(item.ctx, item.report, reportId ?? o.seen!.id, message, o, q, created);
    return reportId === null ? { ...applied, event: null } : applied;
  });
}

import { sql, type Kysely, type Transaction } from 'kysely';
import type { DialectName } from '../db/connect';
import type { Database, MessageRow, RegistrationRow } from '../db/types';
import { newId } from '../util/ids';
import { iso } from '../util/time';
import { anyRegistration, findRegistration, registrationOf, type Registration } from './registrations';
import { RollupDeltas } from './rollups';
import { insertMessageRows, type Outbox } from './store';
import { readMessageRows } from './stored-form';
import type { Channel, Status, StatusEvent } from './types';

/**
 * Messages that never got a final report (issue #16, CONTRACT "Stale messages"). Each message, and
 * each send registration, carries the time its final report is due: its first sight plus the
 * account's `finalAfterSeconds` (src/status/store.ts sets it, a final status clears it). A sweep
 * (`sweepStale`, run by src/outbox/stale-sweep.ts) claims what is past due, marks it stale and
 * emits one `message.stale` event each, in one transaction per batch. The claim is an UPDATE that
 * only a due row passes, so with several replicas (PostgreSQL: SKIP LOCKED) each message is found
 * stale once. A registration whose message never got any report becomes a message with no status
 * (version 0), stale: "the provider never called back".
 */

/** Rows claimed per transaction: a sweep never holds the writer for long. */
export const SWEEP_BATCH = 200;

export interface SweepOptions {
  dialect: DialectName;
  now: Date;
  /** The outbox of the sweep's transaction (src/outbox/enqueue.ts createOutbox). */
  outboxOf(trx: Transaction<Database>): Outbox;
  /** The channel of a configured provider; null when it is no longer configured (its registrations are not made messages). */
  channelOf(provider: string): Channel | null;
  /** Rows claimed per transaction (default SWEEP_BATCH). */
  batch?: number;
}

export interface StaleFound {
  provider: string;
  account: string;
  event: StatusEvent;
  /** Deliveries queued for its event. */
  queued: number;
}

/** The message.stale event of a message: its state unchanged (status, version, error), the due time (`stale_at`) as `occurred_at`. */
export function staleEvent(row: MessageRow, now: Date, registration: Registration | null): StatusEvent {
  const event: StatusEvent = {
    id: newId('evt'),
    type: 'message.stale',
    provider: row.provider,
    account: row.account,
    channel: row.channel as Channel,
    message_id: row.message_id,
    recipient: row.recipient,
    status: (row.status as Status | null) ?? null,
    terminal: false,
    version: row.version,
    error: row.error_code !== null ? { code: row.error_code, message: row.error_message } : null,
    occurred_at: row.stale_at ?? iso(now),
    received_at: iso(now),
    raw_id: null,
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
  };
  if (registration?.reference != null) event.reference = registration.reference;
  if (registration?.metadata != null) event.metadata = registration.metadata;
  return event;
}

const skipLocked = (dialect: DialectName) => (dialect === 'postgres' ? sql` FOR UPDATE SKIP LOCKED` : sql``);

/** Claims up to `limit` messages past due: stale since their due time, no longer watched; the rows as they are now. */
async function claimMessages(trx: Transaction<Database>, o: SweepOptions, limit: number): Promise<MessageRow[]> {
  const now = iso(o.now);
  const { rows } = await sql<MessageRow>`UPDATE messages SET stale_at = final_due_at, final_due_at = NULL
    WHERE id IN (SELECT id FROM messages WHERE final_due_at IS NOT NULL AND final_due_at <= ${now} ORDER BY final_due_at LIMIT ${limit}${skipLocked(o.dialect)})
      AND final_due_at IS NOT NULL
    RETURNING id, provider, account, message_id, recipient, channel, status, error_code, error_message, occurred_at, version, attributes, created_at, updated_at, stale_at`.execute(
    trx,
  );
  return readMessageRows(trx, rows);
}

/** Claims up to `limit` registrations past due (each is looked at once), as they were. */
async function claimRegistrations(trx: Transaction<Database>, o: SweepOptions, limit: number): Promise<RegistrationRow[]> {
  const now = iso(o.now);
  const { rows } = await sql<RegistrationRow>`UPDATE registrations SET final_due_at = NULL
    WHERE (provider, account, message_id, recipient) IN (
        SELECT provider, account, message_id, recipient FROM registrations
        WHERE final_due_at IS NOT NULL AND final_due_at <= ${now} ORDER BY final_due_at LIMIT ${limit}${skipLocked(o.dialect)})
      AND final_due_at IS NOT NULL
    RETURNING provider, account, message_id, recipient, reference, metadata, created_at, final_due_at`.execute(trx);
  return rows;
}

/** Whether a report ever came for a registration: its recipient's message, or any message of its id when it names none. */
async function reported(trx: Transaction<Database>, reg: RegistrationRow): Promise<boolean> {
  let q = trx
    .selectFrom('messages')
    .select('id')
    .where('provider', '=', reg.provider)
    .where('account', '=', reg.account)
    .where('message_id', '=', reg.message_id);
  if (reg.recipient !== '') q = q.where('recipient', '=', reg.recipient);
  return (await q.limit(1).executeTakeFirst()) !== undefined;
}

/** One batch of each kind in one transaction; how many were found stale and their events. */
async function sweepBatch(db: Kysely<Database>, o: SweepOptions, limit: number): Promise<{ found: StaleFound[]; claimed: number }> {
  return db.transaction().execute(async (trx) => {
    const outbox = o.outboxOf(trx);
    const found: { provider: string; account: string; event: StatusEvent; messagePk: string }[] = [];
    const messages = await claimMessages(trx, o, limit);
    for (const m of messages) {
      const registration = (await anyRegistration(trx, m.provider, m.account))
        ? await findRegistration(trx, { provider: m.provider, account: m.account, messageId: m.message_id, recipient: m.recipient })
        : null;
      found.push({ provider: m.provider, account: m.account, event: staleEvent(m, o.now, registration), messagePk: m.id });
    }
    const registrations = await claimRegistrations(trx, o, limit);
    const rollup = new RollupDeltas();
    for (const reg of registrations) {
      const channel = o.channelOf(reg.provider);
      if (channel === null || (await reported(trx, reg))) continue;
      const now = iso(o.now);
      const staleSince = reg.final_due_at ?? now;
      const row: MessageRow = {
        id: newId('msg'),
        provider: reg.provider,
        account: reg.account,
        message_id: reg.message_id,
        recipient: reg.recipient,
        channel,
        status: null,
        error_code: null,
        error_message: null,
        occurred_at: null,
        version: 0,
        attributes: '{}',
        created_at: reg.created_at,
        updated_at: now,
        final_due_at: null,
        stale_at: staleSince,
      };
      if ((await insertMessageRows.count(trx, [row])) === 0) continue; // a report made it meanwhile
      rollup.add(row, 1);
      await trx
        .updateTable('registrations')
        .set({ stale_at: staleSince })
        .where('provider', '=', reg.provider)
        .where('account', '=', reg.account)
        .where('message_id', '=', reg.message_id)
        .where('recipient', '=', reg.recipient)
        .execute();
      found.push({ provider: reg.provider, account: reg.account, event: staleEvent(row, o.now, registrationOf(reg)), messagePk: row.id });
    }
    await rollup.flush(trx);
    const queued = await outbox.enqueueAll(found.map(({ event, messagePk }) => ({ event, messagePk })));
    return {
      found: found.map((f, i) => ({ provider: f.provider, account: f.account, event: f.event, queued: queued[i] })),
      claimed: messages.length + registrations.length,
    };
  });
}

/** Sweeps until nothing is past due (or `signal` aborts between batches); everything found stale. */
export async function sweepStale(db: Kysely<Database>, o: SweepOptions, signal?: AbortSignal): Promise<StaleFound[]> {
  const limit = o.batch ?? SWEEP_BATCH;
  const all: StaleFound[] = [];
  for (;;) {
    const { found, claimed } = await sweepBatch(db, o, limit);
    all.push(...found);
    if (claimed < limit || signal?.aborted) return all;
  }
}

import type { Kysely, Transaction } from 'kysely';
import { fixed } from '../db/sql';
import type { Database, RegistrationRow } from '../db/types';
import { iso } from '../util/time';

export interface MessageKey {
  provider: string;
  account: string;
  messageId: string;
  recipient: string;
}

export interface Registration {
  reference: string | null;
  metadata: Record<string, unknown> | null;
}

/** A registration as found for a report: which recipient it names ('' for all), and whether the sweep made a stale message of it. */
export interface FoundRegistration extends Registration {
  recipient: string;
  staleAt: string | null;
}

const selectRegistrations = fixed(
  'registrations',
)`SELECT * FROM registrations WHERE provider = ${'provider'} AND account = ${'account'} AND message_id = ${'message_id'} AND recipient IN (${'recipient'}, '')`;

/**
 * Of one message id's registrations, the one a message to `recipient` has: the one for that exact
 * recipient, else the one for every recipient of the id (recipient '').
 */
export function registrationFor<R extends { recipient: string }>(rows: readonly R[], recipient: string): R | undefined {
  return rows.find((r) => r.recipient === recipient) ?? rows.find((r) => r.recipient === '');
}

/**
 * The registration of a message (registrationFor). Registration is optional; a report never waits
 * for one.
 */
export async function findRegistration(db: Kysely<Database> | Transaction<Database>, key: MessageKey): Promise<FoundRegistration | null> {
  const rows = await selectRegistrations.all(db, { provider: key.provider, account: key.account, message_id: key.messageId, recipient: key.recipient });
  const row = registrationFor(rows, key.recipient);
  if (!row) return null;
  return { ...registrationOf(row), recipient: row.recipient, staleAt: row.stale_at };
}

/** A registration row's business fields, its metadata parsed. */
export function registrationOf(row: Pick<RegistrationRow, 'reference' | 'metadata'>): Registration {
  return { reference: row.reference, metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>) };
}

const selectAnyRegistration = fixed('registrations')`SELECT 1 AS one FROM registrations WHERE provider = ${'provider'} AND account = ${'account'} LIMIT 1`;

/** Whether an account has any registration at all (none: no report needs to look for one). */
export async function hasRegistration(db: Kysely<Database> | Transaction<Database>, provider: string, account: string): Promise<boolean> {
  return (await selectAnyRegistration.first<{ one: number }>(db, { provider, account })) !== undefined;
}

const anyByTransaction = new WeakMap<Transaction<Database>, Map<string, Promise<boolean>>>();

/** hasRegistration, asked once per transaction and account (one SQLite transaction holds a group of ingests; see enqueue.ts). */
export function anyRegistration(trx: Transaction<Database>, provider: string, account: string): Promise<boolean> {
  let known = anyByTransaction.get(trx);
  if (!known) anyByTransaction.set(trx, (known = new Map<string, Promise<boolean>>()));
  const key = `${provider}\u0000${account}`;
  let answer = known.get(key);
  if (!answer) {
    answer = hasRegistration(trx, provider, account);
    known.set(key, answer);
  }
  return answer;
}

/**
 * Records (or replaces) a send registration. A new one is due a report within `finalAfterSeconds`
 * (src/status/stale.ts); replacing one keeps its due time.
 */
export async function register(db: Kysely<Database>, key: MessageKey, reg: Registration, now: Date, finalAfterSeconds: number): Promise<void> {
  const values = {
    reference: reg.reference,
    metadata: reg.metadata === null ? null : JSON.stringify(reg.metadata),
    updated_at: now.toISOString(),
  };
  await db
    .insertInto('registrations')
    .values({
      provider: key.provider,
      account: key.account,
      message_id: key.messageId,
      recipient: key.recipient,
      created_at: now.toISOString(),
      final_due_at: dueAfter(now, finalAfterSeconds),
      ...values,
    })
    .onConflict((oc) => oc.columns(['provider', 'account', 'message_id', 'recipient']).doUpdateSet(values))
    .execute();
}

export function dueAfter(from: Date, seconds: number): string {
  return iso(new Date(from.getTime() + seconds * 1000));
}

/**
 * A report came for one recipient of a message id registered for all recipients (recipient '')
 * after the sweep had made that registration a stale message: the provider did call back, so the
 * registration's message is no longer stale (the recipient's own message is watched from now on).
 */
export async function clearRegisteredStale(trx: Transaction<Database>, provider: string, account: string, messageId: string): Promise<void> {
  await trx
    .updateTable('messages')
    .set({ stale_at: null })
    .where('provider', '=', provider)
    .where('account', '=', account)
    .where('message_id', '=', messageId)
    .where('recipient', '=', '')
    .where('stale_at', 'is not', null)
    .execute();
  await trx
    .updateTable('registrations')
    .set({ stale_at: null })
    .where('provider', '=', provider)
    .where('account', '=', account)
    .where('message_id', '=', messageId)
    .where('recipient', '=', '')
    .execute();
}

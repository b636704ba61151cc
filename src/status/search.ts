import type { CountryCode } from 'libphonenumber-js';
import type { Kysely } from 'kysely';
import type { Database, MessageRow, RegistrationRow } from '../db/types';
import { DEFAULT_REGION, PHONE_LIKE, readNumber } from '../util/country';
import { registrationFor } from './registrations';

/** The most hits a search answers: a support search names one customer's messages, not a list. */
export const MAX_SEARCH_HITS = 50;

/** What a hit matched: its message id, its recipient (in one of its forms), or its registration's reference. */
export type Matched = 'message_id' | 'recipient' | 'reference';

export interface SearchHit {
  provider: string;
  account: string;
  message_id: string;
  recipient: string;
  channel: string | null;
  /** null: no report yet (a registered send nobody reported on), or none mapped to a status. */
  status: string | null;
  version: number;
  updated_at: string;
  reference: string | null;
  matched: Matched;
}

/** Digits a term needs to be read as a number (punctuation alone is not one). */
const MIN_DIGITS = 6;

/**
 * The forms a recipient may be stored in, for a term a person typed. Providers report numbers as
 * they choose (Aliyun `13800138000`, Twilio `+8613800138000`, others `8613800138000`), so a number
 * is read with libphonenumber-js — with its `+` or `00`, else in DEFAULT_REGION, else as if it had
 * a `+` — and searched in each: `+CC NSN`, `CC NSN`, `00CC NSN`, the national number, and the
 * national form with its trunk prefix (`07700900123`). An e-mail address is searched as typed and
 * in lower case (as most providers report it). Anything else only as typed.
 */
export function recipientForms(term: string, region: CountryCode = DEFAULT_REGION): string[] {
  const forms = new Set([term]);
  if (term.includes('@')) forms.add(term.toLowerCase());
  else if (PHONE_LIKE.test(term) && term.replace(/\D/g, '').length >= MIN_DIGITS) {
    const digits = term.replace(/\D/g, '');
    const number = readNumber(term, region);
    if (number) {
      const cc = number.countryCallingCode;
      const nsn = number.nationalNumber;
      for (const form of [`+${cc}${nsn}`, `${cc}${nsn}`, `00${cc}${nsn}`, nsn, number.format('NATIONAL').replace(/\D/g, '')]) forms.add(form);
    } else forms.add(digits);
  }
  return [...forms];
}

function hitOf(row: MessageRow, matched: Matched): SearchHit {
  return {
    provider: row.provider,
    account: row.account,
    message_id: row.message_id,
    recipient: row.recipient,
    channel: row.channel,
    status: row.status,
    version: row.version,
    updated_at: row.updated_at,
    reference: null,
    matched,
  };
}

/** A registered send no report has reached yet: found by its reference, shown without a status. */
function registeredOnly(row: RegistrationRow): SearchHit {
  return {
    provider: row.provider,
    account: row.account,
    message_id: row.message_id,
    recipient: row.recipient,
    channel: null,
    status: null,
    version: 0,
    updated_at: row.updated_at,
    reference: row.reference,
    matched: 'reference',
  };
}

/**
 * Messages a support search names, newest change first, at most MAX_SEARCH_HITS: by message id
 * (`messages_message_id`), by recipient in every form of the term (`messages_recipient_id`), and
 * by a send registration's reference (`registrations_reference`, then each registration's messages
 * through the messages' unique key) — each an index lookup, never a scan. A registration with no
 * message yet is a hit too: "the provider never called back" is the commonest question.
 *
 * The lookups that do not depend on each other are sent together, so that on SQLite they run side
 * by side on the read threads (src/db/read-pool.ts), and the hits' references are read in one
 * query per provider and account. Each lookup used to wait for the one before, and the references
 * one hit at a time: up to 57 answers in turn, each behind the other readers' queries. With four
 * clients polling every read route beside ingest on 2 M messages, a search by a number in another
 * form took p50 94 ms, p95 579 ms that way, 28 / 159 ms now (2.6 / 13 ms alone; docs/performance.md).
 */
export async function searchMessages(db: Kysely<Database>, term: string): Promise<SearchHit[]> {
  const q = term.trim();
  if (q === '') return [];
  // one query per form, each the newest of one range of messages_recipient_id (an IN list would sort
  // every message of a busy recipient before taking the first ones)
  const ofRecipient = (form: string) =>
    db.selectFrom('messages').selectAll().where('recipient', '=', form).orderBy('id', 'desc').limit(MAX_SEARCH_HITS).execute();
  const [byId, byRecipient, registrations] = await Promise.all([
    db.selectFrom('messages').selectAll().where('message_id', '=', q).orderBy('id', 'desc').limit(MAX_SEARCH_HITS).execute(),
    Promise.all(recipientForms(q).map(ofRecipient)),
    db.selectFrom('registrations').selectAll().where('reference', '=', q).orderBy('updated_at', 'desc').limit(MAX_SEARCH_HITS).execute(),
  ]);
  const registered = await Promise.all(
    registrations.map((reg) => {
      let messages = db
        .selectFrom('messages')
        .selectAll()
        .where('provider', '=', reg.provider)
        .where('account', '=', reg.account)
        .where('message_id', '=', reg.message_id);
      if (reg.recipient !== '') messages = messages.where('recipient', '=', reg.recipient);
      return messages.limit(MAX_SEARCH_HITS).execute();
    }),
  );
  const hits = new Map<string, SearchHit>();
  for (const row of byId) hits.set(row.id, hitOf(row, 'message_id'));
  for (const row of byRecipient.flat()) if (!hits.has(row.id)) hits.set(row.id, hitOf(row, 'recipient'));
  registrations.forEach((reg, i) => {
    const rows = registered[i];
    if (rows.length === 0) hits.set(`reg:${reg.provider}:${reg.account}:${reg.message_id}:${reg.recipient}`, registeredOnly(reg));
    for (const row of rows) if (!hits.has(row.id)) hits.set(row.id, hitOf(row, 'reference'));
  });
  const sorted = [...hits.values()].sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0)).slice(0, MAX_SEARCH_HITS);
  await addReferences(
    db,
    sorted.filter((hit) => hit.reference === null),
  );
  return sorted;
}

/**
 * Each hit's reference (registrationFor, src/status/registrations.ts), for all hits of one provider
 * and account in one query through the registrations' key.
 */
async function addReferences(db: Kysely<Database>, hits: SearchHit[]): Promise<void> {
  const groups = new Map<string, SearchHit[]>();
  for (const hit of hits) {
    const key = `${hit.provider}\u0000${hit.account}`;
    const group = groups.get(key);
    if (group) group.push(hit);
    else groups.set(key, [hit]);
  }
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const { provider, account } = group[0];
      const rows = await db
        .selectFrom('registrations')
        .select(['message_id', 'recipient', 'reference'])
        .where('provider', '=', provider)
        .where('account', '=', account)
        .where('message_id', 'in', [...new Set(group.map((hit) => hit.message_id))])
        .execute();
      for (const hit of group)
        hit.reference =
          registrationFor(
            rows.filter((r) => r.message_id === hit.message_id),
            hit.recipient,
          )?.reference ?? null;
    }),
  );
}

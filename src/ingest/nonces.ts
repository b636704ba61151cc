import type { Transaction } from 'kysely';
import type { Database } from '../db/types';
import { SignatureInvalid } from '../errors';
import type { Nonce } from '../providers/types';

/**
 * Single-use values (Mailgun's token, a generic provider's `nonce`), one row per (provider,
 * account, value), naming the raw request that used it. The unique key makes a second use a
 * replay even when two copies race, on SQLite and PostgreSQL alike.
 *
 * Rows are not deleted when they expire: they stay while a raw request that could carry the value
 * is kept (src/replay/retention.ts), because replay checks timestamps against the stored receive
 * time, so a copy replayed months later passes the timestamp check and only this row stops it.
 */

async function insertNonce(trx: Transaction<Database>, provider: string, account: string, nonce: Nonce, rawId: string): Promise<boolean> {
  const result = await trx
    .insertInto('nonces')
    .values({ provider, account, value: nonce.value, expires_at: nonce.expiresAt.toISOString(), raw_id: rawId })
    .onConflict((oc) => oc.columns(['provider', 'account', 'value']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * Live ingest: records the request's nonces inside its transaction. A value already recorded is a
 * replay — unless its window has closed (`expires_at` passed), in which case the new use takes the
 * row over, exactly as when expired rows were deleted before each insert.
 */
export async function recordNonces(trx: Transaction<Database>, provider: string, account: string, nonces: Nonce[], rawId: string, now: Date): Promise<void> {
  for (const nonce of nonces) {
    if (await insertNonce(trx, provider, account, nonce, rawId)) continue;
    const taken = await trx
      .updateTable('nonces')
      .set({ expires_at: nonce.expiresAt.toISOString(), raw_id: rawId })
      .where('provider', '=', provider)
      .where('account', '=', account)
      .where('value', '=', nonce.value)
      .where('expires_at', '<', now.toISOString())
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 0) throw new SignatureInvalid('this signature token was used before (replayed request)');
  }
}

/**
 * Replay and import: a nonce recorded for another raw request is refused, whenever that was — the
 * replayed request's timestamp is checked against its stored (or the import's) time, so an expired
 * row proves nothing. One recorded for this same request (its own earlier attempt) is fine; one not
 * recorded is recorded for it, inside the replay's transaction (a dry run rolls it back).
 *
 * A row written before migration 0002 names no request. Only a live acceptance wrote such rows,
 * so it is taken as this request's own when this request was accepted (`ownsUnnamed`), and as
 * another's otherwise.
 */
export async function claimNonces(
  trx: Transaction<Database>,
  provider: string,
  account: string,
  nonces: Nonce[],
  rawId: string,
  ownsUnnamed: boolean,
): Promise<void> {
  for (const nonce of nonces) {
    if (await insertNonce(trx, provider, account, nonce, rawId)) continue;
    const row = await trx
      .selectFrom('nonces')
      .select('raw_id')
      .where('provider', '=', provider)
      .where('account', '=', account)
      .where('value', '=', nonce.value)
      .executeTakeFirst();
    if (row?.raw_id === rawId) continue;
    if (row?.raw_id === null && ownsUnnamed) {
      await trx
        .updateTable('nonces')
        .set({ raw_id: rawId })
        .where('provider', '=', provider)
        .where('account', '=', account)
        .where('value', '=', nonce.value)
        .where('raw_id', 'is', null)
        .execute();
      continue;
    }
    throw new SignatureInvalid(`this signature token was used by ${row?.raw_id ?? 'an earlier request'} (replayed request)`);
  }
}

import type { Transaction } from 'kysely';
import type { Database } from '../db/types';
import { SignatureInvalid } from '../errors';
import type { Nonce } from '../providers/types';

/**
 * Records single-use values inside the ingest transaction: the unique key makes a second use a
 * replay even when two copies race, on SQLite and PostgreSQL alike.
 */
export async function recordNonces(trx: Transaction<Database>, provider: string, account: string, nonces: Nonce[], now: Date): Promise<void> {
  if (nonces.length === 0) return;
  await trx.deleteFrom('nonces').where('expires_at', '<', now.toISOString()).execute();
  for (const nonce of nonces) {
    const result = await trx
      .insertInto('nonces')
      .values({ provider, account, value: nonce.value, expires_at: nonce.expiresAt.toISOString() })
      .onConflict((oc) => oc.columns(['provider', 'account', 'value']).doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw new SignatureInvalid('this signature token was used before (replayed request)');
  }
}

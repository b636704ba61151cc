import type { Kysely } from 'kysely';
import { fixed } from '../db/sql';
import type { Database } from '../db/types';

/**
 * Automatic disabling of a failing subscription (issue #18). A subscription carries `failing_since`:
 * when the first failed attempt after its last success started. A success clears it; once it is at
 * least `delivery.disableAfterFailingSeconds` old (default 5 days) when another attempt fails, the
 * worker disables the subscription (`disabled_reason` says why). Its pending deliveries stay in the
 * outbox; `PATCH enabled: true` clears `failing_since` and makes them due at once.
 *
 * Judged on attempts, so a subscription with no events is never disabled for being down; and on
 * the database's record, so attempts by several workers add up.
 */

/** How the attempts of one recorded batch change one subscription's record. */
export interface FailingChange {
  /** A success in the batch: failing_since is set to `since` (null: not failing) whatever it was. */
  reset: boolean;
  /** The start of the first failed attempt after the batch's last success (or of its first, without one). */
  since: string | null;
}

/** Folds a batch's attempts, in the order they finished, into one change per subscription. */
export function failingChanges(attempts: { subscriptionId: string; succeeded: boolean; startedAt: string }[]): Map<string, FailingChange> {
  const out = new Map<string, FailingChange>();
  for (const a of attempts) {
    let c = out.get(a.subscriptionId);
    if (!c) {
      c = { reset: false, since: null };
      out.set(a.subscriptionId, c);
    }
    if (a.succeeded) {
      c.reset = true;
      c.since = null;
    } else if (c.since === null || a.startedAt < c.since) {
      c.since = a.startedAt;
    }
  }
  return out;
}

const setFailing = fixed('subscriptions')`UPDATE subscriptions SET failing_since = ${'failing_since'} WHERE id = ${'id'}`;
const clearFailing = fixed('subscriptions')`UPDATE subscriptions SET failing_since = NULL WHERE id = ${'id'} AND failing_since IS NOT NULL`;
const startFailing = fixed('subscriptions')`UPDATE subscriptions SET failing_since = ${'failing_since'} WHERE id = ${'id'} AND failing_since IS NULL`;
const disableFailing = fixed(
  'subscriptions',
)`UPDATE subscriptions SET enabled = 0, disabled_reason = ${'disabled_reason'}, updated_at = ${'updated_at'} WHERE id = ${'id'} AND enabled = 1 AND failing_since IS NOT NULL AND failing_since <= ${'failing_since'}`;

/** The disabled_reason of a subscription disabled for failing. */
export function failingReason(seconds: number): string {
  return `every delivery attempt failed for ${seconds} s or more (delivery.disableAfterFailingSeconds)`;
}

/**
 * Writes a batch's changes in transaction `trx`; the subscriptions it disabled (enabled before, and
 * failing since `now - disableAfterSeconds` or earlier).
 */
export async function applyFailingChanges(
  trx: Kysely<Database>,
  changes: Map<string, FailingChange>,
  now: Date,
  disableAfterSeconds: number,
): Promise<string[]> {
  const disabled: string[] = [];
  const cutoff = new Date(now.getTime() - disableAfterSeconds * 1000).toISOString();
  for (const [id, c] of changes) {
    if (c.reset) {
      if (c.since === null) await clearFailing.run(trx, { id });
      else await setFailing.run(trx, { id, failing_since: c.since });
    } else if (c.since !== null) {
      await startFailing.run(trx, { id, failing_since: c.since });
    }
    if (c.since === null) continue;
    const n = await disableFailing.changes(trx, {
      id,
      failing_since: cutoff,
      disabled_reason: failingReason(disableAfterSeconds),
      updated_at: now.toISOString(),
    });
    if (n > 0) disabled.push(id);
  }
  return disabled;
}

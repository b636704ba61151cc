import type { Status } from './types';

/**
 * The state rules (CONTRACT.md, "State rules"), pure: no I/O, no clock.
 *
 * Each status has a rank. A report changes the message only if its rank is higher than the
 * current status's, or, between two failures (rank 3), if it happened earlier — ties broken by
 * status, then error code, alphabetically. The final state therefore depends only on the set of
 * reports, never on their arrival order, and a terminal status never goes back.
 */
export const RANK: Readonly<Record<Status, number>> = {
  queued: 0,
  sent: 1,
  deferred: 2,
  failed: 3,
  expired: 3,
  rejected: 3,
  delivered: 4,
};

const FAILURE_RANK = 3;

/** `unmapped`: a report whose code the provider's status table leaves without a status. */
export type NoChangeReason = 'duplicate' | 'lower_rank' | 'later_failure' | 'unmapped';
export type Decision = { change: true } | { change: false; reason: NoChangeReason };

/** What the rules need to know of a status, current or reported. */
export interface StatusFacts {
  status: Status;
  /** ISO-8601 UTC. */
  occurredAt: string;
  errorCode: string | null;
}

function failureOrder(a: StatusFacts, b: StatusFacts): number {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt < b.occurredAt ? -1 : 1;
  if (a.status !== b.status) return a.status < b.status ? -1 : 1;
  const ca = a.errorCode ?? '';
  const cb = b.errorCode ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return 0;
}

/**
 * Decides whether `report` changes a message whose status is `current` (null: no status yet).
 * `seenBefore` is true when the same report (same dedupe key) is already in the history.
 */
export function decide(current: StatusFacts | null, report: StatusFacts, seenBefore: boolean): Decision {
  if (seenBefore) return { change: false, reason: 'duplicate' };
  if (current === null) return { change: true };
  const from = RANK[current.status];
  const to = RANK[report.status];
  if (to > from) return { change: true };
  if (to < from) return { change: false, reason: 'lower_rank' };
  if (to === FAILURE_RANK) {
    return failureOrder(report, current) < 0 ? { change: true } : { change: false, reason: 'later_failure' };
  }
  return { change: false, reason: 'lower_rank' };
}

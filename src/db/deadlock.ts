/** PostgreSQL's error code for a transaction it aborted to break a deadlock. */
const DEADLOCK_DETECTED = '40P01';
/** Attempts of a transaction that keeps losing deadlocks, in all. */
const TRIES = 3;

/**
 * Runs a transaction (`run` begins and commits it) again when PostgreSQL aborted it to break a
 * deadlock, as its manual advises ("Deadlocks", explicit locking): two transactions that take the
 * same rows in different orders — the outbox worker's step recording attempts and fanning out
 * (deliveries, then a subscription's key) and a subscription's deletion (the subscription, its
 * deliveries) — are each correct, and one of them is cancelled. `run` must start from its inputs.
 * SQLite has one writer and never deadlocks.
 */
export async function retryDeadlocks<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= TRIES || (err as { code?: unknown }).code !== DEADLOCK_DETECTED) throw err;
    }
  }
}

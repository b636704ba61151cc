import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { AppContext } from '../context';
import { startPeriodic } from '../util/periodic';
import { audit } from './audit';

/** How often a server purges raw requests older than `retention.rawDays`. */
export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** The server's first purge starts this long after start-up: it answers requests first. */
export const RETENTION_FIRST_RUN_MS = 1000;
/**
 * What one batch of the server's purge aims to take. On SQLite a statement runs on the event loop
 * (every kysely call is synchronous underneath), so this is how long requests wait for it at most,
 * about; on PostgreSQL it keeps each statement (and its locks) short.
 */
export const PURGE_BATCH_TARGET_MS = 10;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Rows per statement of the command line's purge, which runs flat out. */
const PURGE_BATCH = 1000;
/** The server's batches: the first one's size, and the bounds within which they adapt to the target time. */
const BATCH_START = 100;
const BATCH_MIN = 10;
const BATCH_MAX = 5000;
/** Weight of the newest batch in the estimate of what a row costs (batches vary by 2-3x on a busy machine). */
const COST_SMOOTHING = 0.3;

/**
 * How the purge runs. Without options (the command line), fixed-size batches one after another.
 * `background` (the server): batches sized to take about PURGE_BATCH_TARGET_MS, each followed by a
 * pause as long as it took (at least 1 ms, a timer, so requests are served in between: the purge
 * takes at most about half the event loop). `signal` ends the purge between two batches.
 */
export interface PurgeOptions {
  background?: boolean;
  signal?: AbortSignal;
}

export interface PurgeResult {
  purged: number;
  before: string;
  /** Present when `signal` ended the purge before it was done (shutdown). */
  interrupted?: true;
}

/** The next batch size: what the estimated cost per row lets fit in the target time, at most doubled, within the bounds. */
function nextBatch(size: number, msPerRow: number): number {
  const fits = msPerRow > 0 ? PURGE_BATCH_TARGET_MS / msPerRow : size * 2;
  return Math.round(Math.min(BATCH_MAX, size * 2, Math.max(BATCH_MIN, fits)));
}

/**
 * Runs `batch(n)` (which deletes at most n rows and says how many it deleted) until it deletes
 * none; false if `signal` ended it first.
 */
async function inBatches(batch: (n: number) => Promise<number>, options: PurgeOptions, onDeleted: (n: number) => void): Promise<boolean> {
  const { background = false, signal } = options;
  let size = background ? BATCH_START : PURGE_BATCH;
  let msPerRow = 0;
  for (;;) {
    if (signal?.aborted) return false;
    const started = performance.now();
    const deleted = await batch(size);
    const took = performance.now() - started;
    onDeleted(deleted);
    if (deleted === 0) return true;
    if (!background) continue;
    msPerRow = msPerRow === 0 ? took / deleted : (1 - COST_SMOOTHING) * msPerRow + COST_SMOOTHING * (took / deleted);
    size = nextBatch(size, msPerRow);
    // a timer, not a microtask: the event loop serves what arrived meanwhile (an aborted pause ends at once)
    await delay(Math.max(1, Math.ceil(took)), undefined, { signal }).catch(() => undefined);
  }
}

/**
 * Deletes raw requests received before `before`, the nonces only they could carry, and expired
 * Idempotency-Key rows; message
 * status and history stay. Each statement deletes one bounded batch, oldest first, found through
 * the `received_at` index (`expires_at` for nonces).
 */
export async function purgeRaw(ctx: AppContext, before: Date, actor: string, options: PurgeOptions = {}): Promise<PurgeResult> {
  const { db } = ctx.dbh;
  const cutoff = before.toISOString();
  let purged = 0;
  let done = await inBatches(
    async (n) => {
      const r = await db
        .deleteFrom('raw_requests')
        .where('id', 'in', (eb) => eb.selectFrom('raw_requests').select('id').where('received_at', '<', cutoff).orderBy('received_at').limit(n))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    options,
    (n) => (purged += n),
  );
  // A nonce row goes with the raw requests that could carry its value. A request reusing a nonce
  // passes the timestamp check only if received before the row's expires_at (twice the tolerance
  // after the first use), so once expires_at is before the cutoff, every such request is purged
  // here too; until then the row stays, for replay (src/ingest/nonces.ts claimNonces) to refuse.
  if (done) {
    const nonceCutoff = new Date(Math.min(before.getTime(), Date.now())).toISOString();
    done = await inBatches(
      async (n) => {
        const r = await db
          .deleteFrom('nonces')
          .where((eb) =>
            eb(
              eb.refTuple('provider', 'account', 'value'),
              'in',
              eb
                .selectFrom('nonces')
                .select(['provider', 'account', 'value'])
                .where('expires_at', '<', nonceCutoff)
                .orderBy('expires_at')
                .limit(n)
                .$asTuple('provider', 'account', 'value'),
            ),
          )
          .executeTakeFirst();
        return Number(r.numDeletedRows);
      },
      options,
      () => undefined,
    );
  }
  // Idempotency-Key rows past their 24 h (src/http/idempotency.ts): whatever `before` is, only expired ones.
  if (done) {
    const now = new Date().toISOString();
    done = await inBatches(
      async (n) => {
        const r = await db
          .deleteFrom('idempotency_keys')
          .where((eb) =>
            eb(
              eb.refTuple('actor', 'key'),
              'in',
              eb.selectFrom('idempotency_keys').select(['actor', 'key']).where('expires_at', '<', now).orderBy('expires_at').limit(n).$asTuple('actor', 'key'),
            ),
          )
          .executeTakeFirst();
        return Number(r.numDeletedRows);
      },
      options,
      () => undefined,
    );
  }
  const result: PurgeResult = done ? { purged, before: cutoff } : { purged, before: cutoff, interrupted: true };
  if (purged > 0) await audit(db, actor, 'purge', { before: cutoff }, result);
  return result;
}

/**
 * The server's periodic job: a second after start-up, then an hour after each run ends, purge
 * what is older than the retention, in the background (see PurgeOptions). Returns a stop function
 * that cancels the next run and ends a running one after its current batch, resolving when it has.
 */
export function startRetention(ctx: AppContext): () => Promise<void> {
  return startPeriodic(
    async (signal) => {
      const r = await purgeRaw(ctx, new Date(Date.now() - ctx.config.retention.rawDays * DAY_MS), 'retention', { background: true, signal });
      if (r.purged > 0) ctx.logger.info(r, 'purged old raw requests');
    },
    { firstMs: RETENTION_FIRST_RUN_MS, intervalMs: RETENTION_INTERVAL_MS, onError: (err) => ctx.logger.error({ err }, 'retention purge failed') },
  );
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Transaction } from 'kysely';
import type { AppContext } from '../context';
import { retryDeadlocks } from '../db/deadlock';
import type { Database } from '../db/types';
import { fixed, insertRows, isPostgres, type Values } from '../db/sql';
import { newId } from '../util/ids';
import { applyFailingChanges, failingChanges } from './auto-disable';
import { claimIn, releaseClaim, releaseClaims, type ClaimedDelivery } from './claim';
import { decideRetry, isSuccess, parseRetryAfter, type AttemptOutcome } from './retry-policy';
import { DestinationRefusedError, refusedDestination, type Lookup } from './destination';
import { expandIn } from './expand';
import { postWebhook } from './post';
import { RateLimiter } from './rate-limit';
import { requestHeaders } from './request-headers';

/** How often the worker looks for due deliveries when nothing woke it. */
export const POLL_INTERVAL_MS = 250;
/** How much of a subscriber's response is kept with the attempt. */
export const RESPONSE_CAPTURE_BYTES = 2048;
/** A claim outlives the request timeout by this much before another worker may take it. */
const LEASE_MARGIN_MS = 30_000;
/**
 * A worker with most of its slots free waits this long after its last step before the next one
 * that a finished attempt or an ingest's wake-up asks for: a step (its transaction, fan-out and
 * claim) costs the ingest thread about the same whether it records one attempt or ten, and at a
 * paced 1,000 callbacks a second with two subscriptions it stepped ~300 times a second, ~15 % of
 * that thread (docs/performance.md, "What holds the paced p99 up"). A worker with half its slots or
 * more sending steps at once: each step refills them, so forwarding at full speed is not slowed.
 */
const STEP_GAP_MS = 10;

export interface Worker {
  start(): void;
  /** Stops claiming; in-flight deliveries finish within `graceMs` or are aborted and released. */
  stop(graceMs: number): Promise<void>;
  /** Look for due deliveries now (after an ingest queued some). */
  poke(): void;
}

const insertAttempts = insertRows('delivery_attempts', [
  'id',
  'delivery_id',
  'attempt',
  'trigger',
  'started_at',
  'duration_ms',
  'status_code',
  'error',
  'response',
  'next_attempt_at',
]);
const finishDelivery = fixed(
  'deliveries',
)`UPDATE deliveries SET state = ${'state'}, attempts = ${'attempts'}, next_attempt_at = ${'next_attempt_at'}, next_trigger = 'scheduled', last_attempt_at = ${'last_attempt_at'}, last_status = ${'last_status'}, last_error = ${'last_error'}, claimed_by = NULL, claimed_until = NULL, updated_at = ${'updated_at'} WHERE id = ${'id'} AND claimed_by = ${'claimed_by'}`;
const disableGone = fixed(
  'subscriptions',
)`UPDATE subscriptions SET enabled = 0, disabled_reason = 'the subscriber answered 410 Gone', updated_at = ${'updated_at'} WHERE id = ${'id'} AND enabled = 1`;

/** What one attempt writes, recorded with others in one transaction. */
interface AttemptRecord {
  attempt: Parameters<typeof insertAttempts.run>[1][number];
  delivery: Parameters<typeof finishDelivery.run>[1];
  gone: Values<'subscriptions', 'updated_at' | 'id'> | null;
  /** For automatic disabling (src/outbox/auto-disable.ts). */
  subscriptionId: string;
  succeeded: boolean;
}

function describeSendError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

/**
 * The outbox worker: makes the delivery rows of new events (src/outbox/expand.ts), claims due
 * deliveries, POSTs each event signed per Standard Webhooks, and records every attempt; the retry
 * policy decides what happens next.
 */
export function createWorker(ctx: AppContext, opts: { leaseMs?: number; resolve?: Lookup } = {}): Worker {
  const { concurrency, maxInFlightPerSubscription, timeoutSeconds, retryScheduleSeconds, disableAfterFailingSeconds } = ctx.config.delivery;
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const timeoutMs = timeoutSeconds * 1000;
  // How long a claim holds: a worker that dies mid-delivery loses it then (tests shorten it).
  const leaseMs = opts.leaseMs ?? timeoutMs + LEASE_MARGIN_MS;
  const log = ctx.logger.child({ component: 'worker', worker: workerId });
  const inFlight = new Map<string, Promise<void>>();
  const perSubscription = new Map<string, number>();
  const rateLimiter = new RateLimiter();
  const shutdown = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let ticking = false;
  let again = false;

  /**
   * Attempts that finished since the last step, recorded by the next one (see {@link step}). Each
   * attempt's promise settles after that commit. (A crash before it loses the record, not the
   * event: the claim's lease ends and the delivery is attempted again.)
   */
  let records: { rec: AttemptRecord; done: () => void; failed: (err: unknown) => void }[] = [];
  function record(rec: AttemptRecord): Promise<void> {
    return new Promise((done, failed) => {
      records.push({ rec, done, failed });
      tickSoon();
    });
  }

  /**
   * Writes attempts' records; answers the subscriptions it disabled (410 Gone, failing too long).
   * Each delivery is updated first, in id order (the order a subscription's deletion locks them on
   * PostgreSQL): the attempt of a delivery deleted meanwhile with its subscription is not recorded
   * (its row would break the attempts' foreign key and fail the whole step); one that is no longer
   * this worker's (its lease ended and another took it) still is.
   */
  async function writeRecords(trx: Transaction<Database>, batch: readonly AttemptRecord[]): Promise<{ id: string; reason: 'gone' | 'failing' }[]> {
    const out: { id: string; reason: 'gone' | 'failing' }[] = [];
    const kept: AttemptRecord[] = [];
    for (const rec of [...batch].sort((a, b) => (a.delivery.id < b.delivery.id ? -1 : 1))) {
      if ((await finishDelivery.changes(trx, rec.delivery)) === 0 && !(await stillThere(trx, rec.delivery.id))) continue;
      kept.push(rec);
      if (rec.gone && (await disableGone.changes(trx, rec.gone)) > 0) out.push({ id: rec.gone.id, reason: 'gone' });
    }
    if (kept.length > 0)
      await insertAttempts.run(
        trx,
        kept.map((rec) => rec.attempt),
      );
    const changes = failingChanges(kept.map((rec) => ({ subscriptionId: rec.subscriptionId, succeeded: rec.succeeded, startedAt: rec.attempt.started_at })));
    for (const id of await applyFailingChanges(trx, changes, new Date(), disableAfterFailingSeconds)) out.push({ id, reason: 'failing' });
    return out;
  }
  async function stillThere(trx: Transaction<Database>, deliveryId: string): Promise<boolean> {
    let q = trx.selectFrom('deliveries').select('id').where('id', '=', deliveryId);
    if (isPostgres(trx)) q = q.forKeyShare(); // held until commit: the attempt's row may refer to it
    return (await q.executeTakeFirst()) !== undefined;
  }

  /** One attempt: sent, its slot freed (`free`), then recorded by the next step. */
  async function attempt(d: ClaimedDelivery, free: () => void): Promise<void> {
    const now = new Date();
    const attemptNo = d.attempts + 1;
    const headers = requestHeaders(d, d.event_id, d.payload, now);
    const outcome: AttemptOutcome = { statusCode: null, timedOut: false, retryAfterSeconds: null };
    let error: string | null = null;
    let response: string | null = null;
    const started = Date.now();
    try {
      // The SSRF guard (the subscriber's DNS may have changed since it subscribed); postWebhook checks
      // the address it actually connects to as well. `opts.resolve`: tests simulate a DNS change.
      const { allowPrivateNetworks } = ctx.config.delivery;
      const refusal = await refusedDestination(d.url, allowPrivateNetworks, { resolve: opts.resolve });
      if (refusal) throw new DestinationRefusedError(refusal);
      // One timer per attempt, cleared when it ends (AbortSignal.timeout would hold each attempt's
      // signal until its timeout passed: thousands at a time under load).
      const abort = new AbortController();
      const timer = setTimeout(() => {
        outcome.timedOut = true;
        abort.abort();
      }, timeoutMs);
      const onShutdown = () => abort.abort();
      shutdown.signal.addEventListener('abort', onShutdown, { once: true });
      try {
        const answer = await postWebhook(d.url, headers, d.payload, abort.signal, RESPONSE_CAPTURE_BYTES, allowPrivateNetworks);
        outcome.statusCode = answer.status;
        outcome.retryAfterSeconds = parseRetryAfter(answer.retryAfter, now);
        response = answer.body;
      } finally {
        clearTimeout(timer);
        shutdown.signal.removeEventListener('abort', onShutdown);
      }
    } catch (err) {
      if (shutdown.signal.aborted) {
        free();
        await releaseClaim(ctx.dbh, d.id, workerId);
        return;
      }
      error =
        err instanceof DestinationRefusedError
          ? `not sent: ${err.message}`
          : outcome.timedOut
            ? `no answer within ${timeoutSeconds} s`
            : describeSendError(err);
    }
    const durationMs = Date.now() - started;
    const decision = decideRetry(retryScheduleSeconds, attemptNo, outcome);
    const finished = new Date();
    const next = decision.kind === 'retry' ? new Date(finished.getTime() + decision.delaySeconds * 1000).toISOString() : null;
    const state = decision.kind === 'succeeded' ? 'succeeded' : decision.kind === 'retry' ? 'pending' : 'dead';
    if (error === null && !isSuccess(outcome.statusCode)) error = `HTTP ${outcome.statusCode}`;

    free();
    await record({
      attempt: {
        id: newId('att'),
        delivery_id: d.id,
        attempt: attemptNo,
        trigger: d.next_trigger,
        started_at: now.toISOString(),
        duration_ms: durationMs,
        status_code: outcome.statusCode,
        error,
        response,
        next_attempt_at: next,
      },
      delivery: {
        state,
        attempts: attemptNo,
        next_attempt_at: next ?? finished.toISOString(),
        last_attempt_at: now.toISOString(),
        last_status: outcome.statusCode,
        last_error: error,
        updated_at: finished.toISOString(),
        id: d.id,
        claimed_by: workerId,
      },
      gone: decision.kind === 'gone' ? { updated_at: finished.toISOString(), id: d.subscription_id } : null,
      subscriptionId: d.subscription_id,
      succeeded: decision.kind === 'succeeded',
    });
    const result = decision.kind === 'succeeded' ? 'success' : decision.kind === 'gone' ? 'gone' : outcome.timedOut ? 'timeout' : 'failure';
    ctx.metrics.deliveryAttempts.inc({ result });
    ctx.metrics.deliverySeconds.observe({ result }, durationMs / 1000);
    if (state === 'dead') ctx.metrics.deadDeliveries.inc({ reason: decision.kind === 'gone' ? 'gone' : 'retries_exhausted' });
    log.debug({ delivery: d.id, attempt: attemptNo, status: outcome.statusCode, result, state, ms: durationMs }, 'delivery attempt');
  }

  /** Deliveries being sent (each holds a slot of `concurrency` and of its subscription's cap). */
  let sending = 0;
  function launch(d: ClaimedDelivery): void {
    sending += 1;
    perSubscription.set(d.subscription_id, (perSubscription.get(d.subscription_id) ?? 0) + 1);
    let held = true;
    const free = () => {
      if (!held) return;
      held = false;
      sending -= 1;
      const left = (perSubscription.get(d.subscription_id) ?? 1) - 1;
      if (left > 0) perSubscription.set(d.subscription_id, left);
      else perSubscription.delete(d.subscription_id);
      if (running) tickSoon();
    };
    const done = attempt(d, free)
      .catch((err: unknown) => log.error({ err, delivery: d.id }, 'delivery attempt failed to record'))
      .finally(() => {
        free();
        inFlight.delete(d.id);
      });
    inFlight.set(d.id, done);
  }

  /**
   * One step of the worker, in one transaction: the records of attempts finished since the last
   * step, the delivery rows of new events (src/outbox/expand.ts), and a claim of due deliveries for
   * the free slots. It goes through the ingest path's transaction (`dbh.transact`), so on SQLite it
   * shares a commit with the callbacks waiting then, in turn with them, and its statements run
   * straight on the connection. (Each refill used to take three transactions — record, fan out,
   * claim — each waiting for SQLite's one connection ahead of callbacks and writing the same hot
   * pages to the WAL again: docs/performance.md.)
   */
  async function step(): Promise<boolean> {
    const batch = records;
    records = [];
    const recs = batch.map((b) => b.rec);
    const free = running ? concurrency - sending : 0;
    // Left out of the claim: subscriptions at their in-flight cap, and those out of their rate limit.
    const busy = [...perSubscription].filter(([, n]) => n >= maxInFlightPerSubscription).map(([id]) => id);
    busy.push(...rateLimiter.exhausted());
    let result;
    try {
      result = await retryDeadlocks(() =>
        ctx.dbh.transact(async (trx) => {
          const disabled = await writeRecords(trx, recs);
          const expanded = running ? await expandIn(trx) : { events: 0, more: false };
          const claimed = free > 0 ? await claimIn(trx, workerId, new Date(), free, busy, leaseMs) : [];
          return { disabled, expanded, claimed };
        }),
      );
    } catch (err) {
      for (const b of batch) b.failed(err);
      throw err;
    }
    for (const b of batch) b.done();
    for (const d of result.disabled) {
      ctx.metrics.subscriptionsDisabled.inc({ reason: d.reason });
      const why = d.reason === 'gone' ? 'the subscriber answered 410 Gone' : `only failed attempts for ${disableAfterFailingSeconds} s or more`;
      log.warn({ subscription: d.id, reason: d.reason }, `subscription disabled: ${why}; PATCH enabled: true resumes it`);
    }
    const giveBack: string[] = [];
    for (const d of result.claimed) {
      if ((perSubscription.get(d.subscription_id) ?? 0) >= maxInFlightPerSubscription) giveBack.push(d.id);
      else if (!rateLimiter.take(d.subscription_id, d.rate_limit_per_second)) giveBack.push(d.id);
      else launch(d);
    }
    await releaseClaims(ctx.dbh, giveBack, workerId);
    // events left to fan out; a full claim may have left more due (one whose every row went back
    // waits for the next poll). Records that came in meanwhile ask for a step of their own.
    return result.expanded.more || (free > 0 && result.claimed.length === free && giveBack.length < result.claimed.length);
  }

  /**
   * Deliveries that finish together free their slots together: one step records and refills them
   * all. With most slots free, no sooner than STEP_GAP_MS after the last step.
   */
  let tickScheduled = false;
  let lastStepAt = -Infinity;
  function tickSoon(): void {
    if (tickScheduled) return;
    tickScheduled = true;
    const go = () => {
      tickScheduled = false;
      void tick();
    };
    const wait = sending * 2 >= concurrency ? 0 : lastStepAt + STEP_GAP_MS - performance.now();
    if (wait > 0) setTimeout(go, wait);
    else setImmediate(go);
  }

  async function tick(): Promise<void> {
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    try {
      do {
        again = false;
        lastStepAt = performance.now();
        if (await step()) again = true;
      } while (again && (running || records.length > 0));
    } catch (err) {
      log.error({ err }, 'could not record, fan out or claim deliveries');
    } finally {
      ticking = false;
    }
    if (records.length > 0) tickSoon();
  }

  return {
    start() {
      if (running) return;
      running = true;
      timer = setInterval(() => void tick(), POLL_INTERVAL_MS);
      void tick();
      log.info({ concurrency, maxInFlightPerSubscription }, 'outbox worker started');
    },
    async stop(graceMs) {
      running = false;
      clearInterval(timer);
      const all = Promise.allSettled([...inFlight.values()]);
      const settled = await Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())]);
      if (!settled) {
        shutdown.abort();
        await all;
      }
      while (ticking) await new Promise((r) => setTimeout(r, 10));
    },
    poke() {
      if (running) tickSoon();
    },
  };
}

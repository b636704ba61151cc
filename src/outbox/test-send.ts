import type { AppContext } from '../context';
import { NotFound } from '../errors';
import { newId } from '../util/ids';
import { DestinationRefusedError, refusedDestination } from './destination';
import { postWebhook } from './post';
import { requestHeaders } from './request-headers';
import { RESPONSE_CAPTURE_BYTES } from './worker';

/** A `webhook.test` event (schemas/test-event.schema.json). */
export interface TestEvent {
  id: string;
  type: 'webhook.test';
  subscription_id: string;
  occurred_at: string;
  [key: string]: unknown;
}

/** What the one attempt of a test send did (the shape of POST /v1/subscriptions/:id/test's `attempt`). */
export interface TestAttempt {
  /** The subscriber's HTTP status; null when no answer came (refused, unreachable, timed out). */
  status_code: number | null;
  duration_ms: number;
  /** The first RESPONSE_CAPTURE_BYTES of the answer's body, as text; null without an answer. */
  response: string | null;
  /** Why it failed (`HTTP 500`, `no answer within 10 s`, `not sent: …`); null for a 2xx. */
  error: string | null;
}

function describeSendError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

/**
 * Sends a signed `webhook.test` event to a subscription's URL now, once, and answers with the
 * attempt (issue #18: the first thing an integrator does). Signed and sent as deliveries are —
 * the same secrets (both during a rotation), custom headers, SSRF guard and timeout — but outside
 * the outbox: nothing is queued or retried, no attempt row is written, and a disabled subscription
 * is sent to as well (test before enabling). The answer is the same whether the subscriber
 * succeeded or not; `attempt` says which. Throws NotFound when there is no such subscription.
 */
export async function sendTestEvent(
  ctx: AppContext,
  id: string,
): Promise<{ event: Record<string, unknown>; attempt: { status_code: number | null; duration_ms: number; response: string | null; error: string | null } }> {
  const sub = await ctx.dbh.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!sub) throw new NotFound('subscription');
  const { allowPrivateNetworks, timeoutSeconds } = ctx.config.delivery;
  const now = new Date();
  const event: TestEvent = { id: newId('evt'), type: 'webhook.test', subscription_id: sub.id, occurred_at: now.toISOString() };
  const body = JSON.stringify(event);
  const attempt: TestAttempt = { status_code: null, duration_ms: 0, response: null, error: null };
  const started = Date.now();
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, timeoutSeconds * 1000);
  try {
    const refusal = await refusedDestination(sub.url, allowPrivateNetworks);
    if (refusal) throw new DestinationRefusedError(refusal);
    const answer = await postWebhook(sub.url, requestHeaders(sub, event.id, body, now), body, abort.signal, RESPONSE_CAPTURE_BYTES, allowPrivateNetworks);
    attempt.status_code = answer.status;
    attempt.response = answer.body;
    if (answer.status < 200 || answer.status > 299) attempt.error = `HTTP ${answer.status}`;
  } catch (err) {
    attempt.error =
      err instanceof DestinationRefusedError ? `not sent: ${err.message}` : timedOut ? `no answer within ${timeoutSeconds} s` : describeSendError(err);
  } finally {
    clearTimeout(timer);
  }
  attempt.duration_ms = Date.now() - started;
  ctx.logger.info(
    { component: 'test-send', subscription: sub.id, event: event.id, status: attempt.status_code, error: attempt.error, ms: attempt.duration_ms },
    'test event sent',
  );
  return { event, attempt };
}

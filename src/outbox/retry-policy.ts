/**
 * When to try a webhook delivery again: a pure function of the attempt's outcome, apart from
 * what is retried (after Svix's calculate_retry_delay). Each number is a named constant.
 */

/** ±20 % randomness so that many deliveries failing together do not retry together. */
export const JITTER_FRACTION = 0.2;
/** A Retry-After shorter than this is read as this. */
export const MIN_RETRY_AFTER_SECONDS = 1;

export interface AttemptOutcome {
  /** HTTP status, or null when no response came (connection refused, timeout). */
  statusCode: number | null;
  timedOut: boolean;
  /** The response's Retry-After in seconds, if it sent one. */
  retryAfterSeconds: number | null;
}

export type RetryDecision =
  | { kind: 'succeeded' }
  /** 410 Gone: the subscriber asks never to be called again; the subscription is disabled. */
  | { kind: 'gone' }
  | { kind: 'retry'; delaySeconds: number }
  | { kind: 'dead' };

export function isSuccess(statusCode: number | null): boolean {
  return statusCode !== null && statusCode >= 200 && statusCode < 300;
}

/**
 * `attemptsMade` counts this attempt too: after the first failure the first step of the schedule
 * applies. 429 and timeouts wait at least the next step (a subscriber under load gets more room);
 * a Retry-After is honoured as a lower bound, capped at the schedule's longest step.
 */
export function decideRetry(schedule: readonly number[], attemptsMade: number, outcome: AttemptOutcome, random: () => number = Math.random): RetryDecision {
  if (isSuccess(outcome.statusCode)) return { kind: 'succeeded' };
  if (outcome.statusCode === 410) return { kind: 'gone' };
  const step = attemptsMade - 1;
  if (step >= schedule.length) return { kind: 'dead' };
  let base = schedule[step];
  if (outcome.statusCode === 429 || outcome.timedOut) base = Math.max(base, schedule[Math.min(step + 1, schedule.length - 1)]);
  let delay = base * (1 + (random() * 2 - 1) * JITTER_FRACTION);
  if (outcome.retryAfterSeconds !== null) {
    const longest = Math.max(...schedule);
    const asked = Math.min(Math.max(outcome.retryAfterSeconds, MIN_RETRY_AFTER_SECONDS), longest);
    delay = Math.max(delay, asked);
  }
  return { kind: 'retry', delaySeconds: delay };
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - now.getTime()) / 1000);
}

import { decideRetry, JITTER_FRACTION, parseRetryAfter } from '../../src/outbox/retry-policy';
import { signPayload } from '../../src/outbox/sign';
import { Webhook } from 'standardwebhooks';

const SCHEDULE = [5, 30, 120, 600];
const fail = (statusCode: number | null, extra: Partial<{ timedOut: boolean; retryAfterSeconds: number | null }> = {}) => ({
  statusCode,
  timedOut: false,
  retryAfterSeconds: null,
  ...extra,
});
const mid = () => 0.5; // no jitter

describe('retry policy', () => {
  it('ends a delivery on any 2xx', () => {
    expect(decideRetry(SCHEDULE, 1, fail(204))).toEqual({ kind: 'succeeded' });
  });

  it('follows the schedule step by step, then gives up', () => {
    expect([1, 2, 3, 4].map((n) => decideRetry(SCHEDULE, n, fail(500), mid))).toEqual(SCHEDULE.map((s) => ({ kind: 'retry', delaySeconds: s })));
    expect(decideRetry(SCHEDULE, 5, fail(500), mid)).toEqual({ kind: 'dead' });
  });

  it('jitters each delay by at most ±20 %', () => {
    expect(decideRetry(SCHEDULE, 2, fail(503), () => 0)).toEqual({ kind: 'retry', delaySeconds: 30 * (1 - JITTER_FRACTION) });
    expect(decideRetry(SCHEDULE, 2, fail(503), () => 1)).toEqual({ kind: 'retry', delaySeconds: 30 * (1 + JITTER_FRACTION) });
  });

  it('waits at least the next step after a 429 or a timeout', () => {
    expect(decideRetry(SCHEDULE, 1, fail(429), mid)).toEqual({ kind: 'retry', delaySeconds: 30 });
    expect(decideRetry(SCHEDULE, 1, fail(null, { timedOut: true }), mid)).toEqual({ kind: 'retry', delaySeconds: 30 });
    expect(decideRetry(SCHEDULE, 4, fail(429), mid)).toEqual({ kind: 'retry', delaySeconds: 600 });
  });

  it('honours Retry-After as a lower bound, within the schedule’s longest step', () => {
    expect(decideRetry(SCHEDULE, 1, fail(503, { retryAfterSeconds: 90 }), mid)).toEqual({ kind: 'retry', delaySeconds: 90 });
    expect(decideRetry(SCHEDULE, 1, fail(503, { retryAfterSeconds: 86400 }), mid)).toEqual({ kind: 'retry', delaySeconds: 600 });
    expect(decideRetry(SCHEDULE, 3, fail(503, { retryAfterSeconds: 1 }), mid)).toEqual({ kind: 'retry', delaySeconds: 120 });
  });

  it('treats 410 Gone as the end of the subscription', () => {
    expect(decideRetry(SCHEDULE, 1, fail(410))).toEqual({ kind: 'gone' });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = new Date('2026-11-24T08:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Tue, 24 Nov 2026 08:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe('Standard Webhooks signature', () => {
  it('is what the official standardwebhooks library verifies', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const ts = Math.floor(Date.now() / 1000);
    const body = '{"id":"evt_1","status":"delivered"}';
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': signPayload(secret, 'evt_1', ts, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual({ id: 'evt_1', status: 'delivered' });
    expect(() => new Webhook('whsec_' + Buffer.from('another key 123456').toString('base64')).verify(body, headers)).toThrow();
  });
});

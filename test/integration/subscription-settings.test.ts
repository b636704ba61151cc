import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { startSubscriber, waitFor, type Subscriber } from '../helpers/subscriber';

/** Per-subscription settings (issue #18): custom headers, a delivery rate limit, automatic disabling after failures. */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

let seq = 0;
function report() {
  seq += 1;
  return JSON.stringify([{ phone_number: '13800138000', biz_id: `settings-${seq}`, report_time: '2024-05-06 10:15:09', success: true }]);
}
async function postReport(app: TestApp) {
  await request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(report()).expect(200);
}

interface SubscriptionView {
  id: string;
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: string | null;
  headers: Record<string, string>;
  rateLimitPerSecond: number | null;
}

function harness(config: () => object) {
  const h = {
    app: undefined as unknown as TestApp,
    subscribers: [] as Subscriber[],
    async subscriber(respond?: Subscriber['respond']) {
      const s = await startSubscriber(respond);
      h.subscribers.push(s);
      return s;
    },
    async subscribe(body: object) {
      return (await request(h.app.url).post('/v1/subscriptions').set(admin).send(body).expect(201)).body as SubscriptionView & { secret: string };
    },
    async get(id: string) {
      return (await request(h.app.url).get(`/v1/subscriptions/${id}`).set(admin).expect(200)).body as SubscriptionView;
    },
    async deliveries(id: string, state = '') {
      return (await request(h.app.url).get(`/v1/subscriptions/${id}/deliveries?state=${state}`).set(admin).expect(200)).body.items as {
        id: string;
        attempts: number;
        state: string;
      }[];
    },
    async metric(name: string) {
      const text = (await request(h.app.url).get('/metrics').expect(200)).text;
      return Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    },
  };
  beforeAll(async () => {
    h.app = await startTestApp(config());
  });
  afterAll(async () => {
    await h.app.close();
    await Promise.all(h.subscribers.map((s) => s.close()));
  });
  return h;
}

describe('custom headers', () => {
  const h = harness(() => seedConfig({}, { delivery: { retryScheduleSeconds: [0.05], timeoutSeconds: 1 } }));

  it('sends them with every delivery (signature intact), shows them on GET, replaces them on PATCH and clears them with null', async () => {
    const sub = await h.subscriber();
    const headers = { Authorization: 'Bearer erp-gateway-token-9', 'X-Tenant': 'acme' };
    const created = await h.subscribe({ url: sub.url, headers });
    expect(created.headers).toEqual(headers);
    expect((await h.get(created.id)).headers).toEqual(headers);
    await postReport(h.app);
    const [got] = await waitFor(() => sub.received.length === 1 && sub.received, 'the delivery');
    expect(got.headers.authorization).toBe('Bearer erp-gateway-token-9');
    expect(got.headers['x-tenant']).toBe('acme');
    expect(got.headers['user-agent']).toBe('dlr-receiver-webhooks/1');
    new Webhook(created.secret).verify(got.body, got.headers as Record<string, string>);

    const patched = (
      await request(h.app.url)
        .patch(`/v1/subscriptions/${created.id}`)
        .set(admin)
        .send({ headers: { 'X-Tenant': 'other' } })
        .expect(200)
    ).body as SubscriptionView;
    expect(patched.headers).toEqual({ 'X-Tenant': 'other' });
    await postReport(h.app);
    await waitFor(() => sub.received.length === 2, 'the second delivery');
    expect(sub.received[1].headers.authorization).toBeUndefined();
    expect(sub.received[1].headers['x-tenant']).toBe('other');

    expect((await request(h.app.url).patch(`/v1/subscriptions/${created.id}`).set(admin).send({ headers: null }).expect(200)).body.headers).toEqual({});
    await postReport(h.app);
    await waitFor(() => sub.received.length === 3, 'the third delivery');
    expect(sub.received[2].headers['x-tenant']).toBeUndefined();
    await request(h.app.url).delete(`/v1/subscriptions/${created.id}`).set(admin).expect(204);
    // the values went out and were shown, but never into a log line
    expect(h.app.logs.filter((l) => l.includes('erp-gateway-token-9'))).toEqual([]);
  });

  it.each([
    [{ 'webhook-signature': 'v1,forged' }, /headers\.webhook-signature: may not be set \(a signing header/],
    [{ 'Webhook-Id': 'x' }, /headers\.Webhook-Id: may not be set/],
    [{ 'webhook-timestamp': '1' }, /headers\.webhook-timestamp/],
    [{ 'Content-Type': 'text/plain' }, /headers\.Content-Type: may not be set/],
    [{ 'content-length': '1' }, /headers\.content-length/],
    [{ Host: 'evil.example' }, /headers\.Host/],
    [{ 'Transfer-Encoding': 'chunked' }, /headers\.Transfer-Encoding/],
    [{ Connection: 'close' }, /headers\.Connection/],
    [{ 'X-A': '1', 'x-a': '2' }, /headers\.x-a: given twice/],
    [{ 'X-Split': 'a\r\nInjected: yes' }, /headers\.X-Split: the value may not hold control characters/],
    [{ 'bad name': 'x' }, /headers/],
    [{ 'X-Big': 'x'.repeat(1025) }, /headers\.X-Big/],
    [Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v'])), /headers/],
    [Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`X-H${i}`, 'v'.repeat(1000)])), /headers: 50\d\d bytes of names and values, over 4096/],
  ])('refuses headers %# with a 400 that names the header', async (headers, detail) => {
    const sub = await h.subscriber();
    const res = await request(h.app.url).post('/v1/subscriptions').set(admin).send({ url: sub.url, headers }).expect(400);
    expect(res.body.detail).toMatch(detail);
    expect(JSON.stringify(res.body)).not.toContain('forged');
  });

  it('refuses them on PATCH too, leaving the subscription as it was', async () => {
    const sub = await h.subscriber();
    const { id } = await h.subscribe({ url: sub.url, headers: { 'X-Ok': '1' } });
    const res = await request(h.app.url)
      .patch(`/v1/subscriptions/${id}`)
      .set(admin)
      .send({ headers: { 'webhook-id': 'x' } })
      .expect(400);
    expect(res.body.detail).toMatch(/headers\.webhook-id/);
    expect((await h.get(id)).headers).toEqual({ 'X-Ok': '1' });
  });
});

describe('rateLimitPerSecond', () => {
  const h = harness(() => seedConfig({}, { delivery: { retryScheduleSeconds: [0.05], timeoutSeconds: 2 } }));

  it.each([[0], [1.5], [-1], ['2'], [10_001]])('refuses %p', async (rateLimitPerSecond) => {
    const res = await request(h.app.url).post('/v1/subscriptions').set(admin).send({ url: 'https://example.com/hook', rateLimitPerSecond }).expect(400);
    expect(res.body.detail).toMatch(/rateLimitPerSecond/);
  });

  it('spaces the deliveries of a limited subscription while an unlimited one gets them at once', async () => {
    const limited = await h.subscriber();
    const free = await h.subscriber();
    const { id } = await h.subscribe({ url: limited.url, rateLimitPerSecond: 2 });
    expect((await h.get(id)).rateLimitPerSecond).toBe(2);
    await h.subscribe({ url: free.url });
    const EVENTS = 8;
    for (let i = 0; i < EVENTS; i += 1) await postReport(h.app);
    await waitFor(() => limited.received.length === EVENTS, 'every limited delivery', 15_000);
    await waitFor(() => free.received.length === EVENTS, 'every free delivery');
    const at = limited.received.map((r) => r.at).sort((a, b) => a - b);
    // a bucket of 2 with 2 a second: 8 deliveries take at least (8 - 2) / 2 = 3 s
    expect(at[EVENTS - 1] - at[0]).toBeGreaterThanOrEqual(2_700);
    // and no second holds more than the burst plus a second's worth
    for (let i = 0; i < EVENTS; i += 1) expect(at.filter((t) => t >= at[i] && t < at[i] + 1000).length).toBeLessThanOrEqual(4);
    // the unlimited subscriber was not held back by the limited one
    const freeAt = free.received.map((r) => r.at).sort((a, b) => a - b);
    expect(freeAt[EVENTS - 1]).toBeLessThan(at[EVENTS - 1]);
  });

  it('takes a new limit on PATCH and drops it with null', async () => {
    const sub = await h.subscriber();
    const { id } = await h.subscribe({ url: sub.url, rateLimitPerSecond: 1 });
    const res = await request(h.app.url).patch(`/v1/subscriptions/${id}`).set(admin).send({ rateLimitPerSecond: null }).expect(200);
    expect(res.body.rateLimitPerSecond).toBeNull();
    await request(h.app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
  });
});

describe('automatic disabling after only failures', () => {
  // one attempt, then the next 1.2–1.8 s later (±20 % jitter), then not for 10 minutes
  const h = harness(() => seedConfig({}, { delivery: { retryScheduleSeconds: [1.5, 600, 600], timeoutSeconds: 1, disableAfterFailingSeconds: 1 } }));

  it('disables a subscription whose attempts failed for disableAfterFailingSeconds, with a reason, a metric and a log line; re-enabling sends its pending delivery at once', async () => {
    let answer = 500;
    const sub = await h.subscriber(() => answer);
    const { id, secret } = await h.subscribe({ url: sub.url });
    await postReport(h.app);
    const disabled = await waitFor(async () => {
      const s = await h.get(id);
      return !s.enabled && s;
    }, 'the subscription to be disabled');
    expect(disabled.disabled_reason).toBe('every delivery attempt failed for 1 s or more (delivery.disableAfterFailingSeconds)');
    expect(disabled.failing_since).toEqual(expect.any(String));
    expect(sub.received).toHaveLength(2);
    expect(await h.metric('dlr_subscriptions_disabled_total{reason="failing"}')).toBe(1);
    expect(h.app.logs.some((l) => l.includes('subscription disabled') && l.includes(id) && l.includes('"reason":"failing"'))).toBe(true);
    // the delivery waits in the outbox (its next attempt 10 minutes away)
    const [pending] = await h.deliveries(id, 'pending');
    expect(pending.attempts).toBe(2);

    answer = 200;
    const enabled = (await request(h.app.url).patch(`/v1/subscriptions/${id}`).set(admin).send({ enabled: true }).expect(200)).body as SubscriptionView;
    expect(enabled).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    await waitFor(async () => (await h.deliveries(id, 'succeeded')).length === 1, 'the pending delivery to go out', 5_000);
    expect(sub.received).toHaveLength(3);
    new Webhook(secret).verify(sub.received[2].body, sub.received[2].headers as Record<string, string>);
    expect((await h.get(id)).failing_since).toBeNull();
  });

  it('keeps a subscription whose failures are followed by a success, and forgets them', async () => {
    const sub = await h.subscriber((n) => (n === 1 ? 500 : 200));
    const { id } = await h.subscribe({ url: sub.url });
    await postReport(h.app);
    await waitFor(async () => (await h.get(id)).failing_since !== null, 'the first failure to be recorded');
    await waitFor(async () => (await h.deliveries(id, 'succeeded')).length === 1, 'the retry to succeed', 5_000);
    expect(await h.get(id)).toMatchObject({ enabled: true, failing_since: null, disabled_reason: null });
  });

  it('counts a 410 Gone in the same metric', async () => {
    const sub = await h.subscriber(() => 410);
    const { id } = await h.subscribe({ url: sub.url });
    await postReport(h.app);
    await waitFor(async () => !(await h.get(id)).enabled, 'the 410 to disable it');
    expect(await h.metric('dlr_subscriptions_disabled_total{reason="gone"}')).toBe(1);
  });
});

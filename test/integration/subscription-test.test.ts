import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { startSubscriber, type Subscriber } from '../helpers/subscriber';

/** POST /v1/subscriptions/:id/test: a signed webhook.test event sent now, answered with the attempt. */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const READER = 'reader-token-0123456789';
const CONFIG = seedConfig({}, { delivery: { timeoutSeconds: 1 }, tokens: [{ token: READER, scopes: ['read'] }] });

interface TestSend {
  event: { id: string; type: string; subscription_id: string; occurred_at: string };
  attempt: { status_code: number | null; duration_ms: number; response: string | null; error: string | null };
}

describe('POST /v1/subscriptions/:id/test', () => {
  let app: TestApp;
  const subscribers: Subscriber[] = [];
  const newSubscriber = async (respond?: Subscriber['respond']) => {
    const s = await startSubscriber(respond);
    subscribers.push(s);
    return s;
  };
  const subscribe = async (body: object) =>
    (await request(app.url).post('/v1/subscriptions').set(admin).send(body).expect(201)).body as { id: string; secret: string };
  const sendTest = async (id: string) => (await request(app.url).post(`/v1/subscriptions/${id}/test`).set(admin).expect(200)).body as TestSend;

  beforeAll(async () => {
    app = await startTestApp(CONFIG);
  });
  afterAll(async () => {
    await app.close();
    await Promise.all(subscribers.map((s) => s.close()));
  });

  it('sends a webhook.test event now, signed so the official library verifies it, and answers with the attempt', async () => {
    const sub = await newSubscriber();
    const { id, secret } = await subscribe({ url: sub.url });
    const { event, attempt } = await sendTest(id);
    expect(event).toEqual({ id: expect.stringMatching(/^evt_/), type: 'webhook.test', subscription_id: id, occurred_at: expect.any(String) });
    expect(attempt).toEqual({ status_code: 200, duration_ms: expect.any(Number), response: 'answer 200', error: null });
    expect(sub.received).toHaveLength(1);
    const got = sub.received[0];
    expect(got.headers['webhook-id']).toBe(event.id);
    expect(got.headers['content-type']).toBe('application/json');
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(event);
    // nothing was queued: the test event is not a delivery
    const deliveries = await request(app.url).get(`/v1/subscriptions/${id}/deliveries`).set(admin).expect(200);
    expect(deliveries.body.items).toEqual([]);
  });

  it('answers 200 with the failure when the subscriber fails, and sends once (no retry)', async () => {
    const sub = await newSubscriber(() => 503);
    const { id } = await subscribe({ url: sub.url });
    const { attempt } = await sendTest(id);
    expect(attempt).toMatchObject({ status_code: 503, response: 'answer 503', error: 'HTTP 503' });
    await new Promise((r) => setTimeout(r, 300));
    expect(sub.received).toHaveLength(1);
  });

  it('says when no answer came within delivery.timeoutSeconds', async () => {
    const sub = await newSubscriber(() => 'hang');
    const { id } = await subscribe({ url: sub.url });
    const { attempt } = await sendTest(id);
    expect(attempt).toMatchObject({ status_code: null, response: null, error: 'no answer within 1 s' });
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(900);
  });

  it('says when nothing listens at the URL', async () => {
    const sub = await newSubscriber();
    await sub.close();
    const { id } = await subscribe({ url: sub.url });
    const { attempt } = await sendTest(id);
    expect(attempt).toMatchObject({ status_code: null, response: null, error: 'ECONNREFUSED' });
  });

  it('keeps only the first 2048 bytes of a long answer', async () => {
    const big = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(100_000)));
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    try {
      const { id } = await subscribe({ url: `http://127.0.0.1:${(big.address() as AddressInfo).port}/hook` });
      const { attempt } = await sendTest(id);
      expect(attempt.status_code).toBe(200);
      expect(attempt.response).toBe('x'.repeat(2048));
    } finally {
      big.closeAllConnections();
      await new Promise((r) => big.close(r));
    }
  });

  it('sends to a disabled subscription too (test before enabling), with its custom headers', async () => {
    const sub = await newSubscriber();
    const { id, secret } = await subscribe({ url: sub.url, enabled: false, headers: { Authorization: 'Bearer gateway-key-42' } });
    const { event, attempt } = await sendTest(id);
    expect(attempt.status_code).toBe(200);
    expect(sub.received[0].headers.authorization).toBe('Bearer gateway-key-42');
    expect(new Webhook(secret).verify(sub.received[0].body, sub.received[0].headers as Record<string, string>)).toEqual(event);
    expect((await request(app.url).get(`/v1/subscriptions/${id}`).set(admin).expect(200)).body.enabled).toBe(false);
  });

  it('signs with both secrets during a rotation', async () => {
    const sub = await newSubscriber();
    const { id, secret: old } = await subscribe({ url: sub.url });
    const rotated = (await request(app.url).post(`/v1/subscriptions/${id}/rotate-secret`).set(admin).expect(200)).body as { secret: string };
    const { event } = await sendTest(id);
    const got = sub.received[0];
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [old, rotated.secret]) expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(event);
  });

  it('answers 404 for an unknown subscription, 401 without a token and 403 without the admin scope', async () => {
    const res = await request(app.url).post('/v1/subscriptions/sub_nope/test').set(admin).expect(404);
    expect(res.body).toMatchObject({ error: 'not_found' });
    await request(app.url).post('/v1/subscriptions/sub_nope/test').expect(401);
    await request(app.url).post('/v1/subscriptions/sub_nope/test').set('authorization', `Bearer ${READER}`).expect(403);
  });

  it('logs the send without the custom header values', async () => {
    const sub = await newSubscriber();
    const { id } = await subscribe({ url: sub.url, headers: { 'X-Api-Key': 'very-secret-header-value-77' } });
    await sendTest(id);
    expect(app.logs.some((l) => l.includes('test event sent') && l.includes(id))).toBe(true);
    expect(app.logs.filter((l) => l.includes('very-secret-header-value-77'))).toEqual([]);
  });
});

describe('POST /v1/subscriptions/:id/test with private networks refused', () => {
  it('does not send to a loopback subscriber and says why', async () => {
    const sub = await startSubscriber();
    // subscribed while private networks were allowed, tested after the setting was turned off
    const first = await startTestApp(CONFIG);
    const dir = first.dir;
    let app: TestApp | undefined;
    try {
      const { id } = (await request(first.url).post('/v1/subscriptions').set(admin).send({ url: sub.url }).expect(201)).body as { id: string };
      await first.running.close();
      app = await startTestApp(seedConfig({}, { delivery: { allowPrivateNetworks: false } }), {}, { dir });
      const { attempt } = (await request(app.url).post(`/v1/subscriptions/${id}/test`).set(admin).expect(200)).body as TestSend;
      expect(attempt).toMatchObject({ status_code: null, response: null });
      expect(attempt.error).toMatch(/^not sent: .*127\.0\.0\.1.*allowPrivateNetworks/);
      expect(sub.received).toEqual([]);
    } finally {
      await app?.close();
      await first.close();
      await sub.close();
    }
  });
});

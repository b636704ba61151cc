import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { startSubscriber, waitFor, type Subscriber } from '../helpers/subscriber';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const READ_TOKEN = 'read-only-token-0123456789';
/** Short schedule and timeout so tests never wait the default schedule. */
const FAST = { delivery: { retryScheduleSeconds: [0.05, 0.1, 0.1], timeoutSeconds: 1 }, tokens: [{ token: READ_TOKEN, scopes: ['read'] }] };

let seq = 0;
function report(over: Record<string, unknown> = {}) {
  seq += 1;
  return JSON.stringify([{ phone_number: '13800138000', biz_id: `biz-${seq}`, report_time: '2024-05-06 10:15:09', success: true, ...over }]);
}

async function postReport(app: TestApp, body = report()) {
  await request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(body).expect(200);
}

async function subscribe(app: TestApp, sub: Subscriber, filter: object = {}) {
  const res = await request(app.url).post('/v1/subscriptions').set(admin).send({ url: sub.url, filter }).expect(201);
  return res.body as { id: string; secret: string };
}

async function deliveries(app: TestApp, subId: string, state = '') {
  const res = await request(app.url).get(`/v1/subscriptions/${subId}/deliveries?state=${state}`).set(admin).expect(200);
  return res.body.items as { id: string; state: string; attempts: number }[];
}

describe('subscriptions API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, FAST), { DLR_WORKER: 'off' });
  });
  afterAll(() => app.close());

  it('creates (secret shown once), lists, reads, patches and deletes', async () => {
    const created = await request(app.url)
      .post('/v1/subscriptions')
      .set(admin)
      .send({ url: 'https://erp.example.com/hooks/sms', filter: { statuses: ['failed'] }, description: 'ERP' })
      .expect(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^sub_/),
      secret: expect.stringMatching(/^whsec_/),
      enabled: true,
      filter: { statuses: ['failed'] },
    });
    const id = created.body.id as string;
    const got = await request(app.url).get(`/v1/subscriptions/${id}`).set(admin).expect(200);
    expect(got.body.secret).toBeUndefined();
    expect((await request(app.url).get('/v1/subscriptions').set(admin).expect(200)).body.items.map((s: { id: string }) => s.id)).toContain(id);
    const patched = await request(app.url).patch(`/v1/subscriptions/${id}`).set(admin).send({ enabled: false, filter: {} }).expect(200);
    expect(patched.body).toMatchObject({ enabled: false, disabled_reason: 'disabled by request', filter: {} });
    await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
    await request(app.url).get(`/v1/subscriptions/${id}`).set(admin).expect(404);
  });

  it.each([
    [{ url: 'ftp://example.com/x' }, /url/],
    [{ url: 'http://user:pw@example.com/x' }, /without credentials/],
    [{}, /url: is required/],
    [{ url: 'https://example.com', filter: { statuses: ['lost'] } }, /filter\.statuses\.0/],
    [{ url: 'https://example.com', colour: 'red' }, /colour: is not a known setting/],
  ])('refuses an invalid subscription (%#)', async (body, detail) => {
    const res = await request(app.url).post('/v1/subscriptions').set(admin).send(body).expect(400);
    expect(res.body.detail).toMatch(detail);
  });

  it('needs the admin scope', async () => {
    await request(app.url).get('/v1/subscriptions').expect(401);
    await request(app.url).get('/v1/subscriptions').set('authorization', `Bearer ${READ_TOKEN}`).expect(403);
    await request(app.url).post('/v1/deliveries/dlv_x/retry').set('authorization', `Bearer ${READ_TOKEN}`).expect(403);
    await request(app.url).post('/v1/messages').set('authorization', `Bearer ${READ_TOKEN}`).send({}).expect(403);
  });
});

describe('webhook delivery to real loopback subscribers', () => {
  let app: TestApp;
  const subscribers: Subscriber[] = [];
  const newSubscriber = async (respond?: Subscriber['respond']) => {
    const s = await startSubscriber(respond);
    subscribers.push(s);
    return s;
  };
  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, FAST));
  });
  afterAll(async () => {
    await app.close();
    await Promise.all(subscribers.map((s) => s.close()));
  });

  it('POSTs the event signed per Standard Webhooks, verified by the official library', async () => {
    const sub = await newSubscriber();
    const { id, secret } = await subscribe(app, sub);
    await postReport(app);
    const [got] = await waitFor(() => sub.received.length === 1 && sub.received, 'the delivery');
    expect(got.headers['content-type']).toBe('application/json');
    const event = new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as { id: string; status: string };
    expect(got.headers['webhook-id']).toBe(event.id);
    const raw = await request(app.url).get(`/v1/raw?limit=1`).set(admin).expect(200);
    const stored = await request(app.url).get(`/v1/raw/${raw.body.items[0].id}`).set(admin).expect(200);
    expect(event).toEqual(stored.body.events[0]);
    await waitFor(async () => (await deliveries(app, id, 'succeeded')).length === 1, 'the delivery to be recorded');
    await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
  });

  it('retries a failing subscriber with the same webhook-id until it succeeds, recording every attempt', async () => {
    const sub = await newSubscriber((n) => (n <= 2 ? 500 : 200));
    const { id } = await subscribe(app, sub);
    await postReport(app);
    await waitFor(async () => (await deliveries(app, id, 'succeeded')).length === 1, 'success after retries');
    expect(sub.received).toHaveLength(3);
    expect(new Set(sub.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const [d] = await deliveries(app, id);
    const detail = await request(app.url).get(`/v1/deliveries/${d.id}`).set(admin).expect(200);
    expect(detail.body.attempt_log.map((a: { attempt: number; status_code: number; trigger: string }) => [a.attempt, a.status_code, a.trigger])).toEqual([
      [1, 500, 'scheduled'],
      [2, 500, 'scheduled'],
      [3, 200, 'scheduled'],
    ]);
    expect(detail.body.attempt_log[0].response).toBe('answer 500');
    await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
  });

  it('ends dead after the schedule, and a manual retry re-sends it', async () => {
    let healthy = false;
    const sub = await newSubscriber(() => (healthy ? 200 : 503));
    const { id } = await subscribe(app, sub);
    await postReport(app);
    const [dead] = await waitFor(async () => {
      const list = await deliveries(app, id, 'dead');
      return list.length === 1 && list;
    }, 'the delivery to die');
    expect(dead.attempts).toBe(4);
    healthy = true;
    await request(app.url).post(`/v1/deliveries/${dead.id}/retry`).set(admin).expect(200);
    await waitFor(async () => (await deliveries(app, id, 'succeeded')).length === 1, 'the manual retry');
    expect(sub.received).toHaveLength(5);
    const detail = await request(app.url).get(`/v1/deliveries/${dead.id}`).set(admin).expect(200);
    expect(detail.body.attempt_log.at(-1)).toMatchObject({ attempt: 5, trigger: 'manual', status_code: 200 });

    healthy = false;
    await postReport(app);
    await postReport(app);
    await waitFor(async () => (await deliveries(app, id, 'dead')).length === 2, 'two more dead deliveries');
    healthy = true;
    const bulk = await request(app.url).post(`/v1/subscriptions/${id}/retry-dead`).set(admin).expect(200);
    expect(bulk.body).toEqual({ requeued: 2 });
    await waitFor(async () => (await deliveries(app, id, 'succeeded')).length === 3, 'the bulk retry');
    await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
  });

  it('sends each subscriber only what its filter lets through', async () => {
    const failures = await newSubscriber();
    const email = await newSubscriber();
    const everything = await newSubscriber();
    const subs = [
      await subscribe(app, failures, { statuses: ['failed'], providers: ['aliyun'] }),
      await subscribe(app, email, { channels: ['email'] }),
      await subscribe(app, everything),
    ];
    await postReport(app, report({ success: false, err_code: 'UNDELIV' }));
    await postReport(app);
    await waitFor(() => everything.received.length === 2, 'both events to the catch-all');
    await waitFor(() => failures.received.length === 1, 'the failure');
    expect(JSON.parse(failures.received[0].body)).toMatchObject({ status: 'failed', error: { code: 'UNDELIV' } });
    expect(email.received).toHaveLength(0);
    for (const s of subs) await request(app.url).delete(`/v1/subscriptions/${s.id}`).set(admin).expect(204);
  });

  it('signs with both secrets during a rotation', async () => {
    const sub = await newSubscriber();
    const { id, secret: oldSecret } = await subscribe(app, sub);
    const rotated = await request(app.url).post(`/v1/subscriptions/${id}/rotate-secret`).set(admin).expect(200);
    expect(rotated.body.secret).not.toBe(oldSecret);
    expect(rotated.body.rotating_until).toEqual(expect.any(String));
    await postReport(app);
    const [got] = await waitFor(() => sub.received.length === 1 && sub.received, 'the delivery');
    expect((got.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    for (const s of [oldSecret, rotated.body.secret as string])
      expect(() => new Webhook(s).verify(got.body, got.headers as Record<string, string>)).not.toThrow();
    await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
  });

  it('disables a subscription whose subscriber answers 410 Gone', async () => {
    const sub = await newSubscriber(() => 410);
    const { id } = await subscribe(app, sub);
    await postReport(app);
    const s = await waitFor(async () => {
      const res = await request(app.url).get(`/v1/subscriptions/${id}`).set(admin).expect(200);
      const body = res.body as { enabled: boolean; disabled_reason: string | null };
      return !body.enabled && body;
    }, 'the subscription to be disabled');
    expect(s.disabled_reason).toMatch(/410/);
    expect(sub.received).toHaveLength(1);
    await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
  });

  it('keeps delivering to others while one subscriber hangs', async () => {
    const slow = await newSubscriber(() => 'hang');
    const fast = await newSubscriber();
    const subs = [await subscribe(app, slow), await subscribe(app, fast)];
    for (let i = 0; i < 6; i++) await postReport(app);
    await waitFor(() => fast.received.length === 6, 'every event at the fast subscriber');
    // the hanging subscriber has its per-subscription cap of requests open and none answered yet
    expect(slow.received.length).toBeGreaterThan(0);
    expect(slow.received.length).toBeLessThanOrEqual(4);
    for (const s of subs) await request(app.url).delete(`/v1/subscriptions/${s.id}`).set(admin).expect(204);
  });

  it('records the attempts finished beside one whose subscription was deleted while it was in flight', async () => {
    const doomed = await newSubscriber(() => 'hang');
    const kept = await newSubscriber(() => 'hang');
    const [gone, stays] = [await subscribe(app, doomed), await subscribe(app, kept)];
    await postReport(app);
    await waitFor(() => doomed.received.length === 1 && kept.received.length === 1, 'both attempts in flight');
    await request(app.url).delete(`/v1/subscriptions/${gone.id}`).set(admin).expect(204);
    // both answer at once: their records meet in one step of the worker; the deleted delivery's
    // attempt has no row to belong to, and must not take the other's record down with it
    doomed.release(200);
    kept.release(200);
    const [done] = await waitFor(async () => {
      const items = await deliveries(app, stays.id, 'succeeded');
      return items.length === 1 && items;
    }, 'the other subscription’s delivery recorded');
    expect(done.attempts).toBe(1);
    expect(kept.received).toHaveLength(1);
    await request(app.url).delete(`/v1/subscriptions/${stays.id}`).set(admin).expect(204);
  });

  it('carries a send registration’s reference and metadata, registered before or after the reports', async () => {
    const sub = await newSubscriber();
    const { id } = await subscribe(app, sub);
    await request(app.url)
      .post('/v1/messages')
      .set(admin)
      .send({ provider: 'aliyun', message_id: 'reg-1', reference: 'order-42', metadata: { shop: 'north' } })
      .expect(201);
    await postReport(app, report({ biz_id: 'reg-1', success: false, err_code: 'X', report_time: '2024-05-06 10:00:00' }));
    await postReport(app, report({ biz_id: 'reg-2', success: false, err_code: 'X' }));
    await request(app.url)
      .post('/v1/messages')
      .set(admin)
      .send({ provider: 'aliyun', message_id: 'reg-2', recipient: '13800138000', reference: 'order-43' })
      .expect(201);
    await postReport(app, report({ biz_id: 'reg-2' }));
    await waitFor(() => sub.received.length === 3, 'three events');
    const events = sub.received.map((r) => JSON.parse(r.body) as { message_id: string; reference?: string; metadata?: object });
    expect(events.map((e) => [e.message_id, e.reference ?? null, e.metadata ?? null])).toEqual([
      ['reg-1', 'order-42', { shop: 'north' }],
      ['reg-2', null, null],
      ['reg-2', 'order-43', null],
    ]);
    const msg = await request(app.url).get('/v1/messages/aliyun/reg-1').set(admin).expect(200);
    expect(msg.body.message).toMatchObject({ reference: 'order-42', metadata: { shop: 'north' } });
    await request(app.url).post('/v1/messages').set(admin).send({ provider: 'aliyun' }).expect(400);
    await request(app.url).delete(`/v1/subscriptions/${id}`).set(admin).expect(204);
  });

  it('exposes the backlog and attempt results as metrics', async () => {
    const metrics = await request(app.url).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/dlr_delivery_attempts_total\{result="success"\} \d+/);
    expect(metrics.text).toMatch(/dlr_delivery_attempts_total\{result="failure"\} \d+/);
    expect(metrics.text).toMatch(/dlr_outbox_backlog \d+/);
  });
});

describe('a restarted process', () => {
  it('resumes the deliveries that were pending when it stopped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-restart-'));
    const sub = await startSubscriber();
    const first = await startTestApp(seedConfig({}, FAST), { DLR_WORKER: 'off' }, { dir });
    await subscribe(first, sub);
    for (let i = 0; i < 3; i++) await postReport(first);
    await first.close();
    expect(sub.received).toHaveLength(0);

    const second = await startTestApp(seedConfig({}, FAST), {}, { dir });
    await waitFor(() => sub.received.length === 3, 'the pending deliveries after restart');
    expect(new Set(sub.received.map((r) => r.headers['webhook-id'])).size).toBe(3);
    await second.close();
    await sub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

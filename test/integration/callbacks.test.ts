import request from 'supertest';
import { UNSIGNED_PROVIDERS } from '../../src/config/config';
import { loadFixtures, fixture } from '../helpers/fixtures';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { expandFanout } from '../../src/outbox/expand';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

function post(app: TestApp, provider: string, body: Buffer | string, contentType = 'application/json', path = '') {
  // serialize as-is: superagent would JSON-encode a Buffer sent with a JSON content type
  return request(app.url)
    .post(`/v1/callbacks/${provider}${path}`)
    .set('content-type', contentType)
    .serialize((b: unknown) => b as string)
    .send(Buffer.isBuffer(body) ? body : Buffer.from(body));
}

async function rawLog(app: TestApp, query = '') {
  const res = await request(app.url).get(`/v1/raw?limit=500${query}`).set(auth).expect(200);
  return res.body.items as { id: string; provider: string; account: string; verdict: string; detail: string | null; body_size: number; url: string }[];
}

const aliyunReport = (over: Record<string, unknown> = {}) =>
  JSON.stringify([{ phone_number: '13800138000', biz_id: 'biz-1', report_time: '2024-05-06 10:15:09', success: true, err_code: 'DELIVERED', ...over }]);

describe('callbacks over HTTP, on a real SQLite file', () => {
  let app: TestApp;
  beforeAll(async () => {
    // no worker: the outbox rows written by ingest stay as they were committed
    app = await startTestApp(seedConfig(), { DLR_WORKER: 'off' });
  });
  afterAll(() => app.close());

  // signed providers' fixtures are posted, signed, by signed-providers.test.ts
  describe.each(loadFixtures().filter((f) => UNSIGNED_PROVIDERS.includes(f.provider as never)))('fixture $provider/$name', (fx) => {
    it('is acknowledged, stored and normalized into the expected events', async () => {
      const res = await post(app, fx.provider, fx.body, fx.contentType).expect(fx.ack.status);
      expect(typeof fx.ack.body === 'string' ? res.text : res.body).toEqual(fx.ack.body);

      const [raw] = await rawLog(app, `&provider=${fx.provider}`);
      expect(raw.verdict).toBe('accepted');
      const stored = await request(app.url).get(`/v1/raw/${raw.id}`).set(auth).expect(200);
      expect(stored.body.body_size).toBe(fx.body.length);
      expect(stored.body.events).toHaveLength(fx.events.length);
      fx.events.forEach((expected, i) => {
        expect(stored.body.events[i]).toMatchObject({ ...expected, provider: fx.provider, account: 'default', channel: 'sms', raw_id: raw.id });
      });

      for (const e of fx.events) {
        const msg = await request(app.url)
          .get(`/v1/messages/${fx.provider}/${encodeURIComponent(e.message_id)}`)
          .query({ recipient: e.recipient })
          .set(auth)
          .expect(200);
        expect(msg.body.message).toMatchObject({ status: e.status, version: 1, error: e.error, occurred_at: e.occurred_at });
        expect(msg.body.history).toEqual([expect.objectContaining({ raw_id: raw.id, changed: true, reason: null })]);
      }
    });
  });

  it('answers a duplicate with the ack and records it as a duplicate that changed nothing', async () => {
    const fx = fixture('tencent', 'status-array');
    await post(app, 'tencent', fx.body, fx.contentType).expect(200, { result: 0, errmsg: 'OK' });
    const [raw] = await rawLog(app, '&provider=tencent');
    expect(raw.verdict).toBe('duplicate');
    const msg = await request(app.url)
      .get(`/v1/messages/tencent/${encodeURIComponent(fx.events[0].message_id)}`)
      .set(auth)
      .expect(200);
    expect(msg.body.message.version).toBe(1);
    expect(msg.body.history.map((h: { changed: boolean; reason: string | null }) => [h.changed, h.reason])).toEqual([
      [true, null],
      [false, 'duplicate'],
    ]);
  });

  it('makes one change of 30 identical reports posted concurrently', async () => {
    const body = aliyunReport({ biz_id: 'concurrent-1' });
    const results = await Promise.all(Array.from({ length: 30 }, () => post(app, 'aliyun', body)));
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    const msg = await request(app.url).get('/v1/messages/aliyun/concurrent-1').set(auth).expect(200);
    expect(msg.body.message.version).toBe(1);
    expect(msg.body.history).toHaveLength(30);
    expect(msg.body.history.filter((h: { changed: boolean }) => h.changed)).toHaveLength(1);
    expect(msg.body.history.filter((h: { reason: string }) => h.reason === 'duplicate')).toHaveLength(29);
  });

  it('lets a later delivered override a failure, bumps the version and keeps every report', async () => {
    await post(app, 'aliyun', aliyunReport({ biz_id: 'retry-1', success: false, err_code: 'MK:0001', report_time: '2024-05-06 10:00:00' })).expect(200);
    await post(app, 'aliyun', aliyunReport({ biz_id: 'retry-1', report_time: '2024-05-06 10:05:00' })).expect(200);
    await post(app, 'aliyun', aliyunReport({ biz_id: 'retry-1', success: false, err_code: 'UNDELIV', report_time: '2024-05-06 10:09:00' })).expect(200);
    const msg = await request(app.url).get('/v1/messages/aliyun/retry-1').set(auth).expect(200);
    expect(msg.body.message).toMatchObject({ status: 'delivered', version: 2, error: null });
    expect(msg.body.history.map((h: { status: string; changed: boolean; reason: string | null }) => [h.status, h.changed, h.reason])).toEqual([
      ['failed', true, null],
      ['delivered', true, null],
      ['failed', false, 'lower_rank'],
    ]);
    const raw = await request(app.url).get(`/v1/raw/${msg.body.history[1].raw_id}`).set(auth).expect(200);
    expect(raw.body.events[0]).toMatchObject({ status: 'delivered', previous_status: 'failed', version: 2, terminal: true });
  });

  it('ends in the same state whatever order one set of reports arrives in', async () => {
    const reports = [
      { success: false, err_code: 'UNDELIV', report_time: '2024-05-06 10:03:00' },
      { success: false, err_code: 'EXPIRED', report_time: '2024-05-06 10:01:00' },
      { success: false, err_code: 'MK:0001', report_time: '2024-05-06 10:02:00' },
    ];
    const orders = [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0, 2],
    ];
    const finals = [];
    for (const [n, order] of orders.entries()) {
      for (const i of order) await post(app, 'aliyun', aliyunReport({ biz_id: `order-${n}`, ...reports[i] })).expect(200);
      const msg = await request(app.url).get(`/v1/messages/aliyun/order-${n}`).set(auth).expect(200);
      finals.push({ status: msg.body.message.status, error: msg.body.message.error, occurred_at: msg.body.message.occurred_at });
    }
    expect(finals[0]).toEqual({ status: 'failed', error: { code: 'EXPIRED', message: null }, occurred_at: '2024-05-06T02:01:00.000Z' });
    expect(finals[1]).toEqual(finals[0]);
    expect(finals[2]).toEqual(finals[0]);
  });

  it('stores the event with the subscriptions that take it in the same transaction; the worker then makes one delivery each', async () => {
    const db = app.running.ctx.dbh.db;
    const now = new Date().toISOString();
    const sub = (id: string, filter: object) => ({
      id,
      url: 'http://127.0.0.1:9/hook',
      secret: 'whsec_x',
      filter: JSON.stringify(filter),
      enabled: 1,
      disabled_reason: null,
      created_at: now,
      updated_at: now,
      description: null,
      previous_secret: null,
      previous_secret_until: null,
    });
    await db
      .insertInto('subscriptions')
      .values([sub('sub_all', {}), sub('sub_failed', { statuses: ['failed'] }), sub('sub_email', { channels: ['email'] })])
      .execute();
    await post(app, 'aliyun', aliyunReport({ biz_id: 'outbox-1' })).expect(200);
    // committed with the 2xx: the event and who takes it (one row whatever their number)
    const event = await db.selectFrom('events').select(['fanout']).where('payload', 'like', '%outbox-1%').executeTakeFirstOrThrow();
    expect(event.fanout).toBe('sub_all');
    await expandFanout(app.running.ctx.dbh); // what the worker does first (this app runs none)
    expect((await db.selectFrom('events').select(['fanout']).where('payload', 'like', '%outbox-1%').executeTakeFirstOrThrow()).fanout).toBeNull();
    const rows = await db
      .selectFrom('deliveries')
      .innerJoin('events', 'events.id', 'deliveries.event_id')
      .select(['deliveries.subscription_id', 'deliveries.state', 'events.payload'])
      .where('events.payload', 'like', '%outbox-1%')
      .execute();
    expect(rows.map((r) => [r.subscription_id, r.state])).toEqual([['sub_all', 'pending']]);
    for (const id of ['sub_all', 'sub_failed', 'sub_email']) await request(app.url).delete(`/v1/subscriptions/${id}`).set(auth).expect(204);
  });

  describe('refusals: a JSON error, and the request still in the raw log with its verdict', () => {
    it('answers 400 payload_invalid for a body the provider cannot have sent', async () => {
      const res = await post(app, 'aliyun', '[{"phone_number":').expect(400);
      expect(res.body).toEqual({ error: 'payload_invalid', detail: expect.stringMatching(/not valid JSON/) });
      const [raw] = await rawLog(app, '&verdict=payload_invalid');
      expect(raw.detail).toMatch(/not valid JSON/);
    });

    it('answers 413 for a body over 1 MiB and logs it as too_large', async () => {
      const res = await post(app, 'aliyun', Buffer.alloc(1024 * 1024 + 1, 0x20)).expect(413);
      expect(res.body).toEqual({ error: 'payload_too_large', detail: 'the body is over the limit of 1048576 bytes; send a smaller one' });
      const [raw] = await rawLog(app, '&verdict=too_large');
      expect(raw.body_size).toBe(0);
    });

    it('answers 404 unknown_provider for an unknown provider or account, and logs it for a replay once configured', async () => {
      await post(app, 'nosuch', '[]').expect(404, { error: 'unknown_provider', detail: 'no provider "nosuch" with account "default" is configured' });
      await post(app, 'aliyun', '[]', 'application/json', '/other').expect(404);
      await post(app, '..%2F..%2Fetc', '[]').expect(404);
      const logged = await rawLog(app, '&verdict=unknown_provider');
      expect(logged.slice(0, 3).map((r) => [r.provider, r.account])).toEqual([
        ['../../etc', 'default'],
        ['aliyun', 'other'],
        ['nosuch', 'default'],
      ]);
    });

    it('accepts an empty batch', async () => {
      await post(app, 'aliyun', '[]').expect(200, { code: 0, msg: '接收成功' });
    });
  });
});

describe('account protections of unsigned providers', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      providers: {
        aliyun: { accounts: { default: { token: 'url-token-123' } } },
        tencent: { accounts: { default: { allowIps: ['203.0.113.0/24'] } } },
        ronglian: { accounts: { default: { allowIps: ['127.0.0.1'] } } },
      },
      server: { trustProxy: ['loopback'] },
    });
  });
  afterAll(() => app.close());

  it('refuses a callback without the account’s ?token= (401) and logs it', async () => {
    const res = await post(app, 'aliyun', aliyunReport()).expect(401);
    expect(res.body).toEqual({ error: 'signature_invalid', detail: 'this account requires ?token= in the callback URL' });
    await post(app, 'aliyun', aliyunReport(), 'application/json', '?token=wrong-token').expect(401, {
      error: 'signature_invalid',
      detail: 'the ?token= of the callback URL does not match',
    });
    const raws = await rawLog(app, '&verdict=signature_invalid');
    expect(raws).toHaveLength(2);
    expect(raws[0].url).toBe('/v1/callbacks/aliyun?token=[redacted]');
  });

  it('accepts the callback with the right token', async () => {
    await post(app, 'aliyun', aliyunReport(), 'application/json', '?token=url-token-123').expect(200);
  });

  it('checks allowIps against the client address behind a trusted proxy', async () => {
    const body = fixture('tencent', 'status-array').body;
    await post(app, 'tencent', body).expect(401);
    await post(app, 'tencent', body).set('x-forwarded-for', '198.51.100.7').expect(401);
    await post(app, 'tencent', body).set('x-forwarded-for', '203.0.113.99').expect(200);
    await post(app, 'ronglian', fixture('ronglian', 'smsarrived').body).expect(200);
  });
});

describe('a database failure', () => {
  it('answers 503 so that the provider retries', async () => {
    // No worker: one caught mid-transaction by the destroyed pool would never finish on PostgreSQL.
    const app = await startTestApp(seedConfig(), { DLR_WORKER: 'off' });
    await app.running.ctx.dbh.db.destroy();
    const res = await post(app, 'aliyun', aliyunReport()).expect(503);
    expect(res.body.error).toBe('unavailable');
    await app.close();
  });
});

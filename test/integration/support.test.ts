import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { testDialect } from '../helpers/db';
import { recipientForms } from '../../src/status/search';

const READ_TOKEN = 'support-read-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const reader = { authorization: `Bearer ${READ_TOKEN}` };

/** An Aliyun report as the provider posts it (fixtures/aliyun/ has the captured shape). */
const aliyun = (bizId: string, phone: string, success: boolean, err = 'DELIVRD') =>
  JSON.stringify([
    {
      phone_number: phone,
      send_time: '2026-11-26 10:15:02',
      report_time: '2026-11-26 10:15:09',
      success,
      err_code: err,
      err_msg: success ? '用户接收成功' : '失败',
      biz_id: bizId,
      out_id: 'x',
    },
  ]);

/** A mail gateway described by configuration (unsigned, JSON): e-mail recipients as the gateway writes them. */
const MAIL_GATEWAY = {
  kind: 'generic',
  channel: 'email',
  format: { type: 'json' },
  mapping: { messageId: 'id', recipient: 'to', status: 'event', occurredAt: 'at' },
  time: { format: 'iso' },
  statuses: { map: { delivered: 'delivered', bounced: 'failed' } },
  accounts: { default: {} },
};

describe(`support routes: who am I, search, an event's deliveries, the outbox, health over time (${testDialect})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    const config = seedConfig({}, { tokens: [{ name: 'support', token: READ_TOKEN, scopes: ['read'] }] }) as { providers: Record<string, unknown> };
    config.providers.mailgw = MAIL_GATEWAY;
    app = await startTestApp(config);
  });
  afterAll(() => app.close());
  const post = (path: string, body: string) => request(app.url).post(path).set('content-type', 'application/json').send(body);

  it('tells a token its name and scopes; a wrong one is 401', async () => {
    expect((await request(app.url).get('/v1/whoami').set(reader).expect(200)).body).toEqual({ name: 'support', scopes: ['read'] });
    expect((await request(app.url).get('/v1/whoami').set(admin).expect(200)).body.scopes).toEqual(['read', 'replay', 'admin']);
    await request(app.url).get('/v1/whoami').set({ authorization: 'Bearer nope-nope-nope' }).expect(401);
    await request(app.url).get('/v1/whoami').expect(401);
  });

  it('reads a number in every common form', () => {
    for (const term of ['+8613800138000', '8613800138000', '13800138000', '008613800138000', '+86 138 0013 8000']) {
      expect(recipientForms(term)).toEqual(expect.arrayContaining(['+8613800138000', '8613800138000', '13800138000']));
    }
    expect(recipientForms('+44 7700 900123')).toEqual(expect.arrayContaining(['+447700900123', '447700900123', '07700900123']));
    expect(recipientForms('Alice@Example.com')).toEqual(['Alice@Example.com', 'alice@example.com']);
    expect(recipientForms('order-42')).toEqual(['order-42']);
    // punctuation is not a number: no empty form (which would match every message without a recipient)
    expect(recipientForms('------')).toEqual(['------']);
  });

  it('finds messages by id, by recipient in any form, by e-mail address and by reference; a registration without reports too', async () => {
    await post('/v1/callbacks/aliyun', aliyun('search-1^0', '13800138000', true)).expect(200);
    await post('/v1/callbacks/aliyun', aliyun('search-2^0', '+8613800138000', false, 'MK:0001')).expect(200);
    await request(app.url)
      .post('/v1/messages')
      .set(admin)
      .send({ provider: 'aliyun', message_id: 'search-1^0', recipient: '13800138000', reference: 'order-42' })
      .expect(201);
    await request(app.url)
      .post('/v1/messages')
      .set(admin)
      .send({ provider: 'aliyun', message_id: 'never-reported', recipient: '13900139000', reference: 'order-43' })
      .expect(201);

    const search = async (q: string) =>
      (
        await request(app.url)
          .get(`/v1/search?q=${encodeURIComponent(q)}`)
          .set(reader)
          .expect(200)
      ).body.items as { message_id: string; matched: string; reference: string | null; status: string | null }[];
    expect((await search('search-1^0')).map((h) => [h.message_id, h.matched, h.reference])).toEqual([['search-1^0', 'message_id', 'order-42']]);
    for (const form of ['+8613800138000', '8613800138000', '13800138000']) {
      expect((await search(form)).map((h) => h.message_id).sort()).toEqual(['search-1^0', 'search-2^0']);
    }
    await post('/v1/callbacks/mailgw', JSON.stringify({ id: 'mail-1', to: 'alice@example.com', event: 'delivered', at: '2026-11-26T10:15:09Z' })).expect(200);
    expect((await search('alice@example.com')).map((h) => [h.message_id, h.matched])).toEqual([['mail-1', 'recipient']]);
    expect((await search('Alice@Example.com')).map((h) => h.message_id)).toEqual(['mail-1']);
    expect((await search('order-42')).map((h) => [h.message_id, h.matched, h.status])).toEqual([['search-1^0', 'reference', 'delivered']]);
    expect((await search('order-43')).map((h) => [h.message_id, h.matched, h.status])).toEqual([['never-reported', 'reference', null]]);
    expect(await search('nothing-like-this')).toEqual([]);
    await request(app.url).get('/v1/search').set(reader).expect(400);
  });

  it("gives each hit its own registration's reference: its recipient's, else the one for every recipient of its id", async () => {
    await post('/v1/callbacks/aliyun', aliyun('search-3^0', '13700137001', true)).expect(200);
    await post('/v1/callbacks/aliyun', aliyun('search-3^0', '13700137002', true)).expect(200);
    await post('/v1/callbacks/aliyun', aliyun('search-3^0', '13700137003', true)).expect(200);
    // the same id at another provider, which has no registration
    await post('/v1/callbacks/mailgw', JSON.stringify({ id: 'search-3^0', to: 'bob@example.com', event: 'delivered', at: '2026-11-26T10:15:09Z' })).expect(200);
    const register = (body: Record<string, string>) =>
      request(app.url)
        .post('/v1/messages')
        .set(admin)
        .send({ provider: 'aliyun', message_id: 'search-3^0', ...body })
        .expect(201);
    await register({ reference: 'order-44' }); // every recipient of the id
    await register({ recipient: '13700137002', reference: 'order-45' });
    const hits = (await request(app.url).get('/v1/search?q=search-3%5E0').set(reader).expect(200)).body.items as {
      provider: string;
      recipient: string;
      reference: string | null;
    }[];
    expect(hits.map((h) => [h.provider, h.recipient, h.reference]).sort()).toEqual([
      ['aliyun', '13700137001', 'order-44'],
      ['aliyun', '13700137002', 'order-45'],
      ['aliyun', '13700137003', 'order-44'],
      ['mailgw', 'bob@example.com', null],
    ]);
  });

  it('answers the outbox backlog and an event with no deliveries', async () => {
    const outbox = (await request(app.url).get('/v1/outbox').set(reader).expect(200)).body;
    expect(outbox).toMatchObject({ pending: 0, dead: 0, oldest_pending_age_seconds: null, subscriptions: [] });
    // a read token sees a subscriber's URL without its credentials (the subscription itself is the admin's)
    await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'http://127.0.0.1:9/hook?token=subscriber-secret-1' }).expect(201);
    const withOne = (await request(app.url).get('/v1/outbox').set(reader).expect(200)).body as { subscriptions: { url: string }[] };
    expect(withOne.subscriptions.map((s) => s.url)).toEqual(['http://127.0.0.1:9/hook?token=[redacted]']);
    expect((await request(app.url).get('/v1/events/evt_none/deliveries').set(reader).expect(200)).body).toEqual({ items: [] });
  });

  it('counts messages by status and callbacks by verdict per bucket', async () => {
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const until = new Date(Date.now() + 3_600_000).toISOString();
    interface Bucket {
      group: string | null;
      total: number;
      delivered: number;
      final: number;
      callbacks: Record<string, number>;
    }
    const totals = async () => {
      const res = await request(app.url).get(`/v1/stats/timeseries?interval=1h&provider=aliyun&since=${since}&until=${until}`).set(reader).expect(200);
      const buckets = res.body.buckets as Bucket[];
      const sum = (f: (b: Bucket) => number) => buckets.reduce((n, b) => n + f(b), 0);
      return {
        total: sum((b) => b.total),
        delivered: sum((b) => b.delivered),
        final: sum((b) => b.final),
        accepted: sum((b) => b.callbacks.accepted ?? 0),
        invalid: sum((b) => b.callbacks.payload_invalid ?? 0),
      };
    };
    const before = await totals();
    await post('/v1/callbacks/aliyun', aliyun('series-1^0', '13700137000', true)).expect(200);
    await post('/v1/callbacks/aliyun', aliyun('series-2^0', '13700137001', false, 'MK:0001')).expect(200);
    await post('/v1/callbacks/aliyun', 'not json').expect(400);
    const after = await totals();
    expect({
      total: after.total - before.total,
      delivered: after.delivered - before.delivered,
      final: after.final - before.final,
      accepted: after.accepted - before.accepted,
      invalid: after.invalid - before.invalid,
    }).toEqual({
      total: 2,
      delivered: 1,
      final: 2,
      accepted: 2,
      invalid: 1,
    });
    const grouped = await request(app.url).get(`/v1/stats/timeseries?interval=1d&group_by=provider&since=${since}&until=${until}`).set(reader).expect(200);
    expect(new Set((grouped.body.buckets as Bucket[]).map((b) => b.group))).toEqual(new Set(['aliyun', 'mailgw']));
    // a sender cannot mint groups: requests to unknown providers count as `unknown`; accounts are named with their provider
    await post('/v1/callbacks/evil-1', '{}').expect(404);
    await post('/v1/callbacks/evil-2/x', '{}').expect(404);
    const byProvider = await request(app.url).get(`/v1/stats/timeseries?interval=1d&group_by=provider&since=${since}&until=${until}`).set(reader).expect(200);
    expect(new Set((byProvider.body.buckets as Bucket[]).map((b) => b.group))).toEqual(new Set(['aliyun', 'mailgw', 'unknown']));
    const byAccount = await request(app.url).get(`/v1/stats/timeseries?interval=1d&group_by=account&since=${since}&until=${until}`).set(reader).expect(200);
    expect(new Set((byAccount.body.buckets as Bucket[]).map((b) => b.group))).toEqual(new Set(['aliyun/default', 'mailgw/default', 'unknown/unknown']));
    await request(app.url).get('/v1/stats/timeseries?interval=5m').set(reader).expect(400);

    // by destination, and how late the reports came (Aliyun's report_time is when the handset answered)
    const byCountry = await request(app.url)
      .get(`/v1/stats/timeseries?interval=1d&group_by=country&provider=aliyun&since=${since}&until=${until}`)
      .set(reader)
      .expect(200);
    const china = (byCountry.body.buckets as (Bucket & { latency: { count: number; p50: number | null; p95: number | null } })[]).filter(
      (b) => b.group === 'CN',
    );
    expect(china.reduce((n, b) => n + b.total, 0)).toBeGreaterThanOrEqual(2);
    expect(china.reduce((n, b) => n + b.latency.count, 0)).toBeGreaterThanOrEqual(2);
    for (const b of china.filter((x) => x.latency.count > 0)) {
      expect(b.latency.p50).toEqual(expect.any(Number));
      expect(b.latency.p95!).toBeGreaterThanOrEqual(b.latency.p50!);
    }
    expect(china.every((b) => Object.keys(b.callbacks).length === 0)).toBe(true); // a request has no country
  });
});

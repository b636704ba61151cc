import request from 'supertest';
import { VERDICTS } from '../../src/errors';
import { DELIVERY_STATES } from '../../src/outbox/deliveries';
import { STATUSES } from '../../src/status/types';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const NONE = 'this route takes no query parameters';

describe('the management API refuses query parameters a route does not take', () => {
  let app: TestApp;
  let subId: string;
  let rawId: string;
  beforeAll(async () => {
    app = await startTestApp(seedConfig(), { DLR_WORKER: 'off' });
    subId = (await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'https://93.184.216.34/hook' }).expect(201)).body.id;
    await request(app.url).post('/v1/callbacks/tencent').set('content-type', 'application/json').send('nonsense').expect(400);
    rawId = (await request(app.url).get('/v1/raw?limit=1').set(admin).expect(200)).body.items[0].id;
  });
  afterAll(() => app.close());

  it('answers 400 naming the parameter and listing what GET /v1/messages takes, instead of every message', async () => {
    const res = await request(app.url).get('/v1/messages?reference=order-42').set(admin).expect(400);
    expect(res.body).toEqual({
      error: 'bad_request',
      detail: 'unknown query parameter "reference"; this route takes provider, account, status, recipient, stale, since, until, cursor, limit',
    });
    await request(app.url).get('/v1/messages?q=13800138000').set(admin).expect(400, {
      error: 'bad_request',
      detail: 'unknown query parameter "q"; this route takes provider, account, status, recipient, stale, since, until, cursor, limit',
    });
  });

  const reads: [string, () => string, string][] = [
    ['GET /v1/messages/:provider/:message_id', () => '/v1/messages/aliyun/x', 'this route takes account, recipient'],
    ['GET /v1/stats', () => '/v1/stats', 'this route takes provider, account, channel, since, until'],
    ['GET /v1/raw', () => '/v1/raw', 'this route takes provider, account, verdict, since, until, q, cursor, limit'],
    ['GET /v1/raw/:id', () => `/v1/raw/${rawId}`, NONE],
    ['GET /v1/raw/:id/body', () => `/v1/raw/${rawId}/body`, NONE],
    ['GET /v1/audit', () => '/v1/audit', 'this route takes action, cursor, limit'],
    ['GET /v1/subscriptions', () => '/v1/subscriptions', NONE],
    ['GET /v1/subscriptions/:id', () => `/v1/subscriptions/${subId}`, NONE],
    ['GET /v1/subscriptions/:id/deliveries', () => `/v1/subscriptions/${subId}/deliveries`, 'this route takes state, cursor, limit'],
    ['GET /v1/deliveries/:id', () => '/v1/deliveries/dlv_01JD0000000000000000000000', NONE],
  ];
  it.each(reads)('%s: 400 for an unknown parameter, 200 (or 404) without it', async (_name, path, takes) => {
    const res = await request(app.url).get(`${path()}?reference=x`).set(admin).expect(400);
    expect(res.body).toEqual({ error: 'bad_request', detail: `unknown query parameter "reference"; ${takes}` });
    // the bytes as they are: GET /v1/raw/:id/body answers the stored body (here not JSON, typed as JSON)
    const plain = await request(app.url)
      .get(path())
      .set(admin)
      .parse((r, done) => {
        r.on('data', () => undefined);
        r.on('end', () => done(null, null));
      });
    expect([200, 404, 409]).toContain(plain.status);
  });

  it('answers 400 for a parameter given twice', async () => {
    for (const path of [
      '/v1/messages?status=sent&status=failed',
      '/v1/raw?limit=1&limit=2',
      '/v1/audit?action=replay&action=purge',
      '/v1/stats?since=2000-01-01&since=2001-01-01',
    ]) {
      const res = await request(app.url).get(path).set(admin).expect(400);
      expect(res.body.detail).toMatch(/^query parameter "(status|limit|action|since)" is given more than once; give it once$/);
    }
    const deliveries = await request(app.url).get(`/v1/subscriptions/${subId}/deliveries?state=dead&state=dead`).set(admin).expect(400);
    expect(deliveries.body.detail).toBe('query parameter "state" is given more than once; give it once');
  });

  it('lists the allowed values of a filter that takes a fixed set', async () => {
    const cases: [string, string][] = [
      ['/v1/messages?status=lost', `status must be one of ${STATUSES.join(', ')}`],
      ['/v1/raw?verdict=fine', `verdict must be one of ${VERDICTS.join(', ')}`],
      ['/v1/stats?channel=fax', 'channel must be one of sms, email'],
      ['/v1/audit?action=delete', 'action must be one of replay, import, purge'],
      [`/v1/subscriptions/${subId}/deliveries?state=lost`, `state must be one of ${DELIVERY_STATES.join(', ')}`],
    ];
    for (const [path, detail] of cases) await request(app.url).get(path).set(admin).expect(400, { error: 'bad_request', detail });
  });

  it('still takes empty values as no filter, and the known parameters as before', async () => {
    await request(app.url).get('/v1/messages?status=&provider=&cursor=&limit=').set(admin).expect(200);
    await request(app.url).get('/v1/raw?verdict=&q=&since=').set(admin).expect(200);
    await request(app.url).get('/v1/stats?channel=sms&since=2000-01-01T00:00:00Z').set(admin).expect(200);
    const raw = await request(app.url).get('/v1/raw?verdict=payload_invalid&provider=tencent&limit=5').set(admin).expect(200);
    expect(raw.body.items.map((r: { id: string }) => r.id)).toEqual([rawId]);
    await request(app.url).get('/v1/audit?action=replay&limit=10').set(admin).expect(200);
    await request(app.url).get('/v1/messages?limit=501').set(admin).expect(400, { error: 'bad_request', detail: 'limit must be an integer from 1 to 500' });
  });

  it('names odd parameters safely: a prototype name, a long name, a name without a value', async () => {
    const proto = await request(app.url).get('/v1/messages?__proto__=x').set(admin).expect(400);
    expect(proto.body.detail).toMatch(/^unknown query parameter "__proto__"; /);
    const long = await request(app.url)
      .get(`/v1/stats?${'n'.repeat(5000)}=1`)
      .set(admin)
      .expect(400);
    expect(long.body.detail).toBe(`unknown query parameter "${'n'.repeat(64)}…"; this route takes provider, account, channel, since, until`);
    const bare = await request(app.url).get('/v1/raw?verbose').set(admin).expect(400);
    expect(bare.body.detail).toMatch(/^unknown query parameter "verbose"; /);
  });

  it('checks the token before the query (401/403 first)', async () => {
    await request(app.url).get('/v1/messages?reference=x').expect(401);
    await request(app.url).get('/v1/subscriptions?x=1').expect(401);
  });

  it('refuses query parameters on the admin routes that change something', async () => {
    const writes: [string, string, object | undefined][] = [
      ['post', '/v1/subscriptions', { url: 'https://93.184.216.34/hook' }],
      ['patch', `/v1/subscriptions/${subId}`, { description: 'x' }],
      ['post', `/v1/subscriptions/${subId}/rotate-secret`, undefined],
      ['post', `/v1/subscriptions/${subId}/retry-dead`, undefined],
      ['post', '/v1/deliveries/dlv_01JD0000000000000000000000/retry', undefined],
      ['post', '/v1/messages', { provider: 'aliyun', message_id: 'm-1' }],
      ['delete', `/v1/subscriptions/${subId}`, undefined],
    ];
    for (const [method, path, body] of writes) {
      const call = request(app.url)[method as 'post'](`${path}?dry_run=true`).set(admin);
      const res = await (body ? call.send(body) : call).expect(400);
      expect({ path, body: res.body }).toEqual({ path, body: { error: 'bad_request', detail: `unknown query parameter "dry_run"; ${NONE}` } });
    }
    // nothing was done: the subscription is still there, undescribed
    const sub = await request(app.url).get(`/v1/subscriptions/${subId}`).set(admin).expect(200);
    expect(sub.body.description).toBeNull();
  });

  it('leaves callback routes alone: providers put their own parameters there', async () => {
    const body = JSON.stringify([{ phone_number: '13800138000', biz_id: 'qp-1', report_time: '2024-05-06 10:15:09', success: true }]);
    await request(app.url).post('/v1/callbacks/aliyun?bodySHA256=abc&whatever=1').set('content-type', 'application/json').send(body).expect(200);
  });
});

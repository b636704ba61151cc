import request from 'supertest';
import { fixture } from '../helpers/fixtures';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { testDialect } from '../helpers/db';

const READ_TOKEN = 'read-only-token-0123456789';
const REPLAY_TOKEN = 'replay-only-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('read API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(
      seedConfig(
        {},
        {
          tokens: [
            { token: READ_TOKEN, scopes: ['read'] },
            { name: 'support', token: REPLAY_TOKEN, scopes: ['replay'] },
          ],
        },
      ),
    );
    for (const [p, name] of [
      ['aliyun', 'smsreport-batch'],
      ['aliyun', 'seed-no-success'],
      ['tencent', 'status-array'],
    ] as const) {
      const fx = fixture(p, name);
      await request(app.url).post(`/v1/callbacks/${p}`).set('content-type', fx.contentType).send(fx.body.toString('utf8')).expect(200);
    }
    await request(app.url).post('/v1/callbacks/tencent').set('content-type', 'application/json').send('nonsense').expect(400);
  });
  afterAll(() => app.close());

  describe('GET /v1/messages/:provider/:message_id', () => {
    it('answers 409 with the recipients when one id covers several', async () => {
      const res = await request(app.url).get('/v1/messages/aliyun/893412315000000000%5E0').set(admin).expect(409);
      expect(res.body).toEqual({
        error: 'ambiguous',
        detail: 'several messages have the id "893412315000000000^0": add ?recipient= (one of "13800138000", "13900139000")',
        recipients: ['13800138000', '13900139000'],
        accounts: ['default'],
      });
    });

    it('answers the one message when ?recipient= names it', async () => {
      const res = await request(app.url).get('/v1/messages/aliyun/893412315000000000%5E0?recipient=13900139000&account=default').set(admin).expect(200);
      expect(res.body.message).toMatchObject({ status: 'failed', terminal: true, error: { code: 'MK:0001', message: '号码状态异常' } });
    });

    it('answers 404 for an unknown message', async () => {
      await request(app.url).get('/v1/messages/aliyun/nope').set(admin).expect(404, {
        error: 'not_found',
        detail: 'no message "nope"; provider "aliyun" has none with this id: GET /v1/search?q= finds messages by id, recipient or reference',
      });
    });
  });

  it('lists messages with filters and a cursor', async () => {
    const all = await request(app.url).get('/v1/messages?provider=aliyun').set(admin).expect(200);
    expect(all.body.items).toHaveLength(4);
    expect(all.body.next_cursor).toBeNull();
    const failed = await request(app.url).get('/v1/messages?status=failed').set(admin).expect(200);
    expect(failed.body.items.map((m: { message_id: string }) => m.message_id).sort()).toEqual([
      '110000000000000002^0',
      '2433:102729416014456548913424581',
      '893412315000000000^0',
    ]);
    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await request(app.url).get(`/v1/messages?limit=2&cursor=${cursor}`).set(admin).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...(page.body.items as { message_id: string; recipient: string }[]).map((m) => `${m.message_id}/${m.recipient}`));
      cursor = page.body.next_cursor ?? '';
    } while (cursor);
    expect(new Set(seen).size).toBe(6);
    await request(app.url).get('/v1/messages?status=lost').set(admin).expect(400);
    await request(app.url).get('/v1/messages?since=yesterday').set(admin).expect(400);
    await request(app.url).get('/v1/messages?cursor=zzz').set(admin).expect(400);
  });

  it('computes statistics: counts by status, delivery rate, top error codes', async () => {
    const res = await request(app.url).get('/v1/stats').set(admin).expect(200);
    expect(res.body).toMatchObject({ total: 6, by_status: { delivered: 3, failed: 3 }, final: 6, delivered: 3, delivery_rate: 0.5 });
    expect(res.body.top_error_codes).toEqual([
      { provider: 'aliyun', code: 'MK:0001', count: 1 },
      { provider: 'tencent', code: 'MN:0001', count: 1 },
      { provider: 'aliyun', code: 'UNDELIV', count: 1 },
    ]);
    const aliyun = await request(app.url).get('/v1/stats?provider=aliyun&since=2000-01-01T00:00:00Z').set(admin).expect(200);
    expect(aliyun.body.total).toBe(4);
    const none = await request(app.url).get('/v1/stats?until=2000-01-01T00:00:00Z').set(admin).expect(200);
    expect(none.body).toMatchObject({ total: 0, delivery_rate: null });
  });

  it('searches the raw log by verdict, provider and a message id or recipient', async () => {
    const refused = await request(app.url).get('/v1/raw?verdict=payload_invalid').set(admin).expect(200);
    expect(refused.body.items).toHaveLength(1);
    expect(refused.body.items[0]).toMatchObject({ provider: 'tencent', body: { encoding: 'text', content: 'nonsense' } });
    const byId = await request(app.url).get('/v1/raw?q=2433:102729416014456548913424581').set(admin).expect(200);
    expect(byId.body.items.map((r: { provider: string }) => r.provider)).toEqual(['tencent']);
    const byPhone = await request(app.url).get('/v1/raw?q=13900139000').set(admin).expect(200);
    expect(byPhone.body.items.map((r: { provider: string }) => r.provider)).toEqual(['aliyun']);
    const page = await request(app.url).get('/v1/raw?limit=2').set(admin).expect(200);
    const next = await request(app.url).get(`/v1/raw?limit=2&cursor=${page.body.next_cursor}`).set(admin).expect(200);
    expect(next.body.items[0].id < page.body.items[1].id).toBe(true);
    await request(app.url).get('/v1/raw/raw_01JD0000000000000000000000').set(admin).expect(404);
  });

  describe('bearer tokens with scopes', () => {
    it.each(['/v1/messages', '/v1/stats', '/v1/raw', '/v1/messages/aliyun/x', '/v1/raw/raw_x'])('%s needs a token (401)', async (path) => {
      await request(app.url).get(path).expect(401);
      await request(app.url).get(path).set('authorization', 'Bearer not-a-valid-token').expect(401, {
        error: 'unauthorized',
        detail: 'the bearer token is not valid: send DLR_ADMIN_TOKEN or a token of the config\'s "tokens" (GET /v1/whoami tells which one a token is)',
      });
      await request(app.url).get(path).set('authorization', `Basic ${READ_TOKEN}`).expect(401);
    });

    it('accepts a read-scoped token and refuses one without the read scope (403)', async () => {
      await request(app.url).get('/v1/stats').set('authorization', `Bearer ${READ_TOKEN}`).expect(200);
      await request(app.url).get('/v1/stats').set('authorization', `Bearer ${REPLAY_TOKEN}`).expect(403, {
        error: 'forbidden',
        detail:
          'this route needs a token with the "read" scope (or "admin"); it holds "replay": use DLR_ADMIN_TOKEN or a token of the config\'s "tokens" with "read" in its scopes',
      });
    });

    it('lets callback routes and health checks through without a token', async () => {
      await request(app.url).get('/healthz').expect(200, { status: 'ok' });
      await request(app.url).get('/readyz').expect(200, { status: 'ready', database: testDialect });
      const metrics = await request(app.url).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/dlr_callbacks_total\{provider="tencent",verdict="payload_invalid"\} 1/);
      expect(metrics.text).toMatch(/dlr_status_transitions_total\{provider="aliyun",from="none",to="delivered"\} 2/);
      expect(metrics.text).toMatch(/dlr_ingest_duration_seconds_bucket/);
      expect(metrics.text).toMatch(/dlr_outbox_backlog 0/);
    });
  });
});

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { createClient, DlrApiError, type Schemas } from '../../src/client';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { fixture } from '../helpers/fixtures';

/** The typed client (`dlr-receiver/client`, src/client/) against a real server on 127.0.0.1. */
const ROOT = path.join(__dirname, '..', '..');

describe('the typed client', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig());
    const fx = fixture('aliyun', 'smsreport-batch');
    await request(app.url).post('/v1/callbacks/aliyun').set('content-type', fx.contentType).send(fx.body.toString('utf8')).expect(200);
  });
  afterAll(() => app.close());

  it('reads messages with typed paths, parameters and answers', async () => {
    const dlr = createClient({ baseUrl: `${app.url}/`, token: ADMIN_TOKEN });
    expect((await dlr.get('/v1/whoami')).scopes).toEqual(['read', 'replay', 'admin']);
    const answer = await dlr.get('/v1/messages/{provider}/{message_id}', {
      path: { provider: 'aliyun', message_id: '893412315000000000^0' },
      query: { recipient: '13800138000' },
    });
    const message: Schemas['Message'] = answer.message;
    expect(message).toMatchObject({ status: 'delivered', terminal: true, recipient: '13800138000' });
    expect(answer.history.map((r) => r.status)).toEqual(['delivered']);
    const page = await dlr.get('/v1/messages', { query: { provider: 'aliyun', status: 'failed', limit: '10' } });
    expect(page.items.map((m) => m.recipient)).toEqual(['13900139000']);
    expect(page.next_cursor).toBeNull();
    const stats = await dlr.get('/v1/stats', { query: { provider: 'aliyun' } });
    expect(stats).toMatchObject({ total: 2, delivered: 1, final: 2, delivery_rate: 0.5 });
  });

  it('sends typed bodies: a subscription from creation to deletion', async () => {
    const dlr = createClient({ baseUrl: app.url, token: ADMIN_TOKEN });
    const created = await dlr.post('/v1/subscriptions', {
      body: { url: 'http://127.0.0.1:9/hook', filter: { channels: ['sms'] }, description: 'client test' },
    });
    expect(created.secret).toMatch(/^whsec_/);
    const changed = await dlr.patch('/v1/subscriptions/{id}', { path: { id: created.id }, body: { enabled: false } });
    expect(changed.enabled).toBe(false);
    expect((await dlr.get('/v1/subscriptions')).items.map((s) => s.id)).toEqual([created.id]);
    expect(await dlr.delete('/v1/subscriptions/{id}', { path: { id: created.id } })).toBeUndefined();
    const registered = await dlr.post('/v1/messages', { body: { provider: 'aliyun', message_id: 'm-1', reference: 'order-7' } });
    expect(registered).toEqual({ provider: 'aliyun', account: 'default', message_id: 'm-1', recipient: null, reference: 'order-7', metadata: null });
  });

  it('throws a DlrApiError with the status, code and detail of a refusal', async () => {
    const anonymous = createClient({ baseUrl: app.url });
    await expect(anonymous.get('/v1/stats')).rejects.toMatchObject({ name: 'DlrApiError', status: 401, code: 'unauthorized' });
    const dlr = createClient({ baseUrl: app.url, token: ADMIN_TOKEN });
    const err = await dlr
      .get('/v1/messages/{provider}/{message_id}', { path: { provider: 'aliyun', message_id: '893412315000000000^0' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DlrApiError);
    expect(err).toMatchObject({ status: 409, code: 'ambiguous', body: { recipients: ['13800138000', '13900139000'] } });
    // the document needs no token
    expect((await anonymous.get('/v1/openapi.json')).openapi).toBe('3.1.0');
  });

  it('refuses wrong calls at compile time (tsc checks these lines)', () => {
    const dlr = createClient({ baseUrl: app.url, token: ADMIN_TOKEN });
    const wrong = [
      // @ts-expect-error: a path parameter is missing
      () => dlr.get('/v1/messages/{provider}/{message_id}', { path: { provider: 'aliyun' } }),
      // @ts-expect-error: no such route
      () => dlr.get('/v1/nothing'),
      // @ts-expect-error: status takes the statuses only
      () => dlr.get('/v1/messages', { query: { status: 'lost' } }),
      // @ts-expect-error: a subscription's url is a string
      () => dlr.post('/v1/subscriptions', { body: { url: 42 } }),
      // @ts-expect-error: GET /v1/whoami takes no body
      () => dlr.get('/v1/whoami', { body: { name: 'x' } }),
    ];
    expect(wrong).toHaveLength(5);
  });

  const built = fs.existsSync(path.join(ROOT, 'dist', 'client', 'index.js'));
  (built ? it : it.skip)('is exported from the package as dlr-receiver/client (the built one: npm run build)', async () => {
    const script = `const { createClient } = require('dlr-receiver/client');
      createClient({ baseUrl: process.argv[1], token: process.argv[2] }).get('/v1/whoami').then((w) => console.log(JSON.stringify(w)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, app.url, ADMIN_TOKEN], { cwd: ROOT });
    expect(JSON.parse(stdout)).toMatchObject({ scopes: ['read', 'replay', 'admin'] });
  });
});

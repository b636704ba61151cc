import request from 'supertest';
import { seedConfig, startTestApp, type TestApp } from '../helpers/app';

const TOKENS = [
  { name: 'reader', token: 'reader-token-0123456789', scopes: ['read'] },
  { name: 'replayer', token: 'replayer-token-0123456789', scopes: ['replay'] },
  { name: 'operator', token: 'operator-token-0123456789', scopes: ['admin'] },
];
type Scope = 'read' | 'replay' | 'admin';

/** Every route behind a token, with the scope it needs. */
const ROUTES: [string, string, Scope][] = [
  ['get', '/v1/messages', 'read'],
  ['get', '/v1/messages/aliyun/m-1', 'read'],
  ['get', '/v1/stats', 'read'],
  ['get', '/v1/raw', 'read'],
  ['get', '/v1/raw/raw_01JD0000000000000000000000', 'read'],
  ['get', '/v1/audit', 'read'],
  ['post', '/v1/raw/raw_01JD0000000000000000000000/replay', 'replay'],
  ['post', '/v1/replay', 'replay'],
  ['post', '/v1/messages', 'admin'],
  ['post', '/v1/subscriptions', 'admin'],
  ['get', '/v1/subscriptions', 'admin'],
  ['get', '/v1/subscriptions/sub_x', 'admin'],
  ['patch', '/v1/subscriptions/sub_x', 'admin'],
  ['delete', '/v1/subscriptions/sub_x', 'admin'],
  ['post', '/v1/subscriptions/sub_x/rotate-secret', 'admin'],
  ['get', '/v1/subscriptions/sub_x/deliveries', 'admin'],
  ['post', '/v1/subscriptions/sub_x/retry-dead', 'admin'],
  ['get', '/v1/deliveries/dlv_x', 'admin'],
  ['post', '/v1/deliveries/dlv_x/retry', 'admin'],
];

describe('access to the API routes', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, { tokens: TOKENS.map(({ name, token, scopes }) => ({ name, token, scopes })) }), { DLR_WORKER: 'off' });
  });
  afterAll(() => app.close());

  const call = (method: string, path: string, token?: string) => {
    const r = (request(app.url) as unknown as Record<string, (p: string) => request.Test>)[method](path);
    if (token) r.set('authorization', `Bearer ${token}`);
    return method === 'get' || method === 'delete' ? r : r.send({});
  };

  it.each(ROUTES)('%s %s: 401 without a token or with an unknown one, 403 without scope %s', async (method, path, scope) => {
    for (const token of [undefined, 'not-a-token-at-all-0123', `${TOKENS[0].token}x`]) {
      const res = await call(method, path, token);
      expect({ token, status: res.status, body: res.body.error }).toEqual({ token, status: 401, body: 'unauthorized' });
    }
    for (const t of TOKENS) {
      const allowed = t.scopes.includes(scope) || t.scopes.includes('admin');
      const res = await call(method, path, t.token);
      if (allowed) expect([t.name, res.status]).not.toEqual([t.name, 403]);
      else expect({ who: t.name, status: res.status, error: res.body.error }).toEqual({ who: t.name, status: 403, error: 'forbidden' });
    }
  });

  it('never logs a token', async () => {
    await call('get', '/v1/messages', TOKENS[0].token);
    await call('get', '/v1/messages', 'a-wrong-token-0123456789');
    const all = app.logs.join('\n');
    for (const t of [...TOKENS.map((x) => x.token), 'a-wrong-token-0123456789']) expect(all).not.toContain(t);
  });

  it('shows raw requests with their credentials redacted and their content intact', async () => {
    const body = '[{"phone_number":"13800138000","biz_id":"acc-1","success":true}]';
    await request(app.url)
      .post('/v1/callbacks/aliyun?token=some-url-secret&x=1')
      .set({ 'content-type': 'application/json', authorization: 'Basic c2VjcmV0OnNlY3JldA==', cookie: 'session=abc' })
      .send(body)
      .expect(200);
    const res = await call('get', '/v1/raw?provider=aliyun&limit=1', TOKENS[0].token).expect(200);
    const raw = res.body.items[0];
    expect(raw.url).toBe('/v1/callbacks/aliyun?token=[redacted]&x=1');
    expect(raw.headers).toMatchObject({ authorization: '[redacted]', cookie: '[redacted]', 'content-type': 'application/json' });
    expect(raw.body).toEqual({ encoding: 'text', content: body, truncated: false }); // support sees what the provider sent
    expect(JSON.stringify(res.body)).not.toMatch(/some-url-secret|c2VjcmV0|session=abc/);
  });
});

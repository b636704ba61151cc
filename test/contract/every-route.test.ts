import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { fixture } from '../helpers/fixtures';
import { checkResponse, documentedPath, openApi } from '../helpers/openapi';
import { startSubscriber, waitFor, type Subscriber } from '../helpers/subscriber';

/**
 * Every operation of the OpenAPI document, called once on a real server holding real data (reports,
 * a subscription with a delivery to a loopback subscriber, replays), each answer checked against the
 * document — besides the check every integration test's answers get in startTestApp.
 */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const METHODS = ['get', 'post', 'patch', 'delete'];

describe('every documented operation answers as documented', () => {
  let app: TestApp;
  let subscriber: Subscriber;
  const called = new Set<string>();

  /** One call, checked, its operation noted. */
  async function call(method: 'get' | 'post' | 'patch' | 'delete', url: string, opts: { body?: object; auth?: boolean; accept?: string } = {}) {
    let req = request(app.url)[method](url);
    if (opts.auth !== false) req = req.set(admin);
    if (opts.accept) req = req.set('accept', opts.accept);
    const res = opts.body ? await req.send(opts.body) : await req;
    checkResponse(res);
    expect(res.status).toBeLessThan(500);
    called.add(`${method.toUpperCase()} ${documentedPath(url.split('?')[0]) ?? url}`);
    return res;
  }

  beforeAll(async () => {
    subscriber = await startSubscriber();
    app = await startTestApp(seedConfig());
  });
  afterAll(async () => {
    await app.close();
    await subscriber.close();
  });

  it('covers callbacks, reads, replay, subscribers, registration, the contract and operations', async () => {
    const sub = (await call('post', '/v1/subscriptions', { body: { url: subscriber.url, description: 'every route' } })).body as { id: string };
    const fx = fixture('aliyun', 'smsreport-batch');
    const post = (url: string) =>
      request(app.url)
        .post(url)
        .set('content-type', fx.contentType)
        .send(fx.body.toString('utf8'))
        .then((res) => {
          checkResponse(res);
          called.add(`POST ${documentedPath(url)}`);
          return res;
        });
    expect((await post('/v1/callbacks/aliyun')).status).toBe(200);
    expect((await post('/v1/callbacks/aliyun/default')).status).toBe(200);
    // aliyun reports by POST only: a GET is no callback of its
    expect((await call('get', '/v1/callbacks/aliyun', { auth: false })).status).toBe(404);
    expect((await call('get', '/v1/callbacks/aliyun/default', { auth: false })).status).toBe(404);

    await call('get', '/v1/messages/aliyun/893412315000000000%5E0?recipient=13800138000');
    await call('get', '/v1/messages?provider=aliyun&limit=1');
    await call('get', '/v1/messages?stale=true');
    await call('post', '/v1/messages', { body: { provider: 'aliyun', message_id: '893412315000000000^0', reference: 'order-42', metadata: { shop: 7 } } });
    await call('get', '/v1/stats?provider=aliyun');
    await call('get', '/v1/stats/timeseries?interval=1h&group_by=provider');
    await call('get', '/v1/reports/daily?since=2024-05-01&until=2024-05-08');
    expect((await call('get', '/v1/reports/daily?since=2024-05-01&until=2024-05-08', { accept: 'text/csv' })).headers['content-type']).toMatch(/^text\/csv/);
    const raw = (await call('get', '/v1/raw?provider=aliyun')).body as { items: { id: string }[] };
    const rawId = raw.items[raw.items.length - 1].id; // the first request: the second was a duplicate, with no events
    const one = (await call('get', `/v1/raw/${rawId}`)).body as { events: { id: string }[] };
    await call('get', `/v1/raw/${rawId}/body`);
    await call('post', `/v1/raw/${rawId}/replay`, { body: { dry_run: true } });
    await call('post', '/v1/replay', { body: { dry_run: true, filter: { provider: 'aliyun' } } });
    await call('get', '/v1/audit?action=replay');
    await call('get', '/v1/search?q=13800138000');
    await call('get', `/v1/events/${one.events[0].id}/deliveries`);
    await call('get', '/v1/outbox');
    await call('get', '/v1/whoami');

    await waitFor(() => subscriber.received.length >= 2, 'two deliveries');
    await call('get', '/v1/subscriptions');
    await call('get', `/v1/subscriptions/${sub.id}`);
    await call('patch', `/v1/subscriptions/${sub.id}`, { body: { description: 'every route, changed' } });
    await call('post', `/v1/subscriptions/${sub.id}/rotate-secret`);
    expect((await call('post', `/v1/subscriptions/${sub.id}/test`)).body.attempt.status_code).toBe(200);
    const deliveries = (await call('get', `/v1/subscriptions/${sub.id}/deliveries?state=succeeded`)).body as { items: { id: string }[] };
    await call('get', `/v1/deliveries/${deliveries.items[0].id}`);
    await call('post', `/v1/deliveries/${deliveries.items[0].id}/retry`);
    await call('post', `/v1/subscriptions/${sub.id}/retry-dead`);
    await call('delete', `/v1/subscriptions/${sub.id}`);

    await call('get', '/v1/openapi.json', { auth: false });
    await call('get', '/v1/event-types');
    await call('get', '/v1/providers');
    await call('get', '/healthz', { auth: false });
    await call('get', '/readyz', { auth: false });
    await call('get', '/metrics', { auth: false });
    await call('get', '/console', { auth: false });
    await call('get', '/console/', { auth: false });
    await call('get', '/console/messages/aliyun/1', { auth: false });
    await call('get', '/console/assets/gone-0000.js', { auth: false });

    const documented = Object.entries(openApi().doc.paths).flatMap(([p, item]) =>
      Object.keys(item)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(documented.filter((op) => !called.has(op))).toEqual([]);
    expect(app.contractViolations).toEqual([]);
  });
});

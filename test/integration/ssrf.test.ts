import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createSubscription } from '../../src/outbox/subscriptions';
import { createWorker } from '../../src/outbox/worker';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { startSubscriber, waitFor } from '../helpers/subscriber';

// Every subscriber here lives on 127.0.0.1: the refusals are of loopback, nothing is sent elsewhere.
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const PRIVATE_OFF = { delivery: { allowPrivateNetworks: false, retryScheduleSeconds: [0.1], timeoutSeconds: 1 } };

async function postReport(app: TestApp, bizId: string) {
  await request(app.url)
    .post('/v1/callbacks/aliyun')
    .set('content-type', 'application/json')
    .send(`[{"phone_number":"1","biz_id":"${bizId}","success":true}]`)
    .expect(200);
}

/** A subscription the subscribe-time guard never saw (as if its DNS changed after it subscribed). */
async function subscribeUnchecked(app: TestApp, url: string) {
  return createSubscription(app.running.ctx.dbh.db, { url }, new Date(), true);
}

describe('subscriber URLs on private networks (delivery.allowPrivateNetworks off, the default)', () => {
  it('refuses to subscribe them, and never sends to one that got in (say, by a DNS change)', async () => {
    // The worker is off while URLs are subscribed: were one accepted by mistake, nothing is sent to it.
    const app = await startTestApp(seedConfig({}, PRIVATE_OFF), { DLR_WORKER: 'off' });
    const sub = await startSubscriber();
    const worker = createWorker(app.running.ctx);
    try {
      for (const url of [
        sub.url,
        'http://10.0.0.7/hook',
        'http://[::1]:9/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[::127.0.0.1]:9/hook',
        'http://[::ffff:0:127.0.0.1]:9/hook',
        'http://[64:ff9b::a9fe:a9fe]/latest/meta-data',
      ]) {
        const res = await request(app.url).post('/v1/subscriptions').set(admin).send({ url }).expect(400);
        expect(res.body.detail).toMatch(/a loopback, private or reserved address \(set delivery\.allowPrivateNetworks to allow it\)/);
      }
      await subscribeUnchecked(app, sub.url);

      await postReport(app, 'ssrf-1');
      worker.start();
      const db = app.running.ctx.dbh.db;
      const attempt = await waitFor(() => db.selectFrom('delivery_attempts').selectAll().executeTakeFirst(), 'an attempt');
      expect(attempt.error).toMatch(/^not sent: 127\.0\.0\.1 resolves to 127\.0\.0\.1/);
      expect(attempt.status_code).toBeNull();
      expect(sub.received).toHaveLength(0);
    } finally {
      await worker.stop(1000);
      await sub.close();
      await app.close();
    }
  });

  it('refuses at connect time a name whose DNS answer changed after the pre-delivery check (DNS rebinding)', async () => {
    const app = await startTestApp(seedConfig({}, PRIVATE_OFF), { DLR_WORKER: 'off' });
    const sub = await startSubscriber();
    // The pre-delivery check is told a public address; the connection's own lookup of `localhost`
    // says loopback. (The check's answer is only classified, never connected to.)
    const guard = jest.fn((_host: string) => Promise.resolve(['93.184.216.34']));
    const worker = createWorker(app.running.ctx, { resolve: guard });
    try {
      await subscribeUnchecked(app, `http://localhost:${new URL(sub.url).port}/hook`);
      await postReport(app, 'ssrf-rebind');
      worker.start();
      const db = app.running.ctx.dbh.db;
      const attempt = await waitFor(() => db.selectFrom('delivery_attempts').selectAll().executeTakeFirst(), 'an attempt');
      expect(guard).toHaveBeenCalledWith('localhost');
      expect(attempt.error).toMatch(
        /^not sent: localhost resolved to (127\.0\.0\.1|::1) when connecting, a loopback, private or reserved address \(set delivery\.allowPrivateNetworks to allow it\)$/,
      );
      expect(attempt.status_code).toBeNull();
      expect(sub.received).toHaveLength(0);
    } finally {
      await worker.stop(1000);
      await sub.close();
      await app.close();
    }
  });
});

describe('redirects (delivery.allowPrivateNetworks on)', () => {
  it('are not followed: the 3xx is recorded as the answer and nothing else is requested', async () => {
    const app = await startTestApp(seedConfig({}, { delivery: { retryScheduleSeconds: [600], timeoutSeconds: 1 } }));
    const target = await startSubscriber();
    let requests = 0;
    const redirecting = http.createServer((req, res) => {
      requests += 1;
      req.resume();
      req.on('end', () => res.writeHead(302, { location: target.url }).end('moved'));
    });
    try {
      await new Promise<void>((r) => redirecting.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hook`;
      await request(app.url).post('/v1/subscriptions').set(admin).send({ url }).expect(201);
      await postReport(app, 'redirect-1');
      const db = app.running.ctx.dbh.db;
      const attempt = await waitFor(() => db.selectFrom('delivery_attempts').selectAll().executeTakeFirst(), 'an attempt');
      expect(attempt).toMatchObject({ status_code: 302, error: 'HTTP 302', response: 'moved' });
      await new Promise((r) => setTimeout(r, 200));
      expect(requests).toBe(1);
      expect(target.received).toHaveLength(0);
    } finally {
      await app.close();
      redirecting.closeAllConnections();
      await new Promise<void>((r) => redirecting.close(() => r()));
      await target.close();
    }
  });
});

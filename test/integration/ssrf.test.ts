import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp } from '../helpers/app';
import { startSubscriber, waitFor } from '../helpers/subscriber';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('subscriber URLs on private networks (delivery.allowPrivateNetworks off, the default)', () => {
  it('refuses to subscribe them, and never sends to one that got in (say, by a DNS change)', async () => {
    const app = await startTestApp(seedConfig({}, { delivery: { allowPrivateNetworks: false, retryScheduleSeconds: [0.1], timeoutSeconds: 1 } }));
    const sub = await startSubscriber();
    for (const url of [sub.url, 'http://10.0.0.7/hook', 'http://[::1]:9/hook', 'http://169.254.169.254/latest/meta-data']) {
      const res = await request(app.url).post('/v1/subscriptions').set(admin).send({ url }).expect(400);
      expect(res.body.detail).toMatch(/a loopback, private or reserved address \(set delivery\.allowPrivateNetworks to allow it\)/);
    }
    const ok = await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'https://93.184.216.34/hook' }).expect(201);
    await app.running.ctx.dbh.db.updateTable('subscriptions').set({ url: sub.url }).where('id', '=', ok.body.id).execute();

    await request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send('[{"phone_number":"1","biz_id":"ssrf-1","success":true}]').expect(200);
    const db = app.running.ctx.dbh.db;
    const attempt = await waitFor(() => db.selectFrom('delivery_attempts').selectAll().executeTakeFirst(), 'an attempt');
    expect(attempt.error).toMatch(/^not sent: 127\.0\.0\.1 resolves to 127\.0\.0\.1/);
    expect(attempt.status_code).toBeNull();
    expect(sub.received).toHaveLength(0);
    await sub.close();
    await app.close();
  });
});

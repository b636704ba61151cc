import request from 'supertest';
import { createWorker } from '../../src/outbox/worker';
import { ADMIN_TOKEN, seedConfig, startTestApp } from '../helpers/app';
import { startSubscriber, waitFor } from '../helpers/subscriber';

describe('worker shutdown', () => {
  it('releases a delivery still in flight when the grace period ends, for the next worker', async () => {
    const app = await startTestApp(seedConfig({}, { delivery: { timeoutSeconds: 30 } }), { DLR_WORKER: 'off' });
    const sub = await startSubscriber(() => 'hang');
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    await request(app.url).post('/v1/subscriptions').set(admin).send({ url: sub.url }).expect(201);
    await request(app.url)
      .post('/v1/callbacks/aliyun')
      .set('content-type', 'application/json')
      .send('[{"phone_number":"1","biz_id":"s-1","success":true}]')
      .expect(200);

    const worker = createWorker(app.running.ctx);
    worker.start();
    await waitFor(() => sub.received.length === 1, 'the request to be in flight');
    await worker.stop(100);

    const rows = await app.running.ctx.dbh.db.selectFrom('deliveries').selectAll().execute();
    expect(rows.map((r) => [r.state, r.attempts, r.claimed_by])).toEqual([['pending', 0, null]]);
    expect(await app.running.ctx.dbh.db.selectFrom('delivery_attempts').selectAll().execute()).toEqual([]);
    await sub.close();
    await app.close();
  });
});

import request from 'supertest';
import { createWorker } from '../../src/outbox/worker';
import { ADMIN_TOKEN, seedConfig, startTestApp } from '../helpers/app';
import { startSubscriber, waitFor } from '../helpers/subscriber';

describe('a worker that stalls or dies mid-delivery', () => {
  it('loses its claim when the lease ends; another worker delivers, and the late result changes nothing', async () => {
    const app = await startTestApp(seedConfig({}, { delivery: { timeoutSeconds: 30 } }), { DLR_WORKER: 'off' });
    // The first request never gets an answer (the worker "died" with it); the next ones do.
    const sub = await startSubscriber((n) => (n === 1 ? 'hang' : 200));
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    await request(app.url).post('/v1/subscriptions').set(admin).send({ url: sub.url }).expect(201);
    await request(app.url)
      .post('/v1/callbacks/aliyun')
      .set('content-type', 'application/json')
      .send('[{"phone_number":"1","biz_id":"l-1","success":true}]')
      .expect(200);
    const db = app.running.ctx.dbh.db;

    const stalled = createWorker(app.running.ctx, { leaseMs: 300 });
    stalled.start();
    await waitFor(() => sub.received.length === 1, 'the first worker to send');
    const claim = await db.selectFrom('deliveries').select(['claimed_by', 'state']).executeTakeFirstOrThrow();
    expect(claim.state).toBe('pending');
    expect(claim.claimed_by).not.toBeNull();

    const next = createWorker(app.running.ctx, { leaseMs: 300 });
    next.start();
    await waitFor(() => sub.received.length === 2, 'the second worker to take over after the lease');
    await waitFor(async () => (await db.selectFrom('deliveries').select('state').executeTakeFirstOrThrow()).state === 'succeeded', 'the delivery to succeed');
    expect(sub.received[1].headers['webhook-id']).toBe(sub.received[0].headers['webhook-id']);

    // The stalled request now fails (connection dropped): its late result must not undo the success.
    await sub.close();
    await stalled.stop(2000);
    await next.stop(2000);
    const row = await db.selectFrom('deliveries').selectAll().executeTakeFirstOrThrow();
    expect([row.state, row.attempts, row.claimed_by]).toEqual(['succeeded', 1, null]);
    expect(sub.received).toHaveLength(2);
    await app.close();
  });
});

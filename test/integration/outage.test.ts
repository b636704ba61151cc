import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp } from '../helpers/app';
import { startSubscriber, waitFor } from '../helpers/subscriber';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const EVENTS = 30;

describe('a subscriber outage', () => {
  it('delivers every event once the subscriber is back, none twice', async () => {
    // Ten short steps (±20 % jitter): the outage below covers several of them.
    const app = await startTestApp(seedConfig({}, { delivery: { retryScheduleSeconds: Array(10).fill(0.4), timeoutSeconds: 1 } }));
    const probe = await startSubscriber();
    const port = Number(new URL(probe.url).port);
    await request(app.url).post('/v1/subscriptions').set(admin).send({ url: probe.url }).expect(201);
    await probe.close(); // down: connections are refused

    for (let i = 0; i < EVENTS; i += 1) {
      const body = JSON.stringify([{ phone_number: '13800138000', biz_id: `out-${i}`, report_time: '2026-11-26 10:15:09', success: true }]);
      await request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(body).expect(200);
    }
    const db = app.running.ctx.dbh.db;
    await waitFor(async () => {
      const attempts = await db.selectFrom('delivery_attempts').select('delivery_id').execute();
      return attempts.length >= EVENTS * 3;
    }, 'three failed attempts per event during the outage');
    expect(await db.selectFrom('deliveries').select('state').where('state', '!=', 'pending').execute()).toEqual([]);

    const back = await startSubscriber(() => 200, port);
    await waitFor(() => new Set(back.received.map((r) => r.headers['webhook-id'])).size === EVENTS, 'every event after the outage', 15_000);
    await new Promise((r) => setTimeout(r, 1000)); // a duplicate would show up here
    const ids = back.received.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(EVENTS);
    expect(new Set(back.received.map((r) => (JSON.parse(r.body) as { message_id: string }).message_id)).size).toBe(EVENTS);
    const states = await db.selectFrom('deliveries').select('state').execute();
    expect(states.every((s) => s.state === 'succeeded')).toBe(true);
    await back.close();
    await app.close();
  });
});

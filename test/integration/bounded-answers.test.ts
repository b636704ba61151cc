import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Answers that repeat what senders add without end stay bounded (issue #14, finding 5's class). */
describe('bounded answers', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig());
  });
  afterAll(() => app.close());

  it("a message's history carries the newest 1,000 reports and says it was cut", async () => {
    const report = (i: number) => ({
      phone_number: '13800138000',
      biz_id: 'many-1',
      success: false,
      err_code: `E${i}`,
      report_time: `2024-05-06 10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
    });
    for (const start of [0, 600]) {
      const batch = Array.from({ length: 600 }, (_, k) => report(start + k));
      await request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(JSON.stringify(batch)).expect(200);
    }
    const res = await request(app.url).get('/v1/messages/aliyun/many-1').set(admin).expect(200);
    expect(res.body.history).toHaveLength(1000);
    expect(res.body.history_truncated).toBe(true);
    const ids = res.body.history.map((h: { id: string }) => h.id);
    expect([...ids].sort()).toEqual(ids); // oldest first, the newest kept
    // the message's attributes are its first report's, which the history no longer holds
    expect(res.body.message.attributes).toEqual({ err_code: 'E0' });
  });

  it('an audit entry keeps a bounded form of a long replay filter', async () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `raw_${String(i).padStart(26, '0')}`);
    await request(app.url).post('/v1/replay').set(admin).send({ filter: { ids }, dry_run: true }).expect(200);
    const res = await request(app.url).get('/v1/audit?action=replay&limit=1').set(admin).expect(200);
    expect(JSON.stringify(res.body.items[0]).length).toBeLessThan(6000);
    expect(res.body.items[0].parameters).toMatchObject({ truncated: true, characters: expect.any(Number) });
  });
});

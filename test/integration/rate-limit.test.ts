import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp } from '../helpers/app';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const callback = (app: { url: string }, i: number) =>
  request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(`[{"phone_number":"1","biz_id":"rl-${i}","success":true}]`);

describe('per-address rate limits', () => {
  it('limits the API routes (not callbacks, not health) and answers 429 JSON with the headers to wait by', async () => {
    const app = await startTestApp(seedConfig({}, { server: { rateLimit: { api: { windowSeconds: 60, max: 5 } } } }), { DLR_WORKER: 'off' });
    for (let i = 0; i < 5; i += 1) await request(app.url).get('/v1/messages').set(admin).expect(200);
    const limited = await request(app.url).get('/v1/stats').set(admin).expect(429);
    expect(limited.body).toEqual({ error: 'rate_limited', detail: expect.stringMatching(/more than 5 requests in 60 s/) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers.ratelimit).toMatch(/limit=5/);
    for (let i = 0; i < 20; i += 1) await callback(app, i).expect(200);
    await request(app.url).get('/healthz').expect(200);
    await app.close();
  });

  it('limits callbacks only when configured, and leaves the API to its own limit', async () => {
    const app = await startTestApp(seedConfig({}, { server: { rateLimit: { callbacks: { max: 3 }, api: false } } }), { DLR_WORKER: 'off' });
    for (let i = 0; i < 3; i += 1) await callback(app, i).expect(200);
    const limited = await callback(app, 3).expect(429);
    expect(limited.body.error).toBe('rate_limited');
    for (let i = 0; i < 10; i += 1) await request(app.url).get('/v1/messages').set(admin).expect(200);
    await app.close();
  });

  it('refuses an invalid limit at start-up, naming the field', async () => {
    await expect(startTestApp(seedConfig({}, { server: { rateLimit: { api: { max: 0 } } } }))).rejects.toThrow(/server\.rateLimit\.api/);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp } from '../helpers/app';
import { dropDatabaseFor } from '../helpers/db';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('a callback to an account configured too late', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-unknown-'));
  afterAll(async () => {
    await dropDatabaseFor(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is refused 404 and logged, then replayed into a status once the account exists', async () => {
    const body = '[{"phone_number":"13800138000","biz_id":"late-1","success":true,"report_time":"2026-11-26 10:15:09"}]';
    const before = await startTestApp(seedConfig(), { DLR_WORKER: 'off' }, { dir });
    await request(before.url).post('/v1/callbacks/aliyun/shop-b').set('content-type', 'application/json').send(body).expect(404);
    await before.close();

    const config = seedConfig() as { providers: { aliyun: { accounts: Record<string, object> } } };
    config.providers.aliyun.accounts['shop-b'] = {};
    const after = await startTestApp(config, { DLR_WORKER: 'off' }, { dir });
    const res = await request(after.url)
      .post('/v1/replay')
      .set(admin)
      .send({ filter: { verdict: 'unknown_provider' }, dry_run: false })
      .expect(200);
    expect(res.body).toMatchObject({ replayed: 1, by_verdict: { accepted: 1 }, changes: 1 });
    const msg = await request(after.url).get('/v1/messages/aliyun/late-1?account=shop-b').set(admin).expect(200);
    expect(msg.body.message).toMatchObject({ account: 'shop-b', status: 'delivered' });
    await after.close();
  });
});

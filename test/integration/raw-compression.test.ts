import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { downloadBody, postBytes } from '../helpers/callbacks';
import { testDialect } from '../helpers/db';

/**
 * Raw bodies are stored deflated when that saves a tenth (issue #20, half the disk); every reader
 * gets the exact bytes back. A body of one repeated byte deflates about a thousandfold: its list
 * preview must stay a preview (inflated a step at a time), not the whole body.
 */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe(`raw bodies stored deflated (${testDialect})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig());
  });
  afterAll(() => app.close());

  const batch = Buffer.from(
    JSON.stringify(
      Array.from({ length: 100 }, (_, i) => ({
        phone_number: '13800138000',
        send_time: '2026-11-26 10:15:02',
        report_time: '2026-11-26 10:15:09',
        success: true,
        err_code: 'DELIVRD',
        err_msg: '用户接收成功',
        biz_id: `cmp-${i}`,
        out_id: 'x',
      })),
    ),
  );
  const bomb = Buffer.alloc(1024 * 1024 - 100, 'a'); // not JSON: refused, stored whole

  it('keeps fewer bytes than it received and gives every byte back', async () => {
    for (const body of [batch, bomb]) {
      const res = await postBytes(app, '/v1/callbacks/aliyun', body, { 'content-type': 'application/json' });
      expect([200, 400]).toContain(res.status);
    }
    const db = app.running.ctx.dbh.db;
    const rows = await db
      .selectFrom('raw_requests')
      .select(['id', 'body_size', 'body_encoding', sql<number | string>`length(body)`.as('stored')])
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.body_size)).toEqual([batch.length, bomb.length]);
    for (const r of rows) {
      expect(r.body_encoding).toBe('deflate');
      expect(Number(r.stored)).toBeLessThan(r.body_size / 4);
    }
    const [a, b] = rows;
    for (const [row, sent] of [
      [a, batch],
      [b, bomb],
    ] as const) {
      const whole = await request(app.url).get(`/v1/raw/${row.id}`).set(admin).expect(200);
      expect(sha256(Buffer.from(whole.body.body.content as string, 'utf8'))).toBe(sha256(sent));
      const streamed = await downloadBody(app, row.id);
      expect(sha256(streamed.body as Buffer)).toBe(sha256(sent));
      expect(streamed.headers['content-length']).toBe(String(sent.length));
    }
    const list = await request(app.url).get('/v1/raw?limit=10').set(admin).expect(200);
    const previews = (list.body.items as { id: string; body: { content: string; truncated: boolean } }[]).sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(previews[0].body.content).toBe(batch.subarray(0, 1024).toString('utf8'));
    expect(previews[1].body).toEqual({ encoding: 'text', content: 'a'.repeat(1024), truncated: true });
  });
});

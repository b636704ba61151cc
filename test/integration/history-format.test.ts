import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import request from 'supertest';
import { fixture } from '../helpers/fixtures';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { testDialect } from '../helpers/db';

/**
 * How history and message rows are stored (docs/performance.md, "History rows without what they
 * repeat"): a hashed dedupe key keeps 12 characters of its hash (32 before 2026-12-03), a report
 * that made an event has that event's ULID as its own and names it with '', and a message's row
 * leaves the attributes it was made with to its first report ('') — while the API answers with
 * the event's id and the attributes in full, and rows written the old way still catch their
 * duplicates. (pg-batch.test.ts holds every message's attributes to its history's changes.)
 */

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const batch = fixture('aliyun', 'smsreport-batch');
/** One of the batch's two reports, alone in its request (a single report goes its own way on both databases). */
const single = JSON.stringify([JSON.parse(batch.body.toString('utf8'))[0]]);

interface Stored {
  id: string;
  dedupe_key: string;
  event_id: string | null;
  type: string;
  status: string | null;
  error_code: string | null;
  occurred_at: string;
  received_at: string;
}

/** The hash of providers.md "Dedupe keys" (a status report without a provider event id), in full. */
function digest(r: Stored): string {
  return createHash('sha256')
    .update(JSON.stringify(['message.status', r.status, r.error_code ?? '', r.occurred_at]))
    .digest('base64url');
}

describe(`history and message rows: short dedupe keys, event ids named by the report's own, attributes left to the first report (${testDialect})`, () => {
  let app: TestApp;
  const db = () => app.running.ctx.dbh.db;
  const stored = () =>
    db()
      .selectFrom('reports')
      .select(['id', 'dedupe_key', 'event_id', 'type', 'status', 'error_code', 'occurred_at', 'received_at'])
      .orderBy('id')
      .execute() as Promise<Stored[]>;
  const post = (body: string) => request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(body).expect(200);

  beforeAll(async () => {
    // a subscription takes the delivered events (stored; the worker is off, nothing is sent) and
    // not the failed ones (rebuilt from the history): both must name the same ids
    app = await startTestApp(seedConfig(), { DLR_WORKER: 'off' });
    await request(app.url)
      .post('/v1/subscriptions')
      .set(admin)
      .send({ url: 'http://127.0.0.1:9/hook', filter: { statuses: ['delivered'] } })
      .expect(201);
  });
  afterAll(() => app.close());

  it('stores 12 characters of the hash, the event as the report’s own ULID, no type or receive time; answers with them in full', async () => {
    await post(batch.body.toString('utf8'));
    const rows = await stored();
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.dedupe_key).toBe(`h:${digest(r).slice(0, 12)}`);
      // the event: the report's own ULID; the type: message.status; the receive time: the raw request's id's
      expect(r).toMatchObject({ event_id: '', type: '', received_at: '' });
    }
    // the messages' rows leave their attributes to their first reports; the API answers them
    const attributes = { out_id: 'order-42', sms_size: '1' };
    expect((await db().selectFrom('messages').select('attributes').execute()).map((m) => m.attributes)).toEqual(['', '']);
    const list = await request(app.url).get('/v1/messages?provider=aliyun').set(admin).expect(200);
    expect(list.body.items.map((m: { attributes: object }) => m.attributes)).toEqual([
      { ...attributes, err_code: 'MK:0001' },
      { ...attributes, err_code: 'DELIVERED' },
    ]);
    // one event stored (the subscription takes deliveries), one rebuilt from the history: same ids either way
    const events = await db().selectFrom('events').select('id').execute();
    expect(events.map((e) => e.id)).toEqual([`evt_${rows.find((r) => r.status === 'delivered')!.id.slice(4)}`]);
    const raw = await request(app.url).get('/v1/raw?provider=aliyun').set(admin).expect(200);
    const [{ id: rawId, received_at: receivedAt }] = raw.body.items as { id: string; received_at: string }[];
    const detail = await request(app.url).get(`/v1/raw/${rawId}`).set(admin).expect(200);
    expect(detail.body.events.map((e: { type: string; received_at: string }) => [e.type, e.received_at])).toEqual(
      rows.map(() => ['message.status', receivedAt]),
    );
    expect(detail.body.events.map((e: { id: string }) => e.id)).toEqual(rows.map((r) => `evt_${r.id.slice(4)}`));
    for (const recipient of ['13800138000', '13900139000']) {
      const res = await request(app.url).get(`/v1/messages/aliyun/893412315000000000%5E0?recipient=${recipient}`).set(admin).expect(200);
      expect(res.body.message.attributes).toMatchObject(attributes);
      const [h] = res.body.history as { id: string; event_id: string; type: string; received_at: string }[];
      expect([h.type, h.received_at]).toEqual(['message.status', receivedAt]);
      expect(h.event_id).toBe(`evt_${h.id.slice(4)}`);
      expect(detail.body.events.map((e: { id: string }) => e.id)).toContain(h.event_id);
    }
  });

  it('catches the duplicates of rows written the old way (32 characters of hash, the event id in full)', async () => {
    for (const r of await stored()) {
      await sql`UPDATE reports SET dedupe_key = ${`h:${digest(r).slice(0, 32)}`}, event_id = ${`evt_${r.id.slice(4)}`} WHERE id = ${r.id}`.execute(db());
    }
    const before = (await stored()).length;
    await post(batch.body.toString('utf8')); // both reports again: the batch path (PostgreSQL: its locked path)
    await post(single); // one again, alone: the single report's path
    const rows = await db().selectFrom('reports').select(['id', 'dedupe_key', 'reason', 'changed', 'event_id']).orderBy('id').execute();
    const again = rows.slice(before);
    expect(again).toHaveLength(3);
    for (const r of again) {
      expect(r).toMatchObject({ reason: 'duplicate', changed: 0, event_id: null });
      expect(r.dedupe_key).toHaveLength(14);
    }
    // the old rows still answer with their event ids
    const res = await request(app.url).get('/v1/messages/aliyun/893412315000000000%5E0?recipient=13800138000').set(admin).expect(200);
    const history = res.body.history as { id: string; event_id: string | null; reason: string | null }[];
    expect(history.map((h) => [h.event_id === `evt_${h.id.slice(4)}`, h.reason])).toEqual([
      [true, null],
      [false, 'duplicate'],
      [false, 'duplicate'],
    ]);
    expect(history.slice(1).map((h) => h.event_id)).toEqual([null, null]);
  });
});

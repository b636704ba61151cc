import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { fixture } from '../helpers/fixtures';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { mailgunSigned } from '../helpers/sign';
import { maskPersonalData } from '../../src/util/mask';
import { expandFanout } from '../../src/outbox/expand';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const READ_TOKEN = 'read-only-token-0123456789';
const SUPPORT_TOKEN = 'support-token-0123456789';
const RIGHT_KEY = 'key-the-right-signing-key';
const config = (signingKey: string) => ({
  providers: { mailgun: { accounts: { default: { signingKey } } }, tencent: { accounts: { default: {} } } },
  tokens: [
    { token: READ_TOKEN, scopes: ['read'] },
    { name: 'support', token: SUPPORT_TOKEN, scopes: ['read', 'replay'] },
  ],
});
const support = { authorization: `Bearer ${SUPPORT_TOKEN}` };

/** What is stored, the deliveries of new events made first (the worker's step: src/outbox/expand.ts). */
async function counts(app: TestApp) {
  await expandFanout(app.running.ctx.dbh);
  const db = app.running.ctx.dbh.db;
  const n = async (t: 'messages' | 'reports' | 'events' | 'deliveries') =>
    Number(
      (
        await db
          .selectFrom(t)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return { messages: await n('messages'), reports: await n('reports'), events: await n('events'), deliveries: await n('deliveries') };
}

describe('replay after a fix', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-replay-'));
  let app: TestApp;
  let refusedId: string;

  beforeAll(async () => {
    // The service runs with a wrong Mailgun key: a genuine, correctly signed request is refused.
    const broken = await startTestApp(config('key-a-wrong-one-123'), { DLR_WORKER: 'off' }, { dir });
    const body = mailgunSigned(fixture('mailgun', 'failed-permanent').body, RIGHT_KEY);
    await request(broken.url).post('/v1/callbacks/mailgun').set('content-type', 'application/json').send(body).expect(401);
    const raws = await request(broken.url).get('/v1/raw?verdict=signature_invalid').set(admin).expect(200);
    refusedId = raws.body.items[0].id;
    await broken.close();
    // The key is fixed; the request is replayed long after its timestamp would have gone stale.
    app = await startTestApp(config(RIGHT_KEY), { DLR_WORKER: 'off' }, { dir });
    await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'https://erp.example.com/hook' }).expect(201);
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('needs the replay scope', async () => {
    await request(app.url).post(`/v1/raw/${refusedId}/replay`).expect(401);
    await request(app.url).post(`/v1/raw/${refusedId}/replay`).set('authorization', `Bearer ${READ_TOKEN}`).expect(403);
    await request(app.url).post('/v1/replay').set('authorization', `Bearer ${READ_TOKEN}`).send({ dry_run: true }).expect(403);
  });

  it('shows in a dry run what would change, and writes nothing', async () => {
    const before = await counts(app);
    const res = await request(app.url).post(`/v1/raw/${refusedId}/replay`).set(support).send({ dry_run: true }).expect(200);
    expect(res.body).toMatchObject({ dry_run: true, raw_id: refusedId, previous_verdict: 'signature_invalid', verdict: 'accepted', detail: null });
    expect(res.body.changes).toEqual([
      { message_id: '20240506101502.abc123@mg.example.com', recipient: 'bob@example.com', from: null, to: 'failed', version: 1 },
    ]);
    expect(res.body.events).toHaveLength(1);
    expect(await counts(app)).toEqual(before);
    const raw = await request(app.url).get(`/v1/raw/${refusedId}`).set(admin).expect(200);
    expect(raw.body.verdict).toBe('signature_invalid');
  });

  it('applies the refused request once replayed, and forwards its change', async () => {
    const res = await request(app.url).post(`/v1/raw/${refusedId}/replay`).set(support).send({ dry_run: false }).expect(200);
    expect(res.body).toMatchObject({ dry_run: false, verdict: 'accepted', changes: [{ to: 'failed', version: 1 }] });
    const raw = await request(app.url).get(`/v1/raw/${refusedId}`).set(admin).expect(200);
    expect(raw.body).toMatchObject({ verdict: 'accepted', detail: null });
    expect(raw.body.events).toHaveLength(1);
    const msg = await request(app.url).get('/v1/messages/mailgun/20240506101502.abc123@mg.example.com').set(admin).expect(200);
    expect(msg.body.message).toMatchObject({ status: 'failed', version: 1, error: { code: '550' } });
    expect((await counts(app)).deliveries).toBe(1);
  });

  it('changes and forwards nothing when replayed again', async () => {
    const before = await counts(app);
    const res = await request(app.url).post(`/v1/raw/${refusedId}/replay`).set(support).send({ dry_run: false }).expect(200);
    expect(res.body).toMatchObject({ verdict: 'duplicate', changes: [], events: [] });
    expect(await counts(app)).toEqual(before);
  });

  it('replays a filtered set in bulk, and audits every replay', async () => {
    const fx = fixture('tencent', 'status-array');
    await request(app.url).post('/v1/callbacks/tencent').set('content-type', 'application/json').send(fx.body.toString()).expect(200);
    await request(app.url).post('/v1/callbacks/tencent').set('content-type', 'application/json').send('{"broken').expect(400);
    const dry = await request(app.url)
      .post('/v1/replay')
      .set(support)
      .send({ filter: { provider: 'tencent' }, dry_run: true })
      .expect(200);
    expect(dry.body).toMatchObject({ dry_run: true, replayed: 2, by_verdict: { duplicate: 1, payload_invalid: 1 }, changes: 0 });
    await request(app.url)
      .post('/v1/replay')
      .set(support)
      .send({ filter: { verdcit: 'x' }, dry_run: true })
      .expect(400);

    const audit = await request(app.url).get('/v1/audit?action=replay').set(admin).expect(200);
    expect(
      audit.body.items.map((a: { actor: string; parameters: { dry_run: boolean }; result: { replayed: number } }) => [
        a.actor,
        a.parameters.dry_run,
        a.result.replayed,
      ]),
    ).toEqual([
      ['support', true, 2],
      ['support', false, 1],
      ['support', false, 1],
      ['support', true, 1],
    ]);
  });

  it('finds requests by a recipient in its masked form and shows GBK bodies as text', async () => {
    const fx = fixture('tencent', 'status-gbk');
    await request(app.url)
      .post('/v1/callbacks/tencent')
      .set('content-type', fx.contentType)
      .serialize((b: unknown) => b as string)
      .send(fx.body)
      .expect(200);
    // as a log line shows it: +861********00 (which also matches the other +861…00 numbers)
    const masked = maskPersonalData('+8613400134000');
    const found = await request(app.url)
      .get(`/v1/raw?q=${encodeURIComponent(masked)}`)
      .set(admin)
      .expect(200);
    expect(found.body.items.map((r: { provider: string }) => r.provider)).toEqual(['tencent', 'tencent']);
    expect(found.body.items[0].body).toMatchObject({ encoding: 'text', content: expect.stringContaining('用户不在服务区') });
    const exact = await request(app.url)
      .get(`/v1/raw?q=${encodeURIComponent('+8613400134000')}`)
      .set(admin)
      .expect(200);
    expect(exact.body.items.map((r: { id: string }) => r.id)).toEqual([found.body.items[0].id]);
    const byEmail = await request(app.url)
      .get(`/v1/raw?q=${encodeURIComponent('b***@example.com')}`)
      .set(admin)
      .expect(200);
    expect(byEmail.body.items.map((r: { id: string }) => r.id)).toEqual([refusedId]);
  });
});

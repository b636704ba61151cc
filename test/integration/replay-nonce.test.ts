import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { postBytes as post } from '../helpers/callbacks';
import { dropDatabaseFor } from '../helpers/db';
import { fixture } from '../helpers/fixtures';
import { mailgunSigned } from '../helpers/sign';
import { ingest, resolveTarget } from '../../src/ingest/ingest';
import type { RawCallback } from '../../src/raw/types';
import { purgeRaw } from '../../src/replay/retention';
import { newId } from '../../src/util/ids';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const KEY = 'key-mailgun-signing-0123456789';
const VONAGE_SECRET = 'vonage-signature-secret-1';
const DAY_MS = 24 * 60 * 60 * 1000;
const json = { 'content-type': 'application/json' };

const config = (signingKey = KEY) => ({
  providers: {
    mailgun: { accounts: { default: { signingKey } } },
    vonage: { kind: 'generic', preset: 'vonage', accounts: { default: { secret: VONAGE_SECRET } } },
  },
});

/** A Mailgun event with a fresh token; `event` changes what it reports. */
function mailgunEvent(messageId: string, event: 'delivered' | 'failed', opts: { timestamp?: number; token?: string } = {}): string {
  const doc = JSON.parse(fixture('mailgun', 'failed-permanent').body.toString()) as {
    'event-data': Record<string, unknown> & { message: { headers: Record<string, string> } };
  };
  doc['event-data'].message.headers['message-id'] = messageId;
  doc['event-data'].event = event;
  doc['event-data'].id = `ev-${messageId}-${event}`;
  return mailgunSigned(JSON.stringify(doc), KEY, opts);
}

/**
 * The forgery the issue describes: the signature object (timestamp, token, signature) of a genuine
 * request, which covers no event data, with event data of the attacker's choosing.
 */
function forged(genuine: string, messageId: string): string {
  const doc = JSON.parse(genuine) as { 'event-data': Record<string, unknown> & { message: { headers: Record<string, string> } } };
  doc['event-data'].event = 'delivered';
  delete doc['event-data'].severity;
  delete doc['event-data']['delivery-status'];
  doc['event-data'].id = `forged-${messageId}`;
  doc['event-data'].message.headers['message-id'] = messageId;
  return JSON.stringify(doc);
}

/** A Vonage receipt signed as Vonage signs (md5hash over the sorted parameters and the secret). */
function vonageReceipt(fields: Record<string, string>, nonce: string, at = Math.floor(Date.now() / 1000)): string {
  const params: Record<string, string> = { timestamp: String(at), nonce, ...fields };
  const base = Object.keys(params)
    .sort()
    .map((k) => `&${k}=${params[k].replace(/[&=]/g, '_')}`)
    .join('');
  params.sig = createHash('md5')
    .update(base + VONAGE_SECRET)
    .digest('hex');
  return JSON.stringify(params);
}
const receipt = (messageId: string) => ({
  msisdn: '447700900000',
  to: 'AcmeInc',
  messageId,
  status: 'delivered',
  'err-code': '0',
  'message-timestamp': '2024-05-06 10:15:09',
});

interface RawItem {
  id: string;
  verdict: string;
  detail: string | null;
}

async function newestRaw(app: TestApp, provider: string): Promise<RawItem> {
  const res = await request(app.url).get(`/v1/raw?provider=${provider}&limit=1`).set(admin).expect(200);
  return (res.body.items as RawItem[])[0];
}

async function rawOf(app: TestApp, id: string) {
  return (await request(app.url).get(`/v1/raw/${id}`).set(admin).expect(200)).body as { verdict: string; detail: string | null; events: unknown[] };
}

async function messageOf(app: TestApp, provider: string, id: string) {
  return (
    await request(app.url)
      .get(`/v1/messages/${provider}/${encodeURIComponent(id)}`)
      .set(admin)
      .expect(200)
  ).body as {
    message: { status: string; version: number };
    history: unknown[];
  };
}

async function nonceRows(app: TestApp, value: string) {
  return app.running.ctx.dbh.db.selectFrom('nonces').selectAll().where('value', '=', value).execute();
}

const tokenOf = (body: string) => (JSON.parse(body) as { signature: { token: string } }).signature.token;

describe('replay refuses a signature token (nonce) that another request used', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(config(), { DLR_WORKER: 'off' });
  });
  afterAll(() => app.close());

  it('Mailgun: a forged event on a used token stays refused when the refused requests are replayed', async () => {
    const genuine = mailgunEvent('nonce-a@mg.example.com', 'failed');
    await post(app, '/v1/callbacks/mailgun', genuine, json).expect(200);
    const first = await newestRaw(app, 'mailgun');
    expect(first.verdict).toBe('accepted');

    // live: refused as before, and raw-logged
    const copy = forged(genuine, 'nonce-a@mg.example.com');
    const live = await post(app, '/v1/callbacks/mailgun', copy, json).expect(401);
    expect(live.body).toEqual({ error: 'signature_invalid', detail: 'this signature token was used before (replayed request)' });
    const second = await newestRaw(app, 'mailgun');
    expect(second).toMatchObject({ verdict: 'signature_invalid' });

    // the documented repair must not let it in
    const res = await request(app.url)
      .post('/v1/replay')
      .set(admin)
      .send({ filter: { provider: 'mailgun', verdict: 'signature_invalid' }, dry_run: false })
      .expect(200);
    expect(res.body).toMatchObject({ replayed: 1, by_verdict: { signature_invalid: 1 }, changes: 0 });
    expect(res.body.results[0]).toMatchObject({
      raw_id: second.id,
      verdict: 'signature_invalid',
      detail: `this signature token was used by ${first.id} (replayed request)`,
      changes: [],
    });
    const stored = await rawOf(app, second.id);
    expect(stored).toMatchObject({ verdict: 'signature_invalid', detail: `this signature token was used by ${first.id} (replayed request)` });
    expect(stored.events).toEqual([]);
    const msg = await messageOf(app, 'mailgun', 'nonce-a@mg.example.com');
    expect(msg.message).toMatchObject({ status: 'failed', version: 1 });
    expect(msg.history).toHaveLength(1);

    // one replay at a time too
    const one = await request(app.url).post(`/v1/raw/${second.id}/replay`).set(admin).send({ dry_run: false }).expect(200);
    expect(one.body).toMatchObject({ verdict: 'signature_invalid', detail: expect.stringContaining(first.id) });

    // the request that used the token first replays as before: nothing changes
    const own = await request(app.url).post(`/v1/raw/${first.id}/replay`).set(admin).send({ dry_run: false }).expect(200);
    expect(own.body).toMatchObject({ previous_verdict: 'accepted', verdict: 'duplicate', detail: null, changes: [] });
    expect((await nonceRows(app, tokenOf(genuine))).map((n) => n.raw_id)).toEqual([first.id]);
  });

  it('Mailgun: a replay records the token for the request it replays; a dry run keeps nothing', async () => {
    const genuine = mailgunEvent('nonce-b@mg.example.com', 'failed');
    await post(app, '/v1/callbacks/mailgun', genuine, json).expect(200);
    const first = await newestRaw(app, 'mailgun');
    // as for a row recorded before raw ids were kept, or one a purge removed
    await app.running.ctx.dbh.db.deleteFrom('nonces').where('value', '=', tokenOf(genuine)).execute();

    const dry = await request(app.url).post(`/v1/raw/${first.id}/replay`).set(admin).send({ dry_run: true }).expect(200);
    // applied before (the nonce row was removed, not the reports): a duplicate now
    expect(dry.body).toMatchObject({ dry_run: true, verdict: 'duplicate' });
    expect(await nonceRows(app, tokenOf(genuine))).toEqual([]);

    await request(app.url).post(`/v1/raw/${first.id}/replay`).set(admin).send({ dry_run: false }).expect(200);
    expect((await nonceRows(app, tokenOf(genuine))).map((n) => n.raw_id)).toEqual([first.id]);
    // recorded again: a second use live is refused
    await post(app, '/v1/callbacks/mailgun', forged(genuine, 'nonce-b@mg.example.com'), json).expect(401);
  });

  it("a token recorded before raw ids were kept (migration 0002) is the accepted request's own, and another's for a refused copy", async () => {
    const genuine = mailgunEvent('nonce-c@mg.example.com', 'failed');
    await post(app, '/v1/callbacks/mailgun', genuine, json).expect(200);
    const first = await newestRaw(app, 'mailgun');
    await post(app, '/v1/callbacks/mailgun', forged(genuine, 'nonce-c@mg.example.com'), json).expect(401);
    const second = await newestRaw(app, 'mailgun');
    await app.running.ctx.dbh.db.updateTable('nonces').set({ raw_id: null }).where('value', '=', tokenOf(genuine)).execute();

    const copy = await request(app.url).post(`/v1/raw/${second.id}/replay`).set(admin).send({ dry_run: false }).expect(200);
    expect(copy.body).toMatchObject({
      verdict: 'signature_invalid',
      detail: 'this signature token was used by an earlier request (replayed request)',
      changes: [],
    });
    const own = await request(app.url).post(`/v1/raw/${first.id}/replay`).set(admin).send({ dry_run: false }).expect(200);
    expect(own.body).toMatchObject({ verdict: 'duplicate', changes: [] });
    expect((await nonceRows(app, tokenOf(genuine))).map((n) => n.raw_id)).toEqual([first.id]);
    expect((await messageOf(app, 'mailgun', 'nonce-c@mg.example.com')).message).toMatchObject({ status: 'failed', version: 1 });
  });

  it('a generic provider with a nonce (Vonage): the copy stays refused on replay, the original replays', async () => {
    const body = vonageReceipt(receipt('VN-1'), 'vonage-nonce-1');
    await post(app, '/v1/callbacks/vonage', body, json).expect(200);
    const first = await newestRaw(app, 'vonage');
    const again = await post(app, '/v1/callbacks/vonage', body, json).expect(401);
    expect(again.body.detail).toBe('this signature token was used before (replayed request)');
    const second = await newestRaw(app, 'vonage');

    const dry = await request(app.url)
      .post('/v1/replay')
      .set(admin)
      .send({ filter: { provider: 'vonage', verdict: 'signature_invalid' }, dry_run: true })
      .expect(200);
    expect(dry.body.results.map((r: { raw_id: string; verdict: string }) => [r.raw_id, r.verdict])).toEqual([[second.id, 'signature_invalid']]);
    const res = await request(app.url)
      .post('/v1/replay')
      .set(admin)
      .send({ filter: { provider: 'vonage', verdict: 'signature_invalid' }, dry_run: false })
      .expect(200);
    expect(res.body.results).toEqual([
      expect.objectContaining({ raw_id: second.id, verdict: 'signature_invalid', detail: `this signature token was used by ${first.id} (replayed request)` }),
    ]);
    expect((await rawOf(app, second.id)).verdict).toBe('signature_invalid');
    expect((await messageOf(app, 'vonage', 'VN-1')).history).toHaveLength(1);

    const own = await request(app.url).post(`/v1/raw/${first.id}/replay`).set(admin).send({ dry_run: false }).expect(200);
    expect(own.body).toMatchObject({ verdict: 'duplicate', changes: [] });
    expect((await nonceRows(app, 'vonage-nonce-1')).map((n) => [n.provider, n.raw_id])).toEqual([['vonage', first.id]]);
  });

  it('live, a nonce whose window has closed may be used again, as before', async () => {
    await post(app, '/v1/callbacks/vonage', vonageReceipt(receipt('VN-2'), 'vonage-nonce-2'), json).expect(200);
    // the window (twice the tolerance) has passed
    await app.running.ctx.dbh.db.updateTable('nonces').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('value', '=', 'vonage-nonce-2').execute();
    await post(app, '/v1/callbacks/vonage', vonageReceipt(receipt('VN-3'), 'vonage-nonce-2'), json).expect(200);
    const latest = await newestRaw(app, 'vonage');
    expect((await nonceRows(app, 'vonage-nonce-2')).map((n) => n.raw_id)).toEqual([latest.id]);
  });
});

describe('replay months later: the expiry of a nonce does not reopen it', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(config(), { DLR_WORKER: 'off' });
  });
  afterAll(() => app.close());

  it('still refuses the copy after the window closed, purges ran and live traffic went on', async () => {
    const ctx = app.running.ctx;
    const target = resolveTarget(ctx, 'mailgun', 'default');
    const at = Date.now() - 90 * DAY_MS;
    const raw = (body: string, receivedAt: number): RawCallback => ({
      id: newId('raw'),
      provider: 'mailgun',
      account: 'default',
      method: 'POST',
      url: '/v1/callbacks/mailgun',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(body),
      remoteAddr: '127.0.0.1',
      receivedAt: new Date(receivedAt),
    });
    // 90 days ago: the genuine request is accepted, its copy with a forged event refused
    const genuine = mailgunEvent('old@mg.example.com', 'failed', { timestamp: Math.floor(at / 1000) });
    const a = raw(genuine, at);
    await ingest(ctx, target, a);
    const b = raw(forged(genuine, 'old@mg.example.com'), at + 1000);
    await expect(ingest(ctx, target, b)).rejects.toThrow('this signature token was used before (replayed request)');

    // today: the retention (100 days) purges older raw requests; live traffic goes on
    await purgeRaw(ctx, new Date(Date.now() - 100 * DAY_MS), 'test');
    await post(app, '/v1/callbacks/mailgun', mailgunEvent('today@mg.example.com', 'failed'), json).expect(200);
    expect((await nonceRows(app, tokenOf(genuine))).map((n) => n.raw_id)).toEqual([a.id]);

    const res = await request(app.url).post(`/v1/raw/${b.id}/replay`).set(admin).send({ dry_run: false }).expect(200);
    expect(res.body).toMatchObject({ verdict: 'signature_invalid', detail: `this signature token was used by ${a.id} (replayed request)`, changes: [] });
    expect((await messageOf(app, 'mailgun', 'old@mg.example.com')).message).toMatchObject({ status: 'failed', version: 1 });

    // a purge that takes the first request but not its copy keeps the token's record
    await purgeRaw(ctx, new Date(at + 500), 'test');
    await request(app.url).get(`/v1/raw/${a.id}`).set(admin).expect(404);
    const after = await request(app.url).post(`/v1/raw/${b.id}/replay`).set(admin).send({ dry_run: false }).expect(200);
    expect(after.body).toMatchObject({ verdict: 'signature_invalid', detail: `this signature token was used by ${a.id} (replayed request)` });

    // once every request that could carry the token is purged, its record goes too
    await purgeRaw(ctx, new Date(at + DAY_MS), 'test');
    await request(app.url).get(`/v1/raw/${b.id}`).set(admin).expect(404);
    expect(await nonceRows(app, tokenOf(genuine))).toEqual([]);
  });
});

describe('a request replayed after a fix claims its token', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-replay-nonce-'));
  afterAll(async () => {
    await dropDatabaseFor(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a dry run records nothing; the replay records the token, so a live copy is refused', async () => {
    const broken = await startTestApp(config('key-a-wrong-one-123'), { DLR_WORKER: 'off' }, { dir });
    const genuine = mailgunEvent('fixed@mg.example.com', 'failed');
    await post(broken, '/v1/callbacks/mailgun', genuine, json).expect(401);
    const refused = await newestRaw(broken, 'mailgun');
    await broken.close();

    const app = await startTestApp(config(), { DLR_WORKER: 'off' }, { dir });
    try {
      const dry = await request(app.url).post(`/v1/raw/${refused.id}/replay`).set(admin).send({ dry_run: true }).expect(200);
      expect(dry.body).toMatchObject({ verdict: 'accepted', changes: [{ to: 'failed' }] });
      expect(await nonceRows(app, tokenOf(genuine))).toEqual([]);

      const res = await request(app.url).post(`/v1/raw/${refused.id}/replay`).set(admin).send({ dry_run: false }).expect(200);
      expect(res.body).toMatchObject({ verdict: 'accepted', changes: [{ to: 'failed' }] });
      expect((await nonceRows(app, tokenOf(genuine))).map((n) => n.raw_id)).toEqual([refused.id]);
      const live = await post(app, '/v1/callbacks/mailgun', forged(genuine, 'fixed@mg.example.com'), json).expect(401);
      expect(live.body.detail).toBe('this signature token was used before (replayed request)');
      expect((await messageOf(app, 'mailgun', 'fixed@mg.example.com')).message).toMatchObject({ status: 'failed', version: 1 });
    } finally {
      await app.close();
    }
  });
});

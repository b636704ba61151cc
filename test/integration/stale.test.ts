import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { openDatabase } from '../../src/db/connect';
import { sweepIntervalMs, sweepOnce } from '../../src/outbox/stale-sweep';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { postBytes } from '../helpers/callbacks';
import { testDialect } from '../helpers/db';
import { startSubscriber, type Subscriber } from '../helpers/subscriber';

/**
 * Messages that never got a final report (issue #16, src/status/stale.ts): a message or a send
 * registration not final within the account's finalAfterSeconds is found stale once — one
 * `message.stale` event to subscribers, listed by `GET /v1/messages?stale=true`, counted in
 * `/v1/stats` and `dlr_messages_stale_total` — and a final report arriving later clears it.
 * The sweep is run by hand (`sweepOnce` at a chosen time) so nothing waits on the clock.
 */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const TOKEN = 'gateway-callback-token';
const FINAL_AFTER = 2;

const validateEvent = (() => {
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(fs.readFileSync(path.join(__dirname, '../../schemas/status-event.schema.json'), 'utf8')) as object);
})();

/** An unsigned JSON gateway (URL token) whose reports may say `sent`, a status that is not final. */
const GATEWAY = {
  kind: 'generic',
  channel: 'sms',
  format: { type: 'json' },
  mapping: { messageId: 'id', recipient: 'to', status: 'status', occurredAt: 'at' },
  statuses: { map: { sent: 'sent', delivered: 'delivered', failed: 'failed' } },
  ack: { body: { ok: true } },
  accounts: { default: { token: TOKEN, finalAfterSeconds: FINAL_AFTER } },
};

function report(app: TestApp, id: string, status: string, to = '+8613800138000') {
  return postBytes(app, `/v1/callbacks/gw?token=${TOKEN}`, JSON.stringify({ id, to, status, at: new Date().toISOString() }), {
    'content-type': 'application/json',
  }).expect(200);
}

function later(seconds: number): Date {
  return new Date(Date.now() + seconds * 1000);
}

async function staleEvents(sub: Subscriber, count: number) {
  for (let i = 0; i < 100 && sub.received.filter((r) => JSON.parse(r.body).type === 'message.stale').length < count; i += 1) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return sub.received.map((r) => JSON.parse(r.body) as Record<string, unknown>).filter((e) => e.type === 'message.stale');
}

describe('stale messages', () => {
  let app: TestApp;
  let sub: Subscriber;
  let staleOnly: Subscriber;
  beforeAll(async () => {
    sub = await startSubscriber();
    staleOnly = await startSubscriber();
    app = await startTestApp({ providers: { gw: GATEWAY }, delivery: { allowPrivateNetworks: true } });
    await request(app.url).post('/v1/subscriptions').set(admin).send({ url: sub.url }).expect(201);
    await request(app.url)
      .post('/v1/subscriptions')
      .set(admin)
      .send({ url: staleOnly.url, filter: { types: ['message.stale'] } })
      .expect(201);
  });
  afterAll(async () => {
    await app.close();
    await sub.close();
    await staleOnly.close();
  });

  it('sweeps at least every min(finalAfterSeconds, 60) seconds', () => {
    expect(sweepIntervalMs(app.running.ctx)).toBe(FINAL_AFTER * 1000);
  });

  it('finds a message left at a non-final status stale once, and a final report clears it', async () => {
    await report(app, 'S-1', 'sent');
    await report(app, 'D-1', 'delivered'); // final at once: never stale
    expect(await sweepOnce(app.running.ctx, new Date())).toBe(0); // not due yet

    expect(await sweepOnce(app.running.ctx, later(FINAL_AFTER + 1))).toBe(1);
    expect(await sweepOnce(app.running.ctx, later(FINAL_AFTER + 5))).toBe(0); // once per message

    const [event] = await staleEvents(sub, 1);
    // a subscription may take only these (filter types)
    expect((await staleEvents(staleOnly, 1)).map((e) => e.message_id)).toEqual(['S-1']);
    expect(staleOnly.received.map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual(['message.stale']);
    expect(event).toMatchObject({ type: 'message.stale', provider: 'gw', message_id: 'S-1', status: 'sent', terminal: false, version: 1, raw_id: null });
    expect(validateEvent(event)).toBe(true);

    const listed = await request(app.url).get('/v1/messages?stale=true').set(admin).expect(200);
    expect(listed.body.items.map((m: { message_id: string }) => m.message_id)).toEqual(['S-1']);
    expect(listed.body.items[0].stale_since).toBe(event.occurred_at);
    const others = await request(app.url).get('/v1/messages?stale=false&provider=gw').set(admin).expect(200);
    expect(others.body.items.map((m: { message_id: string }) => m.message_id)).toEqual(['D-1']);
    expect((await request(app.url).get('/v1/stats?provider=gw').set(admin).expect(200)).body.stale).toBe(1);
    const metrics = await request(app.url).get('/metrics').set(admin).expect(200);
    expect(metrics.text).toMatch(/dlr_messages_stale_total\{provider="gw",account="default"\} 1/);

    // the provider reports after all: forwarded as usual, no longer stale
    await report(app, 'S-1', 'delivered');
    const shown = await request(app.url).get('/v1/messages/gw/S-1').set(admin).expect(200);
    expect(shown.body.message).toMatchObject({ status: 'delivered', version: 2, stale_since: null });
    expect((await request(app.url).get('/v1/messages?stale=true').set(admin).expect(200)).body.items).toEqual([]);
    for (let i = 0; i < 100 && !sub.received.some((r) => r.body.includes('"S-1"') && r.body.includes('"delivered"')); i += 1) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const events = sub.received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(events.find((e) => e.message_id === 'S-1' && e.status === 'delivered')).toMatchObject({
      type: 'message.status',
      previous_status: 'sent',
    });
  });

  it('finds a registered send the provider never called back about', async () => {
    await request(app.url)
      .post('/v1/messages')
      .set(admin)
      .send({ provider: 'gw', message_id: 'R-1', recipient: '+8613900139000', reference: 'order-7', metadata: { shop: 3 } })
      .expect(201);
    await request(app.url).post('/v1/messages').set(admin).send({ provider: 'gw', message_id: 'R-2', recipient: '+8613900139001' }).expect(201);
    await report(app, 'R-2', 'delivered', '+8613900139001'); // this one did get its report

    expect(await sweepOnce(app.running.ctx, later(FINAL_AFTER + 1))).toBe(1);
    const events = await staleEvents(sub, 2);
    const event = events.find((e) => e.message_id === 'R-1');
    expect(event).toMatchObject({ status: null, version: 0, reference: 'order-7', metadata: { shop: 3 }, recipient: '+8613900139000' });
    expect(validateEvent(event)).toBe(true);
    const shown = await request(app.url).get('/v1/messages/gw/R-1').set(admin).expect(200);
    expect(shown.body.message).toMatchObject({ status: null, reference: 'order-7' });
    expect(shown.body.message.stale_since).not.toBeNull();
    expect(shown.body.history).toEqual([]);
  });

  it('a registration for every recipient that never got a report is stale until one comes', async () => {
    await request(app.url).post('/v1/messages').set(admin).send({ provider: 'gw', message_id: 'ALL-1', reference: 'campaign-1' }).expect(201);
    expect(await sweepOnce(app.running.ctx, later(FINAL_AFTER + 1))).toBe(1);
    expect(
      (await request(app.url).get('/v1/messages?stale=true').set(admin).expect(200)).body.items.map((m: { message_id: string }) => m.message_id),
    ).toContain('ALL-1');
    await report(app, 'ALL-1', 'sent', '+8613700137000');
    const stale = (await request(app.url).get('/v1/messages?stale=true').set(admin).expect(200)).body.items;
    expect(stale.map((m: { message_id: string }) => m.message_id)).not.toContain('ALL-1');
    // the recipient's own message is watched from its report on
    expect(await sweepOnce(app.running.ctx, later(FINAL_AFTER + 1))).toBe(1);
  });
});

// Replicas share a PostgreSQL database (SQLite is one process: its sweeps share one writer).
const onPostgres = testDialect === 'postgres' ? describe : describe.skip;

onPostgres('stale sweep across replicas', () => {
  it('two replicas sweeping the same database at once find each message stale once', async () => {
    const sub = await startSubscriber();
    const app = await startTestApp({ providers: { gw: GATEWAY }, delivery: { allowPrivateNetworks: true } }, { DLR_WORKER: 'off' });
    try {
      await request(app.url).post('/v1/subscriptions').set(admin).send({ url: sub.url }).expect(201);
      for (let i = 0; i < 30; i += 1) await report(app, `P-${i}`, 'sent');
      const ctx = app.running.ctx;
      // a second replica: its own connections to the same database
      const other = openDatabase(ctx.config.databaseUrl, { poolSize: 4 });
      try {
        const at = later(FINAL_AFTER + 1);
        const counts = await Promise.all([
          sweepOnce(ctx, at),
          sweepOnce({ ...ctx, dbh: other }, at),
          sweepOnce(ctx, at),
          sweepOnce({ ...ctx, dbh: other }, at),
        ]);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
        const events = await ctx.dbh.db.selectFrom('events').select(['message_pk']).where('type', '=', 'message.stale').execute();
        expect(new Set(events.map((e) => e.message_pk)).size).toBe(30);
        expect(events).toHaveLength(30);
      } finally {
        await other.close();
      }
    } finally {
      await app.close();
      await sub.close();
    }
  });
});

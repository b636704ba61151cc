/**
 * `Idempotency-Key` on admin POSTs (issue #18, src/http/idempotency.ts), on the real server and
 * database (SQLite, and PostgreSQL in the `postgres` project): the same key and body answer the first
 * answer without doing the work again, another body 409, keys are per token, expire after 24 h and
 * are purged by the retention job.
 */
import request from 'supertest';
import { ABANDONED_AFTER_MS, MAX_KEY_CHARS } from '../../src/http/idempotency';
import { purgeRaw } from '../../src/replay/retention';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { postBytes } from '../helpers/callbacks';
import { fixture } from '../helpers/fixtures';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const OTHER_ADMIN_TOKEN = 'idempotency-other-admin-0123456789';
const other = { authorization: `Bearer ${OTHER_ADMIN_TOKEN}` };
const config = {
  providers: { aliyun: { accounts: { default: {} } }, tencent: { accounts: { default: {} } } },
  tokens: [{ name: 'erp', token: OTHER_ADMIN_TOKEN, scopes: ['admin'] }],
  delivery: { allowPrivateNetworks: true },
};
const KEY = 'Idempotency-Key';

describe('Idempotency-Key on admin POSTs', () => {
  let app: TestApp;
  let seq = 0;
  /** A new key per test: keys live 24 h. */
  const newKey = () => `key-${Date.now()}-${(seq += 1)}`;
  const db = () => app.running.ctx.dbh.db;
  const countSubscriptions = async () =>
    Number(
      (
        await db()
          .selectFrom('subscriptions')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    app = await startTestApp(config, { DLR_WORKER: 'off' });
  });
  afterAll(() => app.close());

  it('answers the same key and body with the first answer, and creates one subscription', async () => {
    const key = newKey();
    const before = await countSubscriptions();
    const body = { url: 'https://erp.example.com/hooks/1', description: 'first', filter: { statuses: ['failed'] } };
    const first = await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send(body).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // the same body, its keys in another order: the same request
    const again = await request(app.url)
      .post('/v1/subscriptions')
      .set(admin)
      .set(KEY, key)
      .send({ filter: { statuses: ['failed'] }, description: 'first', url: 'https://erp.example.com/hooks/1' })
      .expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(again.body.secret).toMatch(/^whsec_/);
    expect(await countSubscriptions()).toBe(before + 1);
  });

  it('answers 409 for the same key with another body, and does nothing', async () => {
    const key = newKey();
    await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send({ url: 'https://erp.example.com/hooks/2' }).expect(201);
    const before = await countSubscriptions();
    const res = await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send({ url: 'https://erp.example.com/hooks/3' }).expect(409);
    expect(res.body.error).toBe('idempotency_key_reused');
    expect(res.body.detail).toContain('another request');
    expect(res.body.detail).toContain('send a new key');
    // the same key on another route is another request too
    const sub = (await request(app.url).get('/v1/subscriptions').set(admin).expect(200)).body.items[0].id as string;
    await request(app.url).post(`/v1/subscriptions/${sub}/rotate-secret`).set(admin).set(KEY, key).expect(409);
    expect(await countSubscriptions()).toBe(before);
  });

  it('keeps keys per token: another token with the same key does the work', async () => {
    const key = newKey();
    const body = { url: 'https://erp.example.com/hooks/4' };
    const mine = await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send(body).expect(201);
    const theirs = await request(app.url).post('/v1/subscriptions').set(other).set(KEY, key).send(body).expect(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
    const rows = await db().selectFrom('idempotency_keys').select(['actor', 'status']).where('key', '=', key).orderBy('actor').execute();
    expect(rows).toEqual([
      { actor: 'admin (DLR_ADMIN_TOKEN)', status: 201 },
      { actor: 'erp', status: 201 },
    ]);
  });

  it('rotates a secret once for one key', async () => {
    const sub = (await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'https://erp.example.com/hooks/5' }).expect(201)).body;
    const key = newKey();
    const first = await request(app.url).post(`/v1/subscriptions/${sub.id}/rotate-secret`).set(admin).set(KEY, key).expect(200);
    const again = await request(app.url).post(`/v1/subscriptions/${sub.id}/rotate-secret`).set(admin).set(KEY, key).expect(200);
    expect(again.body.secret).toBe(first.body.secret);
    const row = await db().selectFrom('subscriptions').select(['secret', 'previous_secret']).where('id', '=', sub.id).executeTakeFirstOrThrow();
    // rotated once: the previous secret is the one it was created with
    expect(row).toEqual({ secret: first.body.secret, previous_secret: sub.secret });
  });

  it('keeps the answers of retry-dead, a delivery retry and a registration', async () => {
    const sub = (await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'https://erp.example.com/hooks/6' }).expect(201)).body.id as string;
    const k1 = newKey();
    const dead = await request(app.url).post(`/v1/subscriptions/${sub}/retry-dead`).set(admin).set(KEY, k1).expect(200);
    const deadAgain = await request(app.url).post(`/v1/subscriptions/${sub}/retry-dead`).set(admin).set(KEY, k1).expect(200);
    expect([deadAgain.body, deadAgain.headers['idempotent-replayed']]).toEqual([dead.body, 'true']);

    // a 4xx is the first answer too
    const k2 = newKey();
    const missing = await request(app.url).post('/v1/deliveries/dlv_01JD0000000000000000000000/retry').set(admin).set(KEY, k2).expect(404);
    const missingAgain = await request(app.url).post('/v1/deliveries/dlv_01JD0000000000000000000000/retry').set(admin).set(KEY, k2).expect(404);
    expect([missingAgain.body, missingAgain.headers['idempotent-replayed']]).toEqual([missing.body, 'true']);

    const k3 = newKey();
    const reg = { provider: 'aliyun', message_id: 'idem-1', reference: 'order-1' };
    const first = await request(app.url).post('/v1/messages').set(admin).set(KEY, k3).send(reg).expect(201);
    const again = await request(app.url).post('/v1/messages').set(admin).set(KEY, k3).send(reg).expect(201);
    expect([again.body, again.headers['idempotent-replayed']]).toEqual([first.body, 'true']);
    await request(app.url)
      .post('/v1/messages')
      .set(admin)
      .set(KEY, k3)
      .send({ ...reg, reference: 'order-2' })
      .expect(409);
    const stored = await db().selectFrom('registrations').select('reference').where('message_id', '=', 'idem-1').executeTakeFirstOrThrow();
    expect(stored.reference).toBe('order-1');
  });

  it('answers a replay again as it was: `accepted`, not the `duplicate` a second replay would be', async () => {
    await postBytes(app, '/v1/callbacks/tencent', 'nonsense', { 'content-type': 'application/json' }).expect(400);
    const refused = (await request(app.url).get('/v1/raw?provider=tencent&verdict=payload_invalid&limit=1').set(admin).expect(200)).body.items[0].id;
    // the stored bytes fixed as a parser fix would: made the provider's real report
    const fx = fixture('tencent', 'status-array');
    await db().updateTable('raw_requests').set({ body: fx.body, body_size: fx.body.length }).where('id', '=', refused).execute();
    const key = newKey();
    const first = await request(app.url).post(`/v1/raw/${refused}/replay`).set(admin).set(KEY, key).send({ dry_run: false }).expect(200);
    expect(first.body).toMatchObject({ verdict: 'accepted' });
    expect(first.body.changes.length).toBeGreaterThan(0);
    const again = await request(app.url).post(`/v1/raw/${refused}/replay`).set(admin).set(KEY, key).send({ dry_run: false }).expect(200);
    expect([again.body, again.headers['idempotent-replayed']]).toEqual([first.body, 'true']);
    const fresh = await request(app.url).post(`/v1/raw/${refused}/replay`).set(admin).set(KEY, newKey()).send({ dry_run: false }).expect(200);
    expect(fresh.body).toMatchObject({ verdict: 'duplicate', changes: [] });
  });

  it('answers 409 while the first request with the key is still being served, and takes over a lost one', async () => {
    const key = newKey();
    const body = { url: 'https://erp.example.com/hooks/7' };
    await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send(body).expect(201);
    // as the row stands while the first request is being served: no answer yet
    const now = Date.now();
    await db()
      .updateTable('idempotency_keys')
      .set({ status: null, body: null, created_at: new Date(now).toISOString() })
      .where('key', '=', key)
      .execute();
    const busy = await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send(body).expect(409);
    expect(busy.body).toMatchObject({ error: 'idempotency_key_in_use' });
    expect(busy.body.detail).toContain('retry in a moment');
    // a first request that never answered (the process stopped) frees its key after a while
    await db()
      .updateTable('idempotency_keys')
      .set({ created_at: new Date(now - ABANDONED_AFTER_MS - 1000).toISOString() })
      .where('key', '=', key)
      .execute();
    const taken = await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send(body).expect(201);
    expect(taken.headers['idempotent-replayed']).toBeUndefined();
  });

  it('serves two requests racing with one key once', async () => {
    const key = newKey();
    const before = await countSubscriptions();
    const body = { url: 'https://erp.example.com/hooks/8' };
    const answers = await Promise.all([1, 2, 3].map(() => request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send(body)));
    for (const a of answers) expect([201, 409]).toContain(a.status);
    expect(answers.filter((a) => a.status === 201 && a.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await countSubscriptions()).toBe(before + 1);
  });

  it('forgets a key after 24 h, and the retention purge deletes expired keys only', async () => {
    const key = newKey();
    await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send({ url: 'https://erp.example.com/hooks/9' }).expect(201);
    const live = newKey();
    await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, live).send({ url: 'https://erp.example.com/hooks/10' }).expect(201);
    const past = new Date(Date.now() - 1000).toISOString();
    await db().updateTable('idempotency_keys').set({ expires_at: past }).where('key', '=', key).execute();
    // expired, not yet purged: the key is free again, for any body
    await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, key).send({ url: 'https://erp.example.com/hooks/11' }).expect(201);

    await db().updateTable('idempotency_keys').set({ expires_at: past }).where('key', '=', key).execute();
    await purgeRaw(app.running.ctx, new Date(0), 'test');
    const keys = (await db().selectFrom('idempotency_keys').select('key').where('key', 'in', [key, live]).execute()).map((r) => r.key);
    expect(keys).toEqual([live]);
  });

  it(`takes keys of up to ${MAX_KEY_CHARS} characters, and refuses a longer one`, async () => {
    const longest = `${newKey()}-`.padEnd(MAX_KEY_CHARS, 'x');
    await request(app.url).post('/v1/subscriptions').set(admin).set(KEY, longest).send({ url: 'https://erp.example.com/hooks/12' }).expect(201);
    const res = await request(app.url)
      .post('/v1/subscriptions')
      .set(admin)
      .set(KEY, `${longest}x`)
      .send({ url: 'https://erp.example.com/hooks/12' })
      .expect(400);
    expect(res.body.detail).toContain(`1 to ${MAX_KEY_CHARS}`);
  });

  it('leaves requests without a key as they were: each one does the work', async () => {
    const before = await countSubscriptions();
    const body = { url: 'https://erp.example.com/hooks/13' };
    await request(app.url).post('/v1/subscriptions').set(admin).send(body).expect(201);
    await request(app.url).post('/v1/subscriptions').set(admin).send(body).expect(201);
    expect(await countSubscriptions()).toBe(before + 2);
  });
});

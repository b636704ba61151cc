import { createHash, createHmac } from 'node:crypto';
import request from 'supertest';
import { downloadBody, lastRaw, postBytes } from '../helpers/callbacks';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { fixture } from '../helpers/fixtures';

/**
 * Presets of issue #17 over real HTTP and a real database: a MessageBird status report by GET
 * (the report in the query string, which the raw log keeps as the body) accepted only for a
 * provider whose definition enables GET, on the fast path and through express (callback rate
 * limit configured); a Resend event signed the Svix way; a Postmark record with basic auth.
 */

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const PUBLIC_URL = 'https://dlr.example.com';
const MB_KEY = 'messagebird-signing-key-http-0123';
const RESEND_KEY = Buffer.from('resend-http-signing-key-0123456789');
const POSTMARK = { username: 'postmark-hook', password: 'postmark-password-0123' };

const CONFIG = {
  providers: {
    messagebird: { kind: 'generic', preset: 'messagebird', accounts: { default: { secret: MB_KEY, publicUrl: PUBLIC_URL } } },
    resend: { kind: 'generic', preset: 'resend', accounts: { default: { secret: `whsec_${RESEND_KEY.toString('base64')}` } } },
    postmark: { kind: 'generic', preset: 'postmark', accounts: { default: POSTMARK } },
  },
};

/** MessageBird-Signature-JWT as MessageBird's SDK documents it: HS256, url_hash of the URL called, nbf/exp, written out with node:crypto. */
function messageBirdJwt(pathAndQuery: string, now = Math.floor(Date.now() / 1000)): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const head = part({ alg: 'HS256', typ: 'JWT' });
  const claims = part({
    iss: 'MessageBird',
    nbf: now,
    exp: now + 60,
    jti: `jti-${now}-${Math.random()}`,
    url_hash: createHash('sha256')
      .update(PUBLIC_URL + pathAndQuery)
      .digest('hex'),
  });
  return `${head}.${claims}.${createHmac('sha256', MB_KEY).update(`${head}.${claims}`).digest('base64url')}`;
}

describe.each([
  ['the fast path', {}],
  ['express (callback rate limit configured)', { server: { rateLimit: { callbacks: { windowSeconds: 60, max: 1000 } } } }],
])('callbacks by GET through %s', (_label, extra) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ...CONFIG, ...extra });
  });
  afterAll(async () => {
    await app.close();
  });

  it('accepts a signed MessageBird status report by GET and keeps its query string as the raw body', async () => {
    const query = fixture('messagebird', 'delivered').body.toString();
    const path = `/v1/callbacks/messagebird?${query}`;
    const res = await request(app.url).get(path).set('messagebird-signature-jwt', messageBirdJwt(path)).expect(200);
    expect(res.text).toBe('OK');
    const raw = await lastRaw(app, 'messagebird');
    expect(raw).toMatchObject({ verdict: 'accepted' });
    expect((await downloadBody(app, raw.id)).body.toString()).toBe(query);
    const msg = await request(app.url).get('/v1/messages/messagebird/e8077d803532c0b5937c639b60216938').set(admin).expect(200);
    expect(msg.body.message).toMatchObject({ status: 'delivered', recipient: '+31612345678' });
    // replay runs the stored GET through today's code: verified again at its receive time, nothing new
    const replay = await request(app.url).post(`/v1/raw/${raw.id}/replay`).set(admin).send({ dry_run: true }).expect(200);
    expect(JSON.stringify(replay.body)).toMatch(/"verdict":"(duplicate|accepted)"/);
    expect(JSON.stringify(replay.body)).not.toMatch(/signature_invalid|payload_invalid/);
  });

  it('refuses a report whose query was changed after signing, and logs it', async () => {
    const path = `/v1/callbacks/messagebird?${fixture('messagebird', 'delivery-failed').body.toString()}`;
    const token = messageBirdJwt(path);
    const res = await request(app.url).get(path.replace('status=delivery_failed', 'status=delivered')).set('messagebird-signature-jwt', token).expect(401);
    expect(res.body).toMatchObject({ error: 'signature_invalid' });
    expect(await lastRaw(app, 'messagebird')).toMatchObject({ verdict: 'signature_invalid' });
  });

  it('refuses a stale token', async () => {
    const path = `/v1/callbacks/messagebird?${fixture('messagebird', 'expired').body.toString()}`;
    const res = await request(app.url)
      .get(path)
      .set('messagebird-signature-jwt', messageBirdJwt(path, Math.floor(Date.now() / 1000) - 3600))
      .expect(401);
    expect(res.body.detail).toMatch(/expired/);
  });

  it('answers a GET to a provider that posts as any unknown route, and logs nothing for it', async () => {
    const before = (await request(app.url).get('/v1/raw?provider=resend').set(admin).expect(200)).body.items.length;
    await request(app.url).get('/v1/callbacks/resend?type=email.delivered').expect(404);
    await request(app.url).get('/v1/callbacks/aliyun').expect(404);
    expect((await request(app.url).get('/v1/raw?provider=resend').set(admin).expect(200)).body.items.length).toBe(before);
  });
});

describe('signed presets over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(CONFIG);
  });
  afterAll(async () => {
    await app.close();
  });

  it('resend: accepts an event signed with the whsec_ secret, refuses a forged one', async () => {
    const body = fixture('resend', 'bounced').body;
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `v1,${createHmac('sha256', RESEND_KEY).update(`msg_http_1.${ts}.`).update(body).digest('base64')}`;
    const headers = { 'content-type': 'application/json', 'svix-id': 'msg_http_1', 'svix-timestamp': ts, 'svix-signature': sig };
    await postBytes(app, '/v1/callbacks/resend', body, headers).expect(200);
    const msg = await request(app.url).get('/v1/messages/resend/56761188-7520-42d8-8898-ff6fc54ce618').set(admin).expect(200);
    expect(msg.body.message).toMatchObject({ status: 'failed', recipient: 'delivered@resend.dev' });
    const forged = Buffer.from(body.toString().replace('Permanent', 'Transient'));
    const res = await postBytes(app, '/v1/callbacks/resend', forged, headers).expect(401);
    expect(res.body.error).toBe('signature_invalid');
  });

  it('postmark: accepts a record with the account basic auth, refuses one without', async () => {
    const body = fixture('postmark', 'delivery').body;
    const auth = `Basic ${Buffer.from(`${POSTMARK.username}:${POSTMARK.password}`).toString('base64')}`;
    await postBytes(app, '/v1/callbacks/postmark', body, { 'content-type': 'application/json', authorization: auth }).expect(200);
    await postBytes(app, '/v1/callbacks/postmark', body, { 'content-type': 'application/json' }).expect(401);
    expect(await lastRaw(app, 'postmark')).toMatchObject({ verdict: 'signature_invalid' });
  });
});

describe('HEAD for a provider that checks its URL first (Mandrill)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      ...CONFIG,
      providers: {
        ...CONFIG.providers,
        mandrill: { kind: 'generic', preset: 'mandrill', accounts: { default: { secret: 'mandrill-key-0123', publicUrl: PUBLIC_URL } } },
      },
    });
  });
  afterAll(() => app.close());

  it('answers 200 to a HEAD on a provider whose definition takes it, records nothing, and 404 elsewhere', async () => {
    await request(app.url).head('/v1/callbacks/mandrill').expect(200);
    await request(app.url).head('/v1/callbacks/mandrill/other-account').expect(404);
    await request(app.url).head('/v1/callbacks/resend').expect(404);
    expect((await request(app.url).get('/v1/raw?provider=mandrill').set(admin).expect(200)).body.items).toEqual([]);
  });
});

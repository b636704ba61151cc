import { createHash, createHmac } from 'node:crypto';
import request from 'supertest';
import { lastRaw, postBytes as post } from '../helpers/callbacks';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { fixture } from '../helpers/fixtures';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const VONAGE_SECRET = 'vonage-signature-secret-1';
const GW_SECRET = 'gateway-hmac-secret-1';
const HUAWEI_TOKEN = 'huawei-url-token-1';

async function message(app: TestApp, provider: string, id: string) {
  return (
    await request(app.url)
      .get(`/v1/messages/${provider}/${encodeURIComponent(id)}`)
      .set(admin)
      .expect(200)
  ).body as {
    message: { status: string | null; version: number };
    history: { status: string | null; changed: boolean; reason: string | null; error: { code: string } | null }[];
  };
}

let nonceCounter = 0;
/** A Vonage receipt signed the way Vonage signs (md5hash, or an HMAC method): the rule written out here. */
function vonageReceipt(fields: Record<string, string>, method: 'md5hash' | 'sha256' = 'md5hash', at = Math.floor(Date.now() / 1000)): Record<string, string> {
  const params: Record<string, string> = { timestamp: String(at), nonce: `nonce-${++nonceCounter}-${at}`, ...fields };
  const base = Object.keys(params)
    .sort()
    .map((k) => `&${k}=${params[k].replace(/[&=]/g, '_')}`)
    .join('');
  params.sig =
    method === 'md5hash'
      ? createHash('md5')
          .update(base + VONAGE_SECRET)
          .digest('hex')
      : createHmac('sha256', VONAGE_SECRET).update(base).digest('hex').toUpperCase();
  return params;
}

const delivered = {
  msisdn: '447700900000',
  to: 'AcmeInc',
  messageId: 'V-1',
  status: 'delivered',
  'err-code': '0',
  'message-timestamp': '2024-05-06 10:15:09',
  price: '0.03330000',
};

describe('generic providers over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      providers: {
        huawei: { kind: 'generic', preset: 'huawei-sms', accounts: { default: { token: HUAWEI_TOKEN } } },
        vonage: { kind: 'generic', preset: 'vonage', accounts: { default: { secret: VONAGE_SECRET } } },
        nexmo: {
          kind: 'generic',
          preset: 'vonage',
          signature: { algorithm: 'hmac-sha256', signed: '{params}' },
          accounts: { default: { secret: VONAGE_SECRET } },
        },
        gw: {
          kind: 'generic',
          format: { type: 'json', reports: '/data' },
          mapping: { messageId: 'msgid', recipient: 'mobile', status: 'stat', errorMessage: 'desc', occurredAt: 'donetime' },
          time: { format: 'yyyy-MM-dd HH:mm:ss' },
          statuses: { map: { DELIVRD: 'delivered' }, default: 'failed' },
          signature: {
            algorithm: 'hmac-sha256',
            signed: '{timestamp}.{nonce}.{body}',
            location: { header: 'X-Signature' },
            timestamp: { header: 'X-Timestamp' },
            nonce: { header: 'X-Nonce' },
          },
          ack: { body: { code: 0, msg: 'success' } },
          accounts: { default: { secret: GW_SECRET }, eu: { secret: 'another-gateway-secret' } },
        },
      },
    });
  });
  afterAll(() => app.close());

  describe('Huawei Cloud SMS (preset)', () => {
    it.each(['form-delivered', 'batch'])('acknowledges and normalizes the %s fixture', async (name) => {
      const fx = fixture('huawei-sms', name);
      const res = await post(app, `/v1/callbacks/huawei?token=${HUAWEI_TOKEN}`, fx.body, { 'content-type': fx.contentType }).expect(fx.ack.status);
      expect(res.text).toBe(fx.ack.body);
      const raw = await lastRaw(app, 'huawei');
      expect(raw.verdict).toBe('accepted');
      fx.events.forEach((e, i) => expect(raw.events[i]).toMatchObject({ ...e, provider: 'huawei', account: 'default', channel: 'sms', raw_id: raw.id }));
      expect(raw.events).toHaveLength(fx.events.length);
    });

    it('needs the account token (Huawei signs nothing), and logs the refusal', async () => {
      const res = await post(app, '/v1/callbacks/huawei', fixture('huawei-sms', 'form-delivered').body, {
        'content-type': 'application/x-www-form-urlencoded',
      }).expect(401);
      expect(res.body).toEqual({ error: 'signature_invalid', detail: 'this account requires ?token= in the callback URL' });
      expect((await lastRaw(app, 'huawei')).verdict).toBe('signature_invalid');
    });
  });

  describe('Vonage (preset)', () => {
    it('accepts a freshly signed md5hash receipt posted as JSON', async () => {
      await post(app, '/v1/callbacks/vonage', JSON.stringify(vonageReceipt(delivered)), { 'content-type': 'application/json' }).expect(200, '');
      const raw = await lastRaw(app, 'vonage');
      expect(raw.events).toEqual([
        expect.objectContaining({ message_id: 'V-1', recipient: '+447700900000', status: 'delivered', occurred_at: '2024-05-06T10:15:09.000Z' }),
      ]);
    });

    it('accepts an HMAC-SHA256 (upper hex) receipt posted as a form, values with & and = included', async () => {
      const form = new URLSearchParams(
        vonageReceipt({ ...delivered, messageId: 'V-2', status: 'failed', 'err-code': '6', 'client-ref': 'a=b&c' }, 'sha256'),
      ).toString();
      await post(app, '/v1/callbacks/nexmo', form, { 'content-type': 'application/x-www-form-urlencoded' }).expect(200);
      const msg = await message(app, 'nexmo', 'V-2');
      expect(msg.message).toMatchObject({ status: 'failed', version: 1 });
      expect(msg.history[0].error).toEqual({ code: '6', message: null });
    });

    it('refuses a replayed nonce, a stale timestamp and a tampered body, logging each', async () => {
      const body = JSON.stringify(vonageReceipt({ ...delivered, messageId: 'V-3' }));
      await post(app, '/v1/callbacks/vonage', body, { 'content-type': 'application/json' }).expect(200);
      const again = await post(app, '/v1/callbacks/vonage', body, { 'content-type': 'application/json' }).expect(401);
      expect(again.body).toEqual({ error: 'signature_invalid', detail: 'this signature token was used before (replayed request)' });
      expect((await lastRaw(app, 'vonage')).verdict).toBe('signature_invalid');
      expect((await message(app, 'vonage', 'V-3')).history).toHaveLength(1);

      const stale = JSON.stringify(vonageReceipt({ ...delivered, messageId: 'V-4' }, 'md5hash', Math.floor(Date.now() / 1000) - 3600));
      expect((await post(app, '/v1/callbacks/vonage', stale, { 'content-type': 'application/json' }).expect(401)).body.detail).toMatch(
        /old, more than the 300 s tolerance/,
      );
      const tampered = body.replace('"delivered"', '"rejected"');
      expect((await post(app, '/v1/callbacks/vonage', tampered, { 'content-type': 'application/json' }).expect(401)).body.detail).toMatch(/does not match/);
      await request(app.url).get('/v1/messages/vonage/V-4').set(admin).expect(404);
    });

    it('records an "unknown" receipt in the history without touching the status', async () => {
      await post(app, '/v1/callbacks/vonage', JSON.stringify(vonageReceipt({ ...delivered, messageId: 'V-5' })), { 'content-type': 'application/json' }).expect(
        200,
      );
      await post(app, '/v1/callbacks/vonage', JSON.stringify(vonageReceipt({ ...delivered, messageId: 'V-5', status: 'unknown', 'err-code': '1' })), {
        'content-type': 'application/json',
      }).expect(200);
      const msg = await message(app, 'vonage', 'V-5');
      expect(msg.message).toMatchObject({ status: 'delivered', version: 1 });
      expect(msg.history.map((h) => [h.status, h.changed, h.reason])).toEqual([
        ['delivered', true, null],
        [null, false, 'unmapped'],
      ]);
    });
  });

  describe('a gateway of its own: HMAC over timestamp, nonce and body in headers', () => {
    const body = JSON.stringify({ data: [{ msgid: 'G-1', mobile: '+8613800138000', stat: 'UNDELIV', desc: '空号', donetime: '2024-05-06 10:15:09' }] });
    const headers = (secret = GW_SECRET, ts = Math.floor(Date.now() / 1000), nonce = `gw-${Math.random()}`) => ({
      'content-type': 'application/json; charset=utf-8',
      'x-timestamp': String(ts),
      'x-nonce': nonce,
      'x-signature': createHmac('sha256', secret).update(`${ts}.${nonce}.${body}`).digest('hex'),
    });

    it('acknowledges with the configured body and normalizes in the account’s zone', async () => {
      const res = await post(app, '/v1/callbacks/gw', body, headers()).expect(200);
      expect(res.body).toEqual({ code: 0, msg: 'success' });
      const msg = await message(app, 'gw', 'G-1');
      expect(msg.message).toMatchObject({ status: 'failed', version: 1, occurred_at: '2024-05-06T02:15:09.000Z', error: { code: 'UNDELIV', message: '空号' } });
    });

    it('uses each account’s own secret, and answers 404 for an account not configured', async () => {
      await post(app, '/v1/callbacks/gw/eu', body, headers()).expect(401);
      await post(app, '/v1/callbacks/gw/eu', body, headers('another-gateway-secret')).expect(200);
      const res = await post(app, '/v1/callbacks/gw/nosuch', body, headers()).expect(404);
      expect(res.body).toEqual({ error: 'unknown_provider', detail: 'no provider "gw" with account "nosuch" is configured' });
    });

    it('refuses a replayed nonce and a missing timestamp', async () => {
      const h = headers();
      await post(app, '/v1/callbacks/gw', body, h).expect(200);
      await post(app, '/v1/callbacks/gw', body, h).expect(401);
      const { 'x-timestamp': _ts, ...noTimestamp } = headers();
      expect((await post(app, '/v1/callbacks/gw', body, noTimestamp).expect(401)).body.detail).toMatch(/timestamp \(header X-Timestamp\) is missing/);
    });

    it('answers 400 for a body without the configured report list, and logs it', async () => {
      const bad = JSON.stringify({ items: [] });
      const ts = Math.floor(Date.now() / 1000);
      const res = await post(app, '/v1/callbacks/gw', bad, {
        'content-type': 'application/json',
        'x-timestamp': String(ts),
        'x-nonce': 'n-bad',
        'x-signature': createHmac('sha256', GW_SECRET).update(`${ts}.n-bad.${bad}`).digest('hex'),
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'payload_invalid', detail: '"data" (the list of reports) is missing' });
      expect((await lastRaw(app, 'gw')).verdict).toBe('payload_invalid');
    });

    it('replays a stored request through today’s code with its original verdict', async () => {
      const raw = await lastRaw(app, 'gw');
      const res = await request(app.url).post(`/v1/raw/${raw.id}/replay`).set(admin).send({ dry_run: true }).expect(200);
      expect(res.body).toMatchObject({ dry_run: true, previous_verdict: 'payload_invalid', verdict: 'payload_invalid' });
    });
  });
});

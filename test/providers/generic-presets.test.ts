import { createHash, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { SignatureInvalid } from '../../src/errors';
import { compileDefinition, PRESETS } from '../../src/providers/generic/definition';
import type { ProviderReport } from '../../src/status/types';
import { fixture } from '../helpers/fixtures';
import { genericProvider } from '../helpers/generic';
import { ACCOUNT, rawCallback } from '../helpers/raw';

/**
 * The signed presets of issue #17 (resend, telnyx, messagebird, mandrill, plivo, postmark,
 * netease-yunxin): each status table entry maps as written, each fixture verifies when signed the
 * way the provider documents (signatures computed here with node:crypto), a forged and a stale
 * request are refused where the scheme can tell, and an account without a setting the preset needs
 * refuses to start naming the setting. The fixtures' parsing is test/providers/fixtures.test.ts.
 */

type PresetName = 'resend' | 'telnyx' | 'messagebird' | 'mandrill' | 'plivo' | 'postmark' | 'netease-yunxin';
interface Statuses {
  map?: Record<string, string>;
  engagements?: Record<string, string>;
  ignore?: string[];
  default?: string;
}
const statusesOf = (name: PresetName) => PRESETS[name].statuses as Statuses;

/** A minimal request of each preset carrying one status code (and the detail that refines it). */
const BODIES: Record<PresetName, (code: string, detail?: string) => [string, string]> = {
  resend: (code, detail) => [
    JSON.stringify({
      type: code,
      created_at: '2024-05-06T03:00:00.000Z',
      data: { email_id: 'e-1', to: ['a@example.com'], ...(detail ? { bounce: { type: detail, subType: 'General', message: 'm' } } : {}) },
    }),
    'application/json',
  ],
  telnyx: (code) => [
    JSON.stringify({
      data: {
        event_type: 'message.finalized',
        id: 'ev-1',
        occurred_at: '2024-05-06T03:00:00.000+00:00',
        payload: { id: 'm-1', errors: [], to: [{ phone_number: '+13125551234', status: code }] },
      },
    }),
    'application/json',
  ],
  messagebird: (code) => [`id=m-1&recipient=31612345678&status=${encodeURIComponent(code)}&statusDatetime=2024-05-06T03%3A00%3A00%2B00%3A00`, ''],
  mandrill: (code) => [
    'mandrill_events=' + encodeURIComponent(JSON.stringify([{ event: code, msg: { _id: 'm-1', email: 'a@example.com' }, _id: 'm-1', ts: 1714964400 }])),
    'application/x-www-form-urlencoded',
  ],
  plivo: (code, detail) => [`MessageUUID=m-1&To=14155556789&Status=${code}${detail ? `&ErrorCode=${detail}` : ''}`, 'application/x-www-form-urlencoded'],
  postmark: (code, detail) => [
    JSON.stringify({ RecordType: code, MessageID: 'm-1', Recipient: 'a@example.com', ...(detail ? { Type: detail } : {}) }),
    'application/json',
  ],
  'netease-yunxin': (code) => [JSON.stringify({ eventType: '11', objects: [{ sendid: 'm-1', mobile: '13800138000', result: code }] }), 'application/json'],
};

const NAMES = Object.keys(BODIES) as PresetName[];

describe.each(NAMES)('preset %s: its status table', (name) => {
  const provider = genericProvider(name, { preset: name });
  const parse = (code: string, detail?: string): ProviderReport[] => {
    const [body, type] = BODIES[name](code, detail);
    const method = name === 'messagebird' ? 'GET' : 'POST';
    return provider.parse(rawCallback(name, body, type, { method }), ACCOUNT);
  };
  const table = statusesOf(name);

  it.each(Object.entries(table.map ?? {}))('maps %s to %s', (key, rule) => {
    const [code, detail] = key.split(':') as [string, string | undefined];
    const [report] = parse(code, detail);
    expect(report).toMatchObject({ type: 'message.status', status: rule === 'keep' ? null : rule });
    // the provider's own code is kept: the detail when the definition reads one as the error code, else the status code
    if (report?.type === 'message.status' && report.status !== null && !['queued', 'sent', 'delivered'].includes(report.status)) {
      expect(report.error?.code).toBeTruthy();
    }
  });

  const engagements = Object.entries(table.engagements ?? {});
  if (engagements.length > 0) {
    it.each(engagements)('records %s as the engagement %s, not a status', (code, action) => {
      expect(parse(code)).toMatchObject([{ type: 'message.engagement', action }]);
    });
  }

  const ignored = (table.ignore ?? []).map((code) => (code.endsWith('*') ? `${code.slice(0, -1)}created` : code));
  if (ignored.length > 0) {
    it.each(ignored)('acknowledges %s with no report', (code) => {
      const [body, type] = BODIES[name](code);
      // a report about no message may lack the message id: it is not read
      expect(provider.parse(rawCallback(name, body, type, { method: name === 'messagebird' ? 'GET' : 'POST' }), ACCOUNT)).toEqual([]);
    });
  }

  it(`gives a code its table does not name the default (${table.default ?? 'keep'})`, () => {
    const [report] = parse('SOMETHING_NEW');
    expect(report).toMatchObject({ type: 'message.status', status: table.default === 'keep' || table.default === undefined ? null : table.default });
  });
});

describe.each([
  ['resend', 'secret'],
  ['telnyx', 'publicKey'],
  ['messagebird', 'secret'],
  ['mandrill', 'secret'],
  ['plivo', 'secret'],
  ['postmark', 'username'],
  ['netease-yunxin', 'secret'],
] as const)('preset %s started without %s', (name, setting) => {
  it('refuses to start with an error naming the setting', () => {
    expect(() => compileDefinition(name, { kind: 'generic', preset: name, accounts: { default: {} } })).toThrow(
      `config invalid: providers.${name}.accounts.default.${setting}: required`,
    );
  });
});

describe('preset signatures: fixtures signed as the providers document, forged and stale requests refused', () => {
  const at = (seconds: number) => new Date(seconds * 1000);

  it('resend: Svix headers over id.timestamp.body with the whsec_ secret', () => {
    const key = Buffer.from('resend-fixture-signing-key-0123456789');
    const secret = `whsec_${key.toString('base64')}`;
    const provider = genericProvider('resend', { preset: 'resend' });
    const body = fixture('resend', 'delivered').body;
    const ts = 1708645273; // 2024-02-22T23:41:13Z, the event's time
    const sig = (text: Buffer) => `v1,${createHmac('sha256', key).update(`msg_2cT1oT.${ts}.`).update(text).digest('base64')}`;
    const raw = (text: Buffer, receivedAt: Date) =>
      rawCallback('resend', text, 'application/json', {
        headers: { 'content-type': 'application/json', 'svix-id': 'msg_2cT1oT', 'svix-timestamp': String(ts), 'svix-signature': sig(body) },
        receivedAt,
      });
    const account = { ...ACCOUNT, secret };
    expect(provider.verify!(raw(body, at(ts + 1)), account, null as never)).toEqual({});
    const forged = Buffer.from(body.toString().replace('email.delivered', 'email.bounced'));
    expect(() => provider.verify!(raw(forged, at(ts + 1)), account, null as never)).toThrow(SignatureInvalid);
    expect(() => provider.verify!(raw(body, at(ts + 3600)), account, null as never)).toThrow(/3600 s old/);
  });

  it('telnyx: Ed25519 over telnyx-timestamp|body with the account publicKey', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const account = { ...ACCOUNT, publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64') };
    const provider = genericProvider('telnyx', { preset: 'telnyx' });
    const body = fixture('telnyx', 'finalized-failed').body;
    const ts = 1575927140; // 2019-12-09T21:32:20Z
    const raw = (text: Buffer, receivedAt: Date, signedText = text) =>
      rawCallback('telnyx', text, 'application/json', {
        headers: {
          'content-type': 'application/json',
          'telnyx-timestamp': String(ts),
          'telnyx-signature-ed25519': sign(null, Buffer.concat([Buffer.from(`${ts}|`), signedText]), privateKey).toString('base64'),
        },
        receivedAt,
      });
    expect(provider.verify!(raw(body, at(ts + 2)), account, null as never)).toEqual({});
    const forged = Buffer.from(body.toString().replace('delivery_failed', 'delivered'));
    expect(() => provider.verify!(raw(forged, at(ts + 2), body), account, null as never)).toThrow(/does not match/);
    expect(() => provider.verify!(raw(body, at(ts + 301)), account, null as never)).toThrow(/301 s old/);
  });

  it('messagebird: a GET whose JWT binds the URL with the report in its query', () => {
    const secret = 'messagebird-signing-key-0123';
    const account = { ...ACCOUNT, secret, publicUrl: 'https://dlr.example.com' };
    const provider = genericProvider('messagebird', { preset: 'messagebird' });
    const query = fixture('messagebird', 'delivered').body.toString();
    const url = `/v1/callbacks/messagebird?${query}`;
    const nbf = 1462265892; // 2016-05-03T08:58:12Z, two seconds after the report
    // an HS256 JWT built here with node:crypto as MessageBird's SDK documents its claims
    const jwt = (claims: object, alg = 'HS256') => {
      const head = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${head}.${payload}.${createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url')}`;
    };
    const urlHash = (u: string) => createHash('sha256').update(u).digest('hex');
    const claims = { iss: 'MessageBird', nbf, exp: nbf + 60, jti: 'j-1', url_hash: urlHash(`https://dlr.example.com${url}`) };
    const raw = (token: string, path: string, receivedAt: Date) =>
      rawCallback('messagebird', path.slice(path.indexOf('?') + 1), '', {
        method: 'GET',
        url: path,
        headers: { 'messagebird-signature-jwt': token },
        receivedAt,
      });
    expect(provider.verify!(raw(jwt(claims), url, at(nbf + 1)), account, null as never)).toEqual({});
    expect(provider.parse(raw(jwt(claims), url, at(nbf + 1)), account)).toMatchObject([{ messageId: 'e8077d803532c0b5937c639b60216938', status: 'delivered' }]);
    const forgedUrl = url.replace('status=delivered', 'status=delivery_failed');
    expect(() => provider.verify!(raw(jwt(claims), forgedUrl, at(nbf + 1)), account, null as never)).toThrow(/url_hash/);
    expect(() => provider.verify!(raw(jwt(claims), url, at(nbf + 3600)), account, null as never)).toThrow(/expired/);
    expect(() => provider.verify!(raw(jwt({ ...claims, iss: 'Someone' }), url, at(nbf + 1)), account, null as never)).toThrow(/issuer is not MessageBird/);
  });

  it('mandrill: HMAC-SHA1 over the URL and the sorted POST fields, base64', () => {
    const key = 'mandrill-webhook-key_0123';
    const account = { ...ACCOUNT, secret: key, publicUrl: 'https://dlr.example.com' };
    const provider = genericProvider('mandrill', { preset: 'mandrill' });
    const body = fixture('mandrill', 'events-batch').body;
    const events = new URLSearchParams(body.toString()).get('mandrill_events')!;
    // help.mandrill.com "Authenticating webhook requests": the URL, then each POST key and value (sorted), HMAC-SHA1, base64
    const signature = createHmac('sha1', key).update(`https://dlr.example.com/v1/callbacks/mandrill${'mandrill_events'}${events}`).digest('base64');
    const raw = (text: Buffer | string) =>
      rawCallback('mandrill', text, 'application/x-www-form-urlencoded', {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-mandrill-signature': signature },
      });
    expect(provider.verify!(raw(body), account, null as never)).toEqual({});
    const forged = 'mandrill_events=' + encodeURIComponent(events.replace('"hard_bounce"', '"send"'));
    expect(() => provider.verify!(raw(forged), account, null as never)).toThrow(/does not match/);
    // the events field sent twice: which one the reports take would not be signed
    expect(() => provider.verify!(raw(`${body.toString()}&mandrill_events=%5B%5D`), account, null as never)).toThrow(SignatureInvalid);
  });

  it('plivo: V3 over the URL, the sorted POST fields and the nonce', () => {
    const token = 'plivo-auth-token-0123';
    const account = { ...ACCOUNT, secret: token, publicUrl: 'https://dlr.example.com' };
    const provider = genericProvider('plivo', { preset: 'plivo' });
    const body = fixture('plivo', 'delivered').body.toString();
    const sorted = [...new URLSearchParams(body)]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => k + v)
      .join('');
    const signature = createHmac('sha256', token).update(`https://dlr.example.com/v1/callbacks/plivo?${sorted}.31625653766932714452`).digest('base64');
    const raw = (text: string, nonce = '31625653766932714452') =>
      rawCallback('plivo', text, 'application/x-www-form-urlencoded', {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-plivo-signature-v3': signature, 'x-plivo-signature-v3-nonce': nonce },
      });
    expect(provider.verify!(raw(body), account, null as never)).toEqual({});
    expect(() => provider.verify!(raw(body.replace('Status=delivered', 'Status=undelivered')), account, null as never)).toThrow(/does not match/);
    expect(() => provider.verify!(raw(body, '1'), account, null as never)).toThrow(/does not match/);
  });

  it('postmark: basic auth with the account username and password', () => {
    const account = { ...ACCOUNT, username: 'postmark-hook', password: 'a long password 0123' };
    const provider = genericProvider('postmark', { preset: 'postmark' });
    const raw = (user: string, password: string) =>
      rawCallback('postmark', fixture('postmark', 'delivery').body, 'application/json', {
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      });
    expect(provider.verify!(raw('postmark-hook', 'a long password 0123'), account, null as never)).toEqual({});
    expect(() => provider.verify!(raw('postmark-hook', 'guess'), account, null as never)).toThrow(SignatureInvalid);
  });

  it('netease-yunxin: CheckSum = SHA1(AppSecret + MD5 + CurTime) and MD5 of the body', () => {
    const secret = 'netease-app-secret';
    const account = { ...ACCOUNT, secret };
    const provider = genericProvider('netease-yunxin', { preset: 'netease-yunxin' });
    const body = fixture('netease-yunxin', 'batch').body;
    const curTime = String(Date.parse('2024-05-07T03:00:01Z'));
    const md5 = createHash('md5').update(body).digest('hex');
    const headers = {
      'content-type': 'application/json',
      md5,
      curtime: curTime,
      checksum: createHash('sha1')
        .update(secret + md5 + curTime)
        .digest('hex'),
    };
    const raw = (text: Buffer, receivedAt: Date) => rawCallback('netease-yunxin', text, 'application/json', { headers, receivedAt });
    expect(provider.verify!(raw(body, new Date(Number(curTime) + 1000)), account, null as never)).toEqual({});
    const forged = Buffer.from(body.toString().replace('"UNDELIV"', '"DELIVRD"'));
    expect(() => provider.verify!(raw(forged, new Date(Number(curTime) + 1000)), account, null as never)).toThrow(/is not the md5 of the body/);
    expect(() => provider.verify!(raw(body, new Date(Number(curTime) + 600_000)), account, null as never)).toThrow(/600 s old/);
  });
});

import { createHash, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { ConfigError, SignatureInvalid } from '../../src/errors';
import { compileDefinition, type GenericSettings } from '../../src/providers/generic/definition';
import type { GenericAccountSettings } from '../../src/providers/generic/signature';
import { genericProvider } from '../helpers/generic';
import { ACCOUNT, rawCallback } from '../helpers/raw';

/**
 * The signature schemes of the configuration language added by issue #17, each against the
 * published test vector of its specification or SDK where one exists, and the start-up refusals
 * of definitions and accounts that could not verify anything.
 */

const JSON_BASE: Omit<GenericSettings, 'kind' | 'accounts'> = {
  format: { type: 'json' },
  mapping: { messageId: 'test', status: 'test' },
  statuses: { default: 'keep' },
};
const verifyWith = (provider: ReturnType<typeof genericProvider>, raw: ReturnType<typeof rawCallback>, account: GenericAccountSettings) =>
  provider.verify!(raw, account, null as never);

describe('standard-webhooks: the published vector of the Standard Webhooks libraries', () => {
  // standard-webhooks/standard-webhooks libraries/javascript/src/webhook.test.ts, "sign function works"
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const TIMESTAMP = 1614265330;
  const PAYLOAD = '{"test": 2432232314}';
  const SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
  const provider = genericProvider('sw', { ...JSON_BASE, signature: { algorithm: 'standard-webhooks' } });
  const account = { ...ACCOUNT, secret: SECRET };
  const request = (headers: Record<string, string>, body = PAYLOAD, offsetSeconds = 3) =>
    rawCallback('sw', body, 'application/json', {
      headers: { 'content-type': 'application/json', ...headers },
      receivedAt: new Date((TIMESTAMP + offsetSeconds) * 1000),
    });
  const webhookHeaders = { 'webhook-id': ID, 'webhook-timestamp': String(TIMESTAMP), 'webhook-signature': SIGNATURE };
  const svixHeaders = { 'svix-id': ID, 'svix-timestamp': String(TIMESTAMP), 'svix-signature': SIGNATURE };

  it('accepts the vector under the webhook-* names and the svix-* names, with or without whsec_', () => {
    expect(verifyWith(provider, request(webhookHeaders), account)).toEqual({});
    expect(verifyWith(provider, request(svixHeaders), account)).toEqual({});
    expect(verifyWith(provider, request(svixHeaders), { ...account, secret: SECRET.slice('whsec_'.length) })).toEqual({});
  });

  it('accepts when any of several space-separated signatures matches, and ignores other versions', () => {
    const other = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    const v2 = `v2,${SIGNATURE.slice(3)}`;
    expect(verifyWith(provider, request({ ...svixHeaders, 'svix-signature': `${other} ${v2} ${SIGNATURE}` }), account)).toEqual({});
    expect(() => verifyWith(provider, request({ ...svixHeaders, 'svix-signature': `${other} ${v2}` }), account)).toThrow(/no v1 signature/);
  });

  it('refuses a forged body, a wrong secret, a stale or future timestamp, missing headers', () => {
    expect(() => verifyWith(provider, request(svixHeaders, '{"test": 2432232315}'), account)).toThrow(SignatureInvalid);
    expect(() => verifyWith(provider, request(svixHeaders), { ...account, secret: 'whsec_' + Buffer.from('another key').toString('base64') })).toThrow(
      /check the account's secret/,
    );
    expect(() => verifyWith(provider, request(svixHeaders, PAYLOAD, 301), account)).toThrow(/301 s old, more than the 300 s tolerance/);
    expect(() => verifyWith(provider, request(svixHeaders, PAYLOAD, -301), account)).toThrow(/in the future/);
    expect(() => verifyWith(provider, request({ 'svix-id': ID, 'svix-timestamp': String(TIMESTAMP) }), account)).toThrow(/no webhook-id and webhook-signature/);
    // the id is signed: another id with the same signature fails
    expect(() => verifyWith(provider, request({ ...svixHeaders, 'svix-id': 'msg_other' }), account)).toThrow(SignatureInvalid);
  });

  it('refuses at start-up an account whose secret is not whsec_ and base64, naming the setting', () => {
    const settings = { kind: 'generic' as const, ...JSON_BASE, signature: { algorithm: 'standard-webhooks' as const } };
    expect(() => compileDefinition('sw', { ...settings, accounts: { default: { secret: 'not base64 at all!' } } })).toThrow(
      'config invalid: providers.sw.accounts.default.secret: is not whsec_ followed by base64',
    );
    expect(() => compileDefinition('sw', { ...settings, accounts: { default: {} } })).toThrow(
      "config invalid: providers.sw.accounts.default.secret: required, since the provider's signature is standard-webhooks",
    );
  });
});

describe('ed25519 over a template (Telnyx: telnyx-timestamp|body)', () => {
  // Telnyx publishes no test vector: a key pair made here, the public key given as Telnyx's portal shows it (base64 of the raw 32 bytes)
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const rawKey = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
  const NOW = Date.parse('2024-05-06T03:00:00.000Z') / 1000;
  const signature = { algorithm: 'ed25519' as const, signed: '{timestamp}|{body}', location: { header: 'x-sig' }, timestamp: { header: 'x-ts' } };
  const provider = genericProvider('ed', { ...JSON_BASE, signature });
  const account = { ...ACCOUNT, publicKey: rawKey };
  const body = '{"test":"delivered"}';
  const signed = (ts: number, text = body, key = privateKey) => sign(null, Buffer.from(`${ts}|${text}`), key).toString('base64');
  const request = (headers: Record<string, string>, text = body) =>
    rawCallback('ed', text, 'application/json', { headers: { 'content-type': 'application/json', ...headers } });

  it('accepts a signature over timestamp|body made with the private key', () => {
    expect(verifyWith(provider, request({ 'x-ts': String(NOW - 2), 'x-sig': signed(NOW - 2) }), account)).toEqual({});
  });

  it('refuses a forged body, a stale timestamp, another key, a signature that is not base64', () => {
    expect(() => verifyWith(provider, request({ 'x-ts': String(NOW), 'x-sig': signed(NOW) }, '{"test":"failed"}'), account)).toThrow(/does not match/);
    expect(() => verifyWith(provider, request({ 'x-ts': String(NOW - 400), 'x-sig': signed(NOW - 400) }), account)).toThrow(/400 s old/);
    const other = generateKeyPairSync('ed25519').privateKey;
    expect(() => verifyWith(provider, request({ 'x-ts': String(NOW), 'x-sig': signed(NOW, body, other) }), account)).toThrow(/check the account's publicKey/);
    // the timestamp is signed: a fresh one on an old signature fails
    expect(() => verifyWith(provider, request({ 'x-ts': String(NOW), 'x-sig': signed(NOW - 400) }), account)).toThrow(/does not match/);
    expect(() => verifyWith(provider, request({ 'x-ts': String(NOW), 'x-sig': '%%%' }), account)).toThrow(/is not base64/);
  });

  it('takes a PEM key too', () => {
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(verifyWith(provider, request({ 'x-ts': String(NOW), 'x-sig': signed(NOW) }), { ...ACCOUNT, publicKey: pem })).toEqual({});
  });

  it('refuses at start-up a {secret} in the template, a missing or unusable publicKey', () => {
    const settings = { kind: 'generic' as const, ...JSON_BASE, signature };
    expect(() => compileDefinition('ed', { ...settings, signature: { ...signature, signed: '{secret}{body}' }, accounts: {} })).toThrow(
      /ed25519 is verified with the account's publicKey/,
    );
    expect(() => compileDefinition('ed', { ...settings, accounts: { live: { secret: 'a-secret-value' } } })).toThrow(
      "config invalid: providers.ed.accounts.live.publicKey: required, since the provider's signature is ed25519",
    );
    expect(() => compileDefinition('ed', { ...settings, accounts: { live: { publicKey: Buffer.alloc(31).toString('base64') } } })).toThrow(
      'config invalid: providers.ed.accounts.live.publicKey: is not the base64 of a raw 32-byte Ed25519 public key',
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => compileDefinition('ed', { ...settings, accounts: { live: { publicKey: rsa } } })).toThrow(/is a rsa key, not Ed25519/);
  });
});

describe('jwt-hs256: the MessageBird SDK reference vectors', () => {
  // messagebird/messagebird-nodejs lib/testdata/webhook-signature-jwt-reference.json (timestamp 2021-07-05T12:00:00+02:00)
  const SECRET = '36efdd1aace2e26cd490f0d951138253bef2f7c6d34d18981da781555cc4cebb';
  const AT = new Date('2021-07-05T12:00:00+02:00');
  const provider = genericProvider('mb', { ...JSON_BASE, format: { type: 'auto', methods: ['POST', 'GET'] }, signature: { algorithm: 'jwt-hs256' } });
  const account = { ...ACCOUNT, secret: SECRET, publicUrl: 'https://example.com' };
  const request = (path: string, token: string, body = '', method = 'POST') =>
    rawCallback('mb', body, 'text/plain', { method, url: path, headers: { 'messagebird-signature-jwt': token }, receivedAt: AT });
  const H = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9';
  const VALID_NO_PAYLOAD = `${H}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.6Fp0rVOsRr1fj9S2GidXAfkmPVofKr8_RTffC6G6r2E`;
  const VALID_PAYLOAD = `${H}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI5M2U1NTAwNi1hMGU4LTQ1MjYtYTE5MC1mYTVmZjAwZWExMTYiLCJ1cmxfaGFzaCI6IjQxZjA1ZjBkZGQwYTIyYWIyMDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWNlNmMyNjAiLCJwYXlsb2FkX2hhc2giOiJkZmZkNjAyMWJiMmJkNWIwYWY2NzYyOTA4MDllYzNhNTMxOTFkZDgxYzdmNzBhNGIyODY4OGEzNjIxODI5ODZmIn0._H--TOuYFLpeEH39-rg5E3IHVkjHozBcaKVWPRC5m9I`;
  const NOT_YET = `${H}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ4MjgwMCwiZXhwIjoxNjI1NDgyODYwLCJqdGkiOiJmOWY4YzM4Mi0yNDQ5LTQzMTEtYjcyYi0xZGY3MTY4NzkzMWUiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.ZELgDFNGhjZH9CffQKcq3sytBe2I0KciLxpBhcfstHQ`;
  const EXPIRED = `${H}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3NTYwMCwiZXhwIjoxNjI1NDc1NjYwLCJqdGkiOiI1ZjAyZjUyMi02MDMwLTQ2YzgtYjVhMy0wMTI0NjQ3OGQ4YmMiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.45MSST3B_2PsjNUeiuW54_vUQgVw4rBXrdWrOUEz3lM`;
  const OTHER_URL = `${H}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiJhNzVjOTA5Ni1lODIzLTQ0MmItODVmMi03ZDNjOWQ5YjcyNmIiLCJ1cmxfaGFzaCI6IjZhMDIyZDgzNGMxODMzMGJhYWQ4YTJiZDYxMzUxNzNlZDIxNjEwYTQ1NDUxNmJlMGRmM2YxY2MwMTUxNjEwZWEifQ.z6Sw1XQIM0wuEQGBhXBdawDIIrtMg2XnmA_bpDq53pE`;
  const PAYLOAD_MISMATCH = `${H}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIxNDUwMTUzMi05NmYyLTQ2ODQtOTgzMi02OGYwOTUxYWUzNDIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiJmYjYyZjAyYWNkYTdkNzQxNzdhNzAxYTFjZTAwNmU2YmFjZDkwYzdkNGQ3YWI0ODE2OTJjMWRhNDdjODEwNzZiIn0.m79RCwO6dGa9pvzsQypkVuXQ6eM0CkRl6_U7MfWg6TM`;
  const NONE_ALG =
    'eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJNZXNzYWdlQmlyZCIsImlhdCI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.';
  const HS512 =
    'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxfaGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4M2U5ZDcifQ.rd6r0iMyNGnVPCwurETphE3Y8rpAyvvnUK0S8WvGUkt2E1QSRAZ7NZJZBHw1Y_Wb5W-sK9HJr_PRL2vz4jRT3Q';

  it('accepts the valid vectors: no payload, and URL parameters with a payload', () => {
    expect(verifyWith(provider, request('/', VALID_NO_PAYLOAD), account)).toEqual({});
    expect(verifyWith(provider, request('/path?bar=1&foo=2', VALID_PAYLOAD, 'Hello, World!'), account)).toEqual({});
    // a trailing slash on publicUrl is not doubled
    expect(verifyWith(provider, request('/', VALID_NO_PAYLOAD), { ...account, publicUrl: 'https://example.com/' })).toEqual({});
  });

  it('refuses the invalid vectors: not yet valid, expired, another URL, another payload, a payload added or removed', () => {
    expect(() => verifyWith(provider, request('/', NOT_YET), account)).toThrow(/not valid until 3600 s after/);
    expect(() => verifyWith(provider, request('/', EXPIRED), account)).toThrow(/expired 3540 s before it was received/);
    expect(() => verifyWith(provider, request('/path?foo=1&bar=2', OTHER_URL), account)).toThrow(/url_hash is not the SHA-256/);
    expect(() => verifyWith(provider, request('/', PAYLOAD_MISMATCH, 'Hello, World!'), account)).toThrow(/payload_hash does not match the body/);
    expect(() => verifyWith(provider, request('/', PAYLOAD_MISMATCH, ''), account)).toThrow(/payload_hash does not match/);
    expect(() => verifyWith(provider, request('/', VALID_NO_PAYLOAD, 'Hello, World!'), account)).toThrow(/no payload_hash claim/);
  });

  it('accepts HS256 only: alg none and HS512 are refused before their signature is looked at', () => {
    expect(() => verifyWith(provider, request('/', NONE_ALG), account)).toThrow(/alg is "none": only HS256/);
    expect(() => verifyWith(provider, request('/', HS512), account)).toThrow(/alg is "HS512": only HS256/);
  });

  it('refuses a wrong signing key, a missing or malformed token', () => {
    expect(() => verifyWith(provider, request('/', VALID_NO_PAYLOAD), { ...account, secret: 'another-signing-key' })).toThrow(/signature does not match/);
    expect(() => verifyWith(provider, rawCallback('mb', '', 'text/plain', { url: '/', receivedAt: AT }), account)).toThrow(/no JWT in header/);
    expect(() => verifyWith(provider, request('/', 'a.b'), account)).toThrow(/is not a JWT/);
  });

  it('binds a GET report through the URL: the query string the raw log keeps as the body is no payload', () => {
    // "Valid JWT with URL parameters and no payload - GET": url_hash covers the query, no payload_hash
    const QUERY_ONLY = `${H}.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCwiZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiJjOTQ2YWY3Ny1lMTgyLTRlYWEtYjJmZi0xYTU0NWI1ZTk5MWEiLCJ1cmxfaGFzaCI6IjQxZjA1ZjBkZGQwYTIyYWIyMDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWNlNmMyNjAifQ.huo2ou6JDoDc7sV25d75UMWeYhBeavQlLsqIibSZuac`;
    expect(verifyWith(provider, request('/path?bar=1&foo=2', QUERY_ONLY, 'bar=1&foo=2', 'GET'), account)).toEqual({});
    // the same bytes as a POST body are a payload the token does not sign
    expect(() => verifyWith(provider, request('/path?bar=1&foo=2', QUERY_ONLY, 'bar=1&foo=2', 'POST'), account)).toThrow(/no payload_hash claim/);
    // another query (another report) is another URL
    expect(() => verifyWith(provider, request('/path?bar=1&foo=3', QUERY_ONLY, 'bar=1&foo=3', 'GET'), account)).toThrow(/url_hash/);
  });

  it('checks the issuer when the definition names one', () => {
    const strict = genericProvider('mb', { ...JSON_BASE, format: { type: 'auto' }, signature: { algorithm: 'jwt-hs256', claims: { issuer: 'Bird' } } });
    expect(() => verifyWith(strict, request('/', VALID_NO_PAYLOAD), account)).toThrow(/issuer is not Bird/);
  });

  it('refuses at start-up a template for a fixed scheme and an account without publicUrl, naming it', () => {
    const settings = { kind: 'generic' as const, ...JSON_BASE };
    expect(() => compileDefinition('mb', { ...settings, signature: { algorithm: 'jwt-hs256', signed: '{body}' }, accounts: {} })).toThrow(
      'config invalid: providers.mb.signature.signed: not used by jwt-hs256',
    );
    expect(() => compileDefinition('mb', { ...settings, signature: { algorithm: 'jwt-hs256' }, accounts: { default: { secret: SECRET } } })).toThrow(
      "config invalid: providers.mb.accounts.default.publicUrl: required, since the provider's signature is jwt-hs256",
    );
    expect(() =>
      compileDefinition('mb', {
        ...settings,
        signature: { algorithm: 'jwt-hs256' },
        accounts: { default: { secret: SECRET, publicUrl: 'https://x.example/?a=1' } },
      }),
    ).toThrow(/providers.mb.accounts.default.publicUrl: must match pattern/);
  });
});

describe('basic-auth (Postmark: user:password@ in the webhook URL)', () => {
  const provider = genericProvider('pm', { ...JSON_BASE, signature: { algorithm: 'basic-auth' } });
  const account = { ...ACCOUNT, username: 'postmark', password: 'correct horse battery' };
  const request = (authorization?: string) =>
    rawCallback('pm', '{}', 'application/json', { headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) } });
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('accepts the configured user name and password', () => {
    expect(verifyWith(provider, request(basic('postmark', 'correct horse battery')), account)).toEqual({});
  });

  it('refuses a wrong password, a wrong user, no credentials, another scheme', () => {
    expect(() => verifyWith(provider, request(basic('postmark', 'wrong')), account)).toThrow(/does not match/);
    expect(() => verifyWith(provider, request(basic('other', 'correct horse battery')), account)).toThrow(/does not match/);
    expect(() => verifyWith(provider, request(), account)).toThrow(/no Authorization: Basic header/);
    expect(() => verifyWith(provider, request('Bearer abc'), account)).toThrow(/no Authorization: Basic header/);
  });

  it('refuses at start-up an account without password, naming it', () => {
    expect(() =>
      compileDefinition('pm', { kind: 'generic', ...JSON_BASE, signature: { algorithm: 'basic-auth' }, accounts: { default: { username: 'postmark' } } }),
    ).toThrow("config invalid: providers.pm.accounts.default.password: required, since the provider's signature is basic-auth");
  });
});

describe('checksum over headers with a body digest (NetEase Yunxin: CheckSum = SHA1(AppSecret + MD5 + CurTime))', () => {
  const SECRET = 'yunxin-app-secret';
  const signature = {
    algorithm: 'sha1' as const,
    signed: '{secret}{header:MD5}{header:CurTime}',
    location: { header: 'CheckSum' },
    timestamp: { header: 'CurTime', unit: 'auto' as const },
    bodyDigest: { header: 'MD5', algorithm: 'md5' as const },
  };
  const provider = genericProvider('ne', { ...JSON_BASE, signature });
  const account = { ...ACCOUNT, secret: SECRET };
  const NOW = Date.parse('2024-05-06T03:00:00.000Z');
  const body = '{"test":"DELIVRD"}';
  // CheckSumBuilder of NetEase's docs: sha1(appSecret + md5 + curTime), md5(requestBody), lower hex
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
  const request = (curTime: string, text = body, digest = md5(text)) =>
    rawCallback('ne', text, 'application/json', {
      headers: { 'content-type': 'application/json', md5: digest, curtime: curTime, checksum: sha1(SECRET + digest + curTime) },
    });

  it('accepts CurTime in milliseconds or in seconds', () => {
    expect(verifyWith(provider, request(String(NOW - 1000)), account)).toEqual({});
    expect(verifyWith(provider, request(String(NOW / 1000 - 1)), account)).toEqual({});
  });

  it('refuses a body that is not the one the MD5 header names, a stale CurTime, a wrong secret', () => {
    // the attacker keeps the signed headers and changes the body
    const forged = request(String(NOW), body);
    forged.body = Buffer.from('{"test":"UNDELIV"}');
    expect(() => verifyWith(provider, forged, account)).toThrow(/header md5 is not the md5 of the body/);
    expect(() => verifyWith(provider, request(String(NOW - 301_000)), account)).toThrow(/301 s old/);
    expect(() => verifyWith(provider, request(String(NOW)), { ...account, secret: 'another-secret' })).toThrow(/does not match/);
  });

  it('refuses at start-up a body digest whose header is not signed: the body would be signed by nothing', () => {
    expect(() =>
      compileDefinition('ne', { kind: 'generic', ...JSON_BASE, signature: { ...signature, signed: '{secret}{header:CurTime}' }, accounts: {} }),
    ).toThrow("config invalid: providers.ne.signature.bodyDigest: the header md5 holds the body's digest but is not signed");
    // and without the digest, headers only sign none of the body
    const { bodyDigest: _unused, ...noDigest } = signature;
    expect(() => compileDefinition('ne', { kind: 'generic', ...JSON_BASE, signature: noDigest, accounts: {} })).toThrow(/covers none of the body/);
  });
});

describe('{url} with sorted form fields and several signatures (Plivo V3)', () => {
  const TOKEN = 'plivo-auth-token-0123';
  const signature = {
    algorithm: 'hmac-sha256' as const,
    signed: '{url}?{params}.{header:X-Plivo-Signature-V3-Nonce}',
    params: { separator: '', keyValueSeparator: '' },
    location: { header: 'X-Plivo-Signature-V3' },
    encoding: 'base64' as const,
    separator: ',',
  };
  const provider = genericProvider('pv', {
    format: { type: 'form' },
    mapping: { messageId: 'MessageUUID', status: 'Status' },
    statuses: { default: 'keep' },
    signature,
  });
  const account = { ...ACCOUNT, secret: TOKEN, publicUrl: 'https://dlr.example.com' };
  const form = 'Status=delivered&MessageUUID=abc&To=14155556789';
  // plivo-node v3Security.js construct_post_url: base URL, '?', then each sorted key + value, then '.' + nonce
  const expected = createHmac('sha256', TOKEN)
    .update('https://dlr.example.com/v1/callbacks/pv?MessageUUIDabcStatusdeliveredTo14155556789.nonce-1')
    .digest('base64');
  const request = (sig: string, body = form) =>
    rawCallback('pv', body, 'application/x-www-form-urlencoded', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-plivo-signature-v3': sig, 'x-plivo-signature-v3-nonce': 'nonce-1' },
    });

  it('accepts the signature alone or beside another', () => {
    expect(verifyWith(provider, request(expected), account)).toEqual({});
    expect(verifyWith(provider, request(`${Buffer.alloc(32).toString('base64')},${expected}`), account)).toEqual({});
  });

  it('refuses a changed field, another public URL, no publicUrl', () => {
    expect(() => verifyWith(provider, request(expected, form.replace('delivered', 'failed')), account)).toThrow(
      /does not match \(check the account's secret and publicUrl/,
    );
    expect(() => verifyWith(provider, request(expected), { ...account, publicUrl: 'https://other.example.com' })).toThrow(SignatureInvalid);
    expect(() => verifyWith(provider, request(expected), { ...ACCOUNT, secret: TOKEN })).toThrow(/no publicUrl configured/);
  });

  it('refuses at start-up an account without publicUrl when {url} is signed', () => {
    expect(() =>
      compileDefinition('pv', {
        kind: 'generic',
        format: { type: 'form' },
        mapping: { messageId: 'MessageUUID', status: 'Status' },
        statuses: {},
        signature,
        accounts: { default: { secret: TOKEN } },
      }),
    ).toThrow("config invalid: providers.pv.accounts.default.publicUrl: required, since the provider's signature is hmac-sha256");
  });
});

describe('the definition language around the schemes', () => {
  it('refuses jsonInField outside a form and statuses it cannot map', () => {
    expect(() => compileDefinition('x', { kind: 'generic', ...JSON_BASE, format: { type: 'json', jsonInField: 'events' }, accounts: {} })).toThrow(
      'config invalid: providers.x.format.jsonInField: reports inside a form field need format.type "form"',
    );
    expect(() => compileDefinition('x', { kind: 'generic', ...JSON_BASE, statuses: { engagements: { open: 'Opened' } }, accounts: {} })).toThrow(ConfigError);
  });

  it('refuses a jsonInField whose field the signature does not cover exactly', () => {
    expect(() =>
      compileDefinition('x', {
        kind: 'generic',
        format: { type: 'form', jsonInField: 'events' },
        mapping: { messageId: 'id', status: 'event' },
        statuses: {},
        signature: { algorithm: 'hmac-sha1', signed: '{field:other}', location: { header: 'x-sig' } },
        accounts: {},
      }),
    ).toThrow(/format.jsonInField reads "events", which the signed fields do not cover/);
  });

  it('reads a list of time formats in order and names them all when none fits', () => {
    const provider = genericProvider('t', {
      format: { type: 'json' },
      mapping: { messageId: 'id', status: 'status', occurredAt: 'at' },
      statuses: { default: 'delivered' },
      time: { format: ['yyyy-MM-dd HH:mm:ss', 'iso'], zone: 'UTC' },
    });
    const at = (text: string) =>
      provider.parse(rawCallback('t', JSON.stringify({ id: '1', status: 'x', at: text }), 'application/json'), ACCOUNT)[0].occurredAt;
    expect(at('2020-01-01 12:00:00').toISOString()).toBe('2020-01-01T12:00:00.000Z');
    expect(at('2020-01-01T12:00:00.000+00:00').toISOString()).toBe('2020-01-01T12:00:00.000Z');
    expect(at('2020-01-01T14:00:00+02:00').toISOString()).toBe('2020-01-01T12:00:00.000Z');
    expect(() => at('01/01/2020')).toThrow('report[0]: "at" is not yyyy-MM-dd HH:mm:ss or iso: "01/01/2020"');
    expect(() => compileDefinition('t', { kind: 'generic', ...JSON_BASE, time: { format: ['iso', 'nonsense'] }, accounts: {} })).toThrow(
      /providers.t.time.format\[1\]: "nonsense" is not/,
    );
  });

  it('reads a GET callback’s query string as a form, whatever the definition’s format', () => {
    const provider = genericProvider('g', {
      format: { type: 'json', methods: ['GET'] },
      mapping: { messageId: 'id', status: 'status' },
      statuses: { default: 'failed' },
    });
    const raw = rawCallback('g', 'id=42&status=ok', '', { method: 'GET', url: '/v1/callbacks/g?id=42&status=ok' });
    expect(provider.parse(raw, ACCOUNT)).toMatchObject([{ messageId: '42', status: 'failed', error: { code: 'ok' } }]);
  });
});

describe('format.methods and what the signature covers', () => {
  const TOKEN = 'gw-url-signing-key-01';
  const signature = { algorithm: 'hmac-sha256' as const, signed: '{url}', location: { header: 'x-sig' } };
  const provider = genericProvider('gq', {
    format: { type: 'form', methods: ['GET'] },
    mapping: { messageId: 'id', status: 'status' },
    statuses: {},
    signature,
  });
  const account = { ...ACCOUNT, secret: TOKEN, publicUrl: 'https://dlr.example.com' };
  const path = '/v1/callbacks/gq?id=42&status=DELIVRD';
  const sig = createHmac('sha256', TOKEN).update(`https://dlr.example.com${path}`).digest('hex');

  it('takes {url} as signing a GET report (its query string), and refuses the same signature on a POST with a body', () => {
    const get = rawCallback('gq', 'id=42&status=DELIVRD', '', { method: 'GET', url: path, headers: { 'x-sig': sig } });
    expect(verifyWith(provider, get, account)).toEqual({});
    const post = rawCallback('gq', 'id=43&status=DELIVRD', 'application/x-www-form-urlencoded', { url: path, headers: { 'x-sig': sig } });
    expect(() => verifyWith(provider, post, account)).toThrow('this provider calls by GET: a POST is not verified (format.methods)');
  });

  it('refuses {url} alone for a provider that posts: the body would be signed by nothing', () => {
    expect(() =>
      compileDefinition('gq', {
        kind: 'generic',
        format: { type: 'form' },
        mapping: { messageId: 'id', status: 'status' },
        statuses: {},
        signature,
        accounts: {},
      }),
    ).toThrow(/covers none of the body/);
  });
});

/**
 * The signature schemes whose signed content is fixed by their specification, not by a template:
 * Standard Webhooks (Svix), a MessageBird-style JWT (HS256) binding the URL and the body, and HTTP
 * basic auth. Each works on the raw request and throws SignatureInvalid saying why.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureInvalid } from '../../errors';
import { matchesSecret, safeEqual } from '../../util/safe-equal';
import { checkTimestamp, requiredSecret } from '../timestamp';
import type { RawCallback } from '../../raw/types';
import type { AccountSettings, Verified } from '../types';
import type { CompiledSignature } from './definition';
import { webhookSecretKey } from './keys';

/** An account of a generic provider: the settings its signature scheme reads (when it has one). */
export interface GenericAccountSettings extends AccountSettings {
  secret?: string;
  publicKey?: string;
  username?: string;
  password?: string;
  publicUrl?: string;
}

/** The URL the provider called: the account's public base URL and the path and query as received. */
export function publicUrlOf(raw: RawCallback, account: GenericAccountSettings): string {
  return requiredSecret(account.publicUrl, 'publicUrl').replace(/\/+$/, '') + raw.url;
}

/** Signatures and ids are short; a header past this is refused before any work. */
const MAX_HEADER_LENGTH = 8192;

function header(raw: RawCallback, name: string): string | undefined {
  const value = raw.headers[name];
  if (value !== undefined && value.length > MAX_HEADER_LENGTH) throw new SignatureInvalid(`header ${name} is over ${MAX_HEADER_LENGTH} characters`);
  return value === '' ? undefined : value;
}

/**
 * Standard Webhooks (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
 * as the spec's libraries/javascript/src/index.ts verifies): base64 HMAC-SHA256, keyed with the
 * base64-decoded secret after `whsec_`, over `${id}.${timestamp}.${body}`; the signature header
 * holds space-separated `v1,<base64>` entries, any of which may match. Svix (Resend) sends the same
 * under `svix-*` names; the `webhook-*` set is read when its id is there.
 */
export function verifyStandardWebhooks(raw: RawCallback, account: GenericAccountSettings): Verified {
  const key = webhookSecretKey(requiredSecret(account.secret, 'secret'));
  const prefix = header(raw, 'webhook-id') !== undefined ? 'webhook' : 'svix';
  const id = header(raw, `${prefix}-id`);
  const timestamp = header(raw, `${prefix}-timestamp`);
  const signatures = header(raw, `${prefix}-signature`);
  if (id === undefined || signatures === undefined) throw new SignatureInvalid('no webhook-id and webhook-signature (or svix-id and svix-signature) headers');
  checkTimestamp(timestamp, raw.receivedAt, account.timestampToleranceSeconds, `the timestamp (header ${prefix}-timestamp)`);
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(raw.body).digest();
  for (const entry of signatures.split(' ')) {
    const [version, sig] = entry.split(',', 2) as [string, string | undefined];
    if (version !== 'v1' || sig === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(sig)) continue;
    const given = Buffer.from(sig, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return {};
  }
  throw new SignatureInvalid(`no v1 signature in header ${prefix}-signature matches (check the account's secret: the whsec_… signing secret of this endpoint)`);
}

/** The clock skew a JWT's nbf and exp are allowed (MessageBird's SDKs allow 5 s: webhook-signature-jwt.js). */
const JWT_CLOCK_LEEWAY_SECONDS = 5;
const JWT_ALGORITHM = 'HS256';

function jwtPart(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // refused below
  }
  throw new SignatureInvalid(`the JWT's ${what} is not a base64url JSON object`);
}

function hashClaim(claims: Record<string, unknown>, name: string, data: string | Buffer, what: string): void {
  const claim = claims[name];
  if (typeof claim !== 'string' || !/^[0-9a-fA-F]{64}$/.test(claim)) throw new SignatureInvalid(`the JWT has no ${name} claim (hex SHA-256 of the ${what})`);
  if (!safeEqual(claim.toLowerCase(), createHash('sha256').update(data).digest('hex'))) {
    throw new SignatureInvalid(
      what === 'URL'
        ? `the JWT's ${name} is not the SHA-256 of publicUrl + the path and query as received (is publicUrl the URL the provider calls?)`
        : `the JWT's ${name} does not match the body (changed, or re-serialized, on the way)`,
    );
  }
}

/**
 * A JWT signed HS256 with the account's `secret`, whose claims bind the request: `url_hash` (hex
 * SHA-256 of the URL called), `payload_hash` (of the body; required unless the body is empty), and
 * nbf/exp around the receive time (MessageBird-Signature-JWT: messagebird-nodejs
 * lib/webhook-signature-jwt.js). Only HS256: a token naming `none` or any other algorithm is refused
 * before its signature is looked at, so the header cannot choose how it is checked.
 */
export function verifyJwtHs256(sig: CompiledSignature, raw: RawCallback, account: GenericAccountSettings): Verified {
  const secret = requiredSecret(account.secret, 'secret');
  const name = sig.location.header!.toLowerCase();
  const token = header(raw, name);
  if (token === undefined) throw new SignatureInvalid(`no JWT in header ${name}`);
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new SignatureInvalid(`header ${name} is not a JWT (three base64url parts)`);
  const [head, body, signature] = parts as [string, string, string];
  const alg = jwtPart(head, 'header').alg;
  if (alg !== JWT_ALGORITHM) throw new SignatureInvalid(`the JWT's alg is ${JSON.stringify(String(alg).slice(0, 20))}: only ${JWT_ALGORITHM} is accepted`);
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SignatureInvalid("the JWT's signature does not match (check the account's secret: the provider's signing key)");
  }
  const claims = jwtPart(body, 'claims');
  const now = raw.receivedAt.getTime() / 1000;
  if (typeof claims.exp !== 'number') throw new SignatureInvalid('the JWT has no exp claim, so a captured request would stay valid forever');
  if (now > claims.exp + JWT_CLOCK_LEEWAY_SECONDS)
    throw new SignatureInvalid(`the JWT expired ${Math.round(now - claims.exp)} s before it was received (stale or replayed)`);
  if (typeof claims.nbf === 'number' && now < claims.nbf - JWT_CLOCK_LEEWAY_SECONDS) {
    throw new SignatureInvalid(`the JWT is not valid until ${Math.round(claims.nbf - now)} s after it was received (check the clocks)`);
  }
  if (sig.claims.issuer !== null && claims.iss !== sig.claims.issuer) throw new SignatureInvalid(`the JWT's issuer is not ${sig.claims.issuer}`);
  hashClaim(claims, sig.claims.url, publicUrlOf(raw, account), 'URL');
  // a GET has no body: what the raw log keeps as its body is the query string, which url_hash covers
  const payload = raw.method === 'GET' ? Buffer.alloc(0) : raw.body;
  if (claims[sig.claims.body] !== undefined || payload.length > 0) hashClaim(claims, sig.claims.body, payload, 'body');
  return {};
}

/**
 * HTTP basic auth (`https://user:password@host/…` in the provider's webhook URL, as Postmark
 * documents): both compared in constant time with the account's `username` and `password`. It
 * proves who sent the request and signs none of it: TLS keeps the body intact.
 */
export function verifyBasicAuth(raw: RawCallback, account: GenericAccountSettings): Verified {
  const username = requiredSecret(account.username, 'username');
  const password = requiredSecret(account.password, 'password');
  const value = header(raw, 'authorization');
  const m = value === undefined ? null : /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(value);
  if (!m) throw new SignatureInvalid('no Authorization: Basic header (put user:password@ in the URL the provider calls)');
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const ok = colon >= 0 && matchesSecret(decoded.slice(0, colon), username);
  const okPassword = colon >= 0 && matchesSecret(decoded.slice(colon + 1), password);
  if (!ok || !okPassword) throw new SignatureInvalid('the basic auth user name or password does not match the account’s');
  return {};
}

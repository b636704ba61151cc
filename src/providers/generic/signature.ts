import { createHash, createHmac, verify as verifySignature } from 'node:crypto';
import { SignatureInvalid } from '../../errors';
import { safeEqual } from '../../util/safe-equal';
import { checkTimestamp, requiredSecret } from '../timestamp';
import type { RawCallback } from '../../raw/types';
import type { Verified } from '../types';
import { describeLocation, type CompiledSignature, type GenericDefinition, type ParamsOptions, type ValueLocation } from './definition';
import { documentOf, type Document } from './document';
import { ed25519Key } from './keys';
import { publicUrlOf, verifyBasicAuth, verifyJwtHs256, verifyStandardWebhooks, type GenericAccountSettings } from './schemes';

export type { GenericAccountSettings };

const MAX_NONCE_LENGTH = 200;
/** Signatures accepted side by side in one value (a provider rotating its key sends two). */
const MAX_SIGNATURES = 8;

/** Request parts as the signature sees them; the body is parsed only if a field is asked for. */
class SignedRequest {
  private doc: Document | undefined;
  private query: URLSearchParams | undefined;
  constructor(
    private readonly def: GenericDefinition,
    readonly raw: RawCallback,
  ) {}

  document(): Document {
    this.doc ??= documentOf(this.def, this.raw);
    return this.doc;
  }

  fields(): [string, string][] {
    return this.document().fields;
  }

  field(name: string): string | undefined {
    return this.fields().find(([k]) => k === name)?.[1];
  }

  locate(location: ValueLocation): string | undefined {
    let value: string | undefined;
    if (location.header !== undefined) value = this.raw.headers[location.header.toLowerCase()];
    else if (location.query !== undefined) {
      this.query ??= new URLSearchParams(this.raw.url.includes('?') ? this.raw.url.slice(this.raw.url.indexOf('?') + 1) : '');
      value = this.query.get(location.query) ?? undefined;
    } else if (location.field !== undefined) value = this.field(location.field);
    if (value === undefined || value === '') return undefined;
    if (location.prefix) return value.startsWith(location.prefix) ? value.slice(location.prefix.length) : undefined;
    return value;
  }
}

/**
 * `{params}`: the body's fields but the excluded ones, sorted by name (then value, for repeated
 * names), values as received with the configured replacements, joined as configured.
 */
function paramsString(fields: [string, string][], opts: Required<ParamsOptions>): string {
  const excluded = new Set(opts.exclude);
  const replacements = Object.entries(opts.replaceInValues);
  const pairs = fields
    .filter(([k, v]) => !excluded.has(k) && !(opts.skipEmpty && v === ''))
    .map(([k, v]): [string, string] => [k, replacements.reduce((text, [from, to]) => text.split(from).join(to), v)])
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return opts.prefix + pairs.map(([k, v]) => (opts.valuesOnly ? v : `${k}${opts.keyValueSeparator}${v}`)).join(opts.separator);
}

/**
 * What a definition cannot decide when the body is not signed as bytes (definition.ts,
 * checkCoverage): a JSON list has no members for `{params}` or `{field:…}` to sign; a form field the
 * reports read, sent twice, is signed as both values sorted while the report takes the first.
 */
function checkCovered(sig: CompiledSignature, req: SignedRequest): void {
  const doc = req.document();
  if (doc.kind === 'json' && Array.isArray(doc.root)) {
    throw new SignatureInvalid('the body is a JSON list, and the signed parameters cover the members of one JSON object: none of it is signed');
  }
  if (doc.kind !== 'form') return;
  for (const name of sig.singleFields) {
    const count = doc.fields.reduce((n, [k]) => (k === name ? n + 1 : n), 0);
    if (count > 1) throw new SignatureInvalid(`field "${name}" appears ${count} times: which one the report takes is not signed`);
  }
}

/** The bytes that are signed: the template with the request's parts in place; the body as raw bytes. */
function signedBytes(sig: CompiledSignature, req: SignedRequest, values: { secret: string; url: string; timestamp?: string; nonce?: string }): Buffer {
  const chunks = sig.template.map((part): Buffer => {
    switch (part.kind) {
      case 'text':
        return Buffer.from(part.text, 'utf8');
      case 'body':
        return req.raw.body;
      case 'params':
        return Buffer.from(paramsString(req.fields(), sig.params), 'utf8');
      case 'secret':
        return Buffer.from(values.secret, 'utf8');
      case 'url':
        return Buffer.from(values.url, 'utf8');
      case 'timestamp':
        return Buffer.from(values.timestamp ?? '', 'utf8');
      case 'nonce':
        return Buffer.from(values.nonce ?? '', 'utf8');
      case 'header':
        return Buffer.from(req.raw.headers[part.name] ?? '', 'utf8');
      case 'field':
        return Buffer.from(req.field(part.name) ?? '', 'utf8');
    }
  });
  return Buffer.concat(chunks);
}

function digest(algorithm: string, secret: string, data: Buffer): Buffer {
  if (algorithm.startsWith('hmac-')) return createHmac(algorithm.slice(5), secret).update(data).digest();
  return createHash(algorithm).update(data).digest();
}

/** The signature as sent, as bytes; null when it is not in the configured encoding. */
function decodeSignature(text: string, encoding: CompiledSignature['encoding']): Buffer | null {
  if (encoding === 'hex') return /^(?:[0-9a-fA-F]{2})+$/.test(text) ? Buffer.from(text, 'hex') : null;
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : null;
}

/** NetEase Yunxin's MD5 header: the body's digest as sent must be the body's (the signature covers the header). */
function checkBodyDigest(digestOf: NonNullable<CompiledSignature['bodyDigest']>, raw: RawCallback): void {
  const sent = raw.headers[digestOf.header];
  if (sent === undefined || sent === '') throw new SignatureInvalid(`no body digest in header ${digestOf.header}`);
  const actual = createHash(digestOf.algorithm).update(raw.body).digest(digestOf.encoding);
  const matches = digestOf.encoding === 'hex' ? safeEqual(sent.toLowerCase(), actual) : safeEqual(sent, actual);
  if (!matches) throw new SignatureInvalid(`header ${digestOf.header} is not the ${digestOf.algorithm} of the body (changed on the way)`);
}

/** Whether one signature as sent is right for the signed bytes. */
function matches(sig: CompiledSignature, sent: string, data: Buffer, account: GenericAccountSettings, secret: string): boolean {
  const received = decodeSignature(sent, sig.encoding);
  if (!received) return false;
  if (sig.algorithm === 'ed25519') {
    const key = ed25519Key(requiredSecret(account.publicKey, 'publicKey'));
    try {
      return verifySignature(null, data, key, received);
    } catch {
      return false; // a signature of the wrong length is simply not this key's
    }
  }
  return safeEqual(digest(sig.algorithm, secret, data).toString('hex'), received.toString('hex'));
}

/**
 * Verifies a generic provider's signature on the raw request: the fixed schemes (./schemes.ts), or
 * a template's: timestamp within the account's tolerance, the body's digest header (when there is
 * one) right for the body, the signed bytes' digest equal to one sent (constant time) or the Ed25519
 * signature valid for them, the nonce handed back to be recorded once.
 */
export function verifyGeneric(def: GenericDefinition, sig: CompiledSignature, raw: RawCallback, account: GenericAccountSettings): Verified {
  // what the signature covers was decided for the methods the definition names: a GET's {url} signs its query, not a POST's body
  if (!(def.format.methods as readonly string[]).includes(raw.method)) {
    throw new SignatureInvalid(`this provider calls by ${def.format.methods.join(' or ')}: a ${raw.method.slice(0, 10)} is not verified (format.methods)`);
  }
  if (sig.algorithm === 'standard-webhooks') return verifyStandardWebhooks(raw, account);
  if (sig.algorithm === 'jwt-hs256') return verifyJwtHs256(sig, raw, account);
  if (sig.algorithm === 'basic-auth') return verifyBasicAuth(raw, account);
  const secret = sig.algorithm === 'ed25519' ? '' : requiredSecret(account.secret, 'secret');
  if (sig.algorithm === 'ed25519') requiredSecret(account.publicKey, 'publicKey');
  const req = new SignedRequest(def, raw);
  const sent = req.locate(sig.location);
  if (sent === undefined) throw new SignatureInvalid(`no signature in ${describeLocation(sig.location)}`);
  const values: { secret: string; url: string; timestamp?: string; nonce?: string } = { secret, url: '' };
  if (sig.template.some((part) => part.kind === 'url')) values.url = publicUrlOf(raw, account);
  if (sig.timestamp) {
    const where = describeLocation(sig.timestamp);
    values.timestamp = req.locate(sig.timestamp);
    const ms = sig.timestamp.unit === 'ms' || (sig.timestamp.unit === 'auto' && /^\d{13,15}$/.test(values.timestamp ?? ''));
    const seconds = ms && values.timestamp !== undefined && /^\d{1,15}$/.test(values.timestamp) ? String(Number(values.timestamp) / 1000) : values.timestamp;
    checkTimestamp(seconds, raw.receivedAt, account.timestampToleranceSeconds, `the timestamp (${where})`);
  }
  if (sig.nonce) {
    values.nonce = req.locate(sig.nonce);
    if (values.nonce === undefined || values.nonce.length > MAX_NONCE_LENGTH)
      throw new SignatureInvalid(`no nonce (or one over ${MAX_NONCE_LENGTH} characters) in ${describeLocation(sig.nonce)}`);
  }
  if (sig.bodyDigest) checkBodyDigest(sig.bodyDigest, raw);
  const candidates =
    sig.separator === null
      ? [sent]
      : sent
          .split(sig.separator)
          .map((s) => s.trim())
          .slice(0, MAX_SIGNATURES);
  if (sig.separator === null && !decodeSignature(sent, sig.encoding)) {
    throw new SignatureInvalid(`the signature in ${describeLocation(sig.location)} is not ${sig.encoding}`);
  }
  const data = signedBytes(sig, req, values);
  if (!candidates.some((candidate) => matches(sig, candidate, data, account, secret))) {
    const key = sig.algorithm === 'ed25519' ? 'publicKey' : 'secret';
    throw new SignatureInvalid(
      `the signature in ${describeLocation(sig.location)} does not match (check the account's ${key}${values.url ? ' and publicUrl' : ''} and the provider's ${sig.algorithm} setting)`,
    );
  }
  if (!sig.bodySigned) checkCovered(sig, req);
  if (values.nonce === undefined) return {};
  const expiresAt = new Date(raw.receivedAt.getTime() + 2 * account.timestampToleranceSeconds * 1000);
  return { nonces: [{ value: values.nonce, expiresAt }] };
}

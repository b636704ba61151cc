import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Keys as providers hand them out, turned into what node:crypto takes. Each throws an Error whose
 * message says what is wrong with the text (never the text itself: it may be a secret).
 */

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_KEY_BYTES = 32;

const keys = new Map<string, KeyObject>();
const MAX_KEYS = 256;

/** An Ed25519 public key: base64 of the raw 32 bytes (Telnyx's portal), or a PEM. */
export function ed25519Key(text: string): KeyObject {
  let key = keys.get(text);
  if (key) return key;
  if (text.includes('-----BEGIN')) {
    key = createPublicKey(text);
  } else {
    const raw = Buffer.from(text.trim(), 'base64');
    if (raw.length !== ED25519_KEY_BYTES || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text.trim())) {
      throw new Error(`is not the base64 of a raw ${ED25519_KEY_BYTES}-byte Ed25519 public key (or a PEM)`);
    }
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not Ed25519`);
  if (keys.size >= MAX_KEYS) keys.clear();
  keys.set(text, key);
  return key;
}

/** A Standard Webhooks secret: `whsec_` (optional) and the base64 of the key bytes, as the spec's libraries read it. */
export function webhookSecretKey(text: string): Buffer {
  const encoded = text.startsWith('whsec_') ? text.slice('whsec_'.length) : text;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new Error('is not whsec_ followed by base64 (the signing secret as the provider shows it)');
  return Buffer.from(encoded, 'base64');
}

import { hash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => hash('sha256', s, 'buffer');

/** Compares two secrets or signatures in constant time (hashing first makes the lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Digests of configured secrets (a handful; bounded in case configuration is reloaded often). */
const secretDigests = new Map<string, Buffer>();
const MAX_SECRETS = 256;

/** `safeEqual` against a configured secret, whose digest is computed once. */
export function matchesSecret(given: string, secret: string): boolean {
  let expected = secretDigests.get(secret);
  if (!expected) {
    if (secretDigests.size >= MAX_SECRETS) secretDigests.clear();
    expected = digest(secret);
    secretDigests.set(secret, expected);
  }
  return timingSafeEqual(digest(given), expected);
}

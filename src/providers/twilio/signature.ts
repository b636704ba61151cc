import { createHash, createHmac } from 'node:crypto';
import { SignatureInvalid } from '../../errors';
import { safeEqual } from '../../util/safe-equal';

/**
 * Twilio's request signature (twilio.com/docs/usage/webhooks/webhooks-security; twilio-node
 * src/webhooks/webhooks.ts): base64 HMAC-SHA1, keyed with the Auth Token, of the full URL Twilio
 * called followed by every POST parameter, sorted by name, as name+value (repeated names: values
 * sorted). Query parameters are part of the URL only.
 */
export function twilioSignature(authToken: string, url: string, params: [string, string][]): string {
  const names = [...new Set(params.map(([k]) => k))].sort();
  let data = url;
  for (const name of names) {
    for (const value of params
      .filter(([k]) => k === name)
      .map(([, v]) => v)
      .sort())
      data += name + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** Twilio signs inconsistently with or without the default port, so the SDK accepts both. */
export function urlVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/:?#]+)(:\d+)?(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, host, port, rest] = m as unknown as [string, string, string, string | undefined, string];
  if (port) return [url, `${scheme}://${host}${rest}`];
  return [url, `${scheme}://${host}:${scheme.toLowerCase() === 'https' ? 443 : 80}${rest}`];
}

export interface TwilioRequest {
  /** The URL Twilio called: the account's publicUrl + the path and query as received. */
  url: string;
  signature: string | undefined;
  body: Buffer;
  /** The form parameters (empty for a JSON body, which is covered by bodySHA256 instead). */
  params: [string, string][];
  /** A JSON body: the signature covers the URL alone, so the URL must carry the body's hash. */
  json: boolean;
}

export function verifyTwilioSignature(authToken: string, req: TwilioRequest): void {
  if (!req.signature) throw new SignatureInvalid('no X-Twilio-Signature header');
  const query = req.url.includes('?') ? new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1)) : null;
  const bodySha = query?.get('bodySHA256');
  // Without bodySHA256 a JSON body would be signed by nothing: the signature over the URL alone
  // (a captured form signature's URL plus params, passed off as a query) would cover any body.
  if (req.json && !bodySha)
    throw new SignatureInvalid('a JSON body must be covered by the bodySHA256 parameter of the URL (Twilio adds it to JSON webhooks); none was given');
  if (bodySha) {
    // JSON bodies: the URL carries the body's SHA-256 and the signature covers the URL alone.
    const actual = createHash('sha256').update(req.body).digest('hex');
    if (!safeEqual(actual, bodySha.toLowerCase())) throw new SignatureInvalid('the body does not match the bodySHA256 of the URL (was it re-serialized?)');
  }
  const params = bodySha ? [] : req.params;
  const ok = urlVariants(req.url).some((u) => safeEqual(twilioSignature(authToken, u, params), req.signature!));
  if (!ok) {
    throw new SignatureInvalid(
      `X-Twilio-Signature does not match for ${req.url.replace(/\?.*/, '?…')} — is publicUrl the URL Twilio calls, and the Auth Token the account's primary one?`,
    );
  }
}

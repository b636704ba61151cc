import { createVerify, X509Certificate } from 'node:crypto';
import { PayloadInvalid, SignatureInvalid } from '../../errors';
import { isObject, stringField } from '../decode';
import type { VerifyContext } from '../types';

/**
 * Amazon SNS message signatures (docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-
 * message.html; aws-js-sns-message-validator): RSA PKCS#1 v1.5 with SHA1 (SignatureVersion 1) or
 * SHA256 (2) over "key\nvalue\n" for a fixed list of keys, with the certificate at SigningCertURL.
 */
export const SNS_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const;
export type SnsType = (typeof SNS_TYPES)[number];

/** Certificates and subscription URLs come only from SNS itself, over https. */
const SNS_HOST = /^sns\.[a-z0-9-]{3,}\.amazonaws\.com(\.cn)?$/i;

const SIGNED_KEYS: Record<SnsType, readonly string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

export interface SnsEnvelope {
  Type: SnsType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
  [key: string]: unknown;
}

export function parseEnvelope(doc: unknown): SnsEnvelope {
  if (!isObject(doc)) throw new PayloadInvalid('expected an SNS message (JSON object)');
  const type = stringField(doc, 'Type', 'SNS message', true);
  if (!(SNS_TYPES as readonly string[]).includes(type)) throw new PayloadInvalid(`SNS Type "${type}" is not one this endpoint handles`);
  for (const k of ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'])
    stringField(doc, k, 'SNS message', true);
  for (const k of ['Subject', 'SubscribeURL', 'Token']) stringField(doc, k, 'SNS message');
  return doc as SnsEnvelope;
}

export function stringToSign(msg: SnsEnvelope): string {
  return SIGNED_KEYS[msg.Type]
    .filter((k) => typeof msg[k] === 'string')
    .map((k) => `${k}\n${msg[k] as string}\n`)
    .join('');
}

/** True for an https URL on an SNS host (certificates: a .pem path). */
export function isSnsUrl(value: string, pem: boolean): boolean {
  if (value.length > 2048) return false; // new URL() of a 1 MiB text costs tens of ms
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && SNS_HOST.test(url.hostname) && (!pem || url.pathname.endsWith('.pem')) && url.port === '';
  } catch {
    return false;
  }
}

const fetched = new Map<string, string>();

async function certificate(url: string, pinned: Record<string, string> | undefined, ctx: VerifyContext): Promise<string> {
  if (!isSnsUrl(url, true)) throw new SignatureInvalid(`SigningCertURL ${url} is not an https .pem URL on an sns.<region>.amazonaws.com host`);
  const pin = pinned?.[url];
  if (pin) return pin;
  let pem = fetched.get(url);
  if (!pem) {
    try {
      pem = await ctx.fetchText(url);
      new X509Certificate(pem);
    } catch (err) {
      throw new SignatureInvalid(`could not get the signing certificate ${url}: ${(err as Error).message} (pin it under "certificates" to avoid fetching)`);
    }
    fetched.set(url, pem);
  }
  return pem;
}

export async function verifySnsSignature(msg: SnsEnvelope, pinned: Record<string, string> | undefined, ctx: VerifyContext): Promise<void> {
  const algorithm = msg.SignatureVersion === '1' ? 'RSA-SHA1' : msg.SignatureVersion === '2' ? 'RSA-SHA256' : null;
  if (!algorithm) throw new SignatureInvalid(`SignatureVersion "${msg.SignatureVersion}" is not 1 or 2`);
  const pem = await certificate(msg.SigningCertURL, pinned, ctx);
  let ok: boolean;
  try {
    ok = createVerify(algorithm).update(stringToSign(msg), 'utf8').verify(pem, msg.Signature, 'base64');
  } catch (err) {
    throw new SignatureInvalid(`the signing certificate could not be used: ${(err as Error).message}`);
  }
  if (!ok) throw new SignatureInvalid('the SNS signature does not match the message and its signing certificate');
}

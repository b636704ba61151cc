import { createHmac, createSign, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import twilioSdk from 'twilio';
import { FIXTURES_DIR } from './fixtures';

/**
 * Signatures made the way each provider makes them — with its SDK where there is one (twilio), or
 * its documented algorithm written here independently of src/ (so the service is not checked
 * against itself).
 */

/** Twilio's own SDK computes the expected X-Twilio-Signature. */
export function twilioSignature(authToken: string, url: string, form: string): string {
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(form)) params[k] = v;
  return twilioSdk.getExpectedTwilioSignature(authToken, url, params);
}

/** A P-256 key pair; the public key as SendGrid shows it (base64 DER SPKI). */
export function sendgridKeys(): { privateKey: KeyObject; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') };
}

export function sendgridHeaders(privateKey: KeyObject, body: Buffer, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = sign('sha256', Buffer.concat([Buffer.from(String(timestamp)), body]), privateKey).toString('base64');
  return { 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': String(timestamp) };
}

/** Re-signs a Mailgun body: signature = hex HMAC-SHA256(signingKey, timestamp + token). */
export function mailgunSigned(body: Buffer | string, signingKey: string, opts: { timestamp?: number; token?: string } = {}): string {
  const doc = JSON.parse(body.toString()) as { signature: Record<string, string> };
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const token = opts.token ?? randomBytes(25).toString('hex');
  doc.signature = {
    timestamp,
    token,
    signature: createHmac('sha256', signingKey)
      .update(timestamp + token)
      .digest('hex'),
  };
  return JSON.stringify(doc);
}

export const SNS_CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000000000000a.pem';
export const SNS_TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-events';
export const SNS_CERT = fs.readFileSync(path.join(FIXTURES_DIR, 'ses/test-signing-cert.pem'), 'utf8');
const SNS_KEY = fs.readFileSync(path.join(FIXTURES_DIR, 'ses/test-signing-key.pem'), 'utf8');

/** Signs an SNS message as AWS documents it (sns-verify-signature-of-message.html). */
export function snsSigned(body: Buffer | string, over: Record<string, string> = {}, version: '1' | '2' = '2'): string {
  const msg: Record<string, string> = { ...(JSON.parse(body.toString()) as Record<string, string>), ...over, SignatureVersion: version };
  const keys =
    msg.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const text = keys
    .filter((k) => msg[k] !== undefined)
    .map((k) => `${k}\n${msg[k]}\n`)
    .join('');
  msg.Signature = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256')
    .update(text)
    .sign(SNS_KEY, 'base64');
  return JSON.stringify(msg);
}

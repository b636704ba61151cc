/**
 * Twilio SendGrid — Event Webhook (providers.md §E; twilio.com/docs/sendgrid/for-developers/
 * tracking-events/getting-started-event-webhook-security-features).
 *
 * Route:     POST /v1/callbacks/sendgrid[/:account]  (Settings → Mail Settings → Event Webhook;
 *            turn on "Signed Event Webhook Requests" and paste the public key into `publicKey`)
 * Signature: ECDSA P-256 / SHA-256 (DER signature, base64) over the
 *            X-Twilio-Email-Event-Webhook-Timestamp header followed by the raw body bytes;
 *            header X-Twilio-Email-Event-Webhook-Signature. The key is base64 DER (SPKI).
 * Body:      a JSON array of events, mixed types and messages; real bodies end in CRLF and have
 *            CRLF between events — verified as received, never re-serialized.
 * Ack:       an empty 200.
 * Mapping:   processed → queued, deferred → deferred, delivered, bounce → failed (code: the SMTP
 *            status, e.g. 5.1.1), dropped → rejected; open/click/spamreport/unsubscribe/group_* are
 *            engagement. message_id = sg_message_id up to the first "." (the X-Message-Id of the send).
 */
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { PayloadInvalid, SignatureInvalid } from '../../errors';
import type { ProviderReport, Status } from '../../status/types';
import { bodyText, isObject, parseJson, reportObjects, stringField } from '../decode';
import { checkTimestamp, requiredSecret } from '../timestamp';
import type { AccountSettings, Provider, StatusEntry } from '../types';

/** A SendGrid account: the Event Webhook's verification key (Settings → Mail Settings → Signed Event Webhook). */
export interface SendgridSettings extends AccountSettings {
  /** The base64 public key SendGrid shows (ECDSA P-256, SPKI DER). */
  publicKey?: string;
}

const STATUS_EVENTS: Readonly<Record<string, Status>> = {
  processed: 'queued',
  deferred: 'deferred',
  delivered: 'delivered',
  bounce: 'failed',
  dropped: 'rejected',
};

const ENGAGEMENT_EVENTS: Readonly<Record<string, string>> = {
  open: 'opened',
  click: 'clicked',
  spamreport: 'complained',
  unsubscribe: 'unsubscribed',
  group_unsubscribe: 'unsubscribed',
  group_resubscribe: 'resubscribed',
};

const keys = new Map<string, KeyObject>();

function publicKey(account: SendgridSettings): KeyObject {
  const text = requiredSecret(account.publicKey, 'publicKey');
  let key = keys.get(text);
  if (!key) {
    try {
      key = createPublicKey({ key: Buffer.from(text.replace(/-----[^-]+-----|\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
    } catch {
      throw new SignatureInvalid('the configured publicKey is not a base64 DER public key as SendGrid shows it');
    }
    keys.set(text, key);
  }
  return key;
}

function messageIdOf(event: Record<string, unknown>, where: string): string {
  const sg = stringField(event, 'sg_message_id', where);
  if (sg) return sg.split('.')[0];
  const smtp = stringField(event, 'smtp-id', where);
  if (smtp) return smtp.replace(/^<|>$/g, '');
  throw new PayloadInvalid(`${where}: neither "sg_message_id" nor "smtp-id" names the message`);
}

function toReport(event: Record<string, unknown>, i: number): ProviderReport | null {
  const where = `event[${i}]`;
  const name = stringField(event, 'event', where, true);
  const status = STATUS_EVENTS[name];
  const action = ENGAGEMENT_EVENTS[name];
  if (!status && !action) return null; // a type SendGrid added later: kept in the raw log, replayable
  const timestamp = event.timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) throw new PayloadInvalid(`${where}: "timestamp" must be Unix seconds`);
  const base = {
    messageId: messageIdOf(event, where),
    recipient: stringField(event, 'email', where, true).toLowerCase(),
    occurredAt: new Date(timestamp * 1000),
    eventId: stringField(event, 'sg_event_id', where),
    attributes: {} as Record<string, unknown>,
  };
  for (const k of ['sg_message_id', 'category', 'type', 'bounce_classification', 'attempt', 'url', 'ip'])
    if (event[k] !== undefined) base.attributes[k] = event[k];
  if (action) return { ...base, type: 'message.engagement', action };
  const reason = stringField(event, 'reason', where) ?? stringField(event, 'response', where) ?? null;
  const failed = status === 'failed' || status === 'rejected' || status === 'deferred';
  const code = stringField(event, 'status', where) ?? (event.type === 'blocked' ? 'blocked' : name);
  return { ...base, type: 'message.status', status: status, error: failed ? { code, message: reason } : null };
}

export const sendgrid: Provider<SendgridSettings> = {
  name: 'sendgrid',
  channel: 'email',
  unsigned: false,
  verify(raw, account) {
    const key = publicKey(account);
    const signature = raw.headers['x-twilio-email-event-webhook-signature'];
    const timestamp = raw.headers['x-twilio-email-event-webhook-timestamp'];
    if (!signature) throw new SignatureInvalid('no X-Twilio-Email-Event-Webhook-Signature header');
    checkTimestamp(timestamp, raw.receivedAt, account.timestampToleranceSeconds, 'X-Twilio-Email-Event-Webhook-Timestamp');
    const ok = verifySignature('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), raw.body]), key, Buffer.from(signature, 'base64'));
    if (!ok) throw new SignatureInvalid('the ECDSA signature does not match the timestamp and body as received (wrong key, or a re-serialized body)');
  },
  parse(raw): ProviderReport[] {
    const doc = parseJson(bodyText(raw));
    if (!Array.isArray(doc) && !isObject(doc)) throw new PayloadInvalid('expected a JSON array of events');
    return reportObjects(doc, 'event')
      .map(toReport)
      .filter((r): r is ProviderReport => r !== null);
  },
  ack: () => ({ status: 200, contentType: 'text/plain; charset=utf-8', body: '' }),
  statuses: [
    ...Object.entries(STATUS_EVENTS).map(([code, status]): StatusEntry => ({ code, status })),
    ...Object.entries(ENGAGEMENT_EVENTS).map(([code, action]): StatusEntry => ({ code, status: `engagement:${action}` })),
  ],
  about: {
    description:
      'Twilio SendGrid Event Webhook: a JSON array of events of mixed types and messages (verified on the raw bytes, CRLFs included); bounce keeps the SMTP status as the error code; message_id = sg_message_id up to the first ".".',
    signature: {
      scheme: 'ecdsa-p256',
      summary:
        "X-Twilio-Email-Event-Webhook-Signature: ECDSA P-256 / SHA-256 (DER, base64) over the X-Twilio-Email-Event-Webhook-Timestamp header followed by the raw body, with the account's public key; the timestamp within timestampToleranceSeconds",
    },
    settings: [{ name: 'publicKey', required: true, description: 'The Signed Event Webhook verification key (base64 DER, SPKI).' }],
    sources: [
      'https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features',
      'https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event',
    ],
  },
};

/**
 * Mailgun — webhooks, JSON (providers.md §F; documentation.mailgun.com …/securing-webhooks and
 * …/webhook-payloads).
 *
 * Route:     POST /v1/callbacks/mailgun[/:account]  (Sending → Webhooks, one URL per event type)
 * Signature: body field signature {timestamp, token, signature}: hex HMAC-SHA256 of timestamp+token
 *            keyed with the HTTP webhook signing key (`signingKey`). It does not cover event-data,
 *            so the timestamp must be fresh and a token seen before is a replay (both refused).
 * Body:      one event per request: {"signature":{…},"event-data":{…}}.
 * Ack:       200 {"message":"ok"}.
 * Mapping:   accepted → queued, delivered, failed permanent → failed, failed temporary → deferred
 *            (code: delivery-status.code, else reason), rejected; opened/clicked/unsubscribed/
 *            complained are engagement. message_id = message.headers.message-id without <>.
 */
import { createHmac } from 'node:crypto';
import { PayloadInvalid, SignatureInvalid } from '../../errors';
import type { ProviderReport, Status } from '../../status/types';
import { safeEqual } from '../../util/safe-equal';
import { bodyText, fieldText, isObject, parseJson, stringField } from '../decode';
import { checkTimestamp, requiredSecret } from '../timestamp';
import type { AccountSettings, Provider, StatusEntry } from '../types';

/** A Mailgun account: its HTTP webhook signing key. */
export interface MailgunSettings extends AccountSettings {
  signingKey?: string;
}
import type { RawCallback } from '../../raw/types';

const ENGAGEMENT = new Set(['opened', 'clicked', 'unsubscribed', 'complained']);

function document(raw: RawCallback): Record<string, unknown> {
  const doc = parseJson(bodyText(raw));
  if (!isObject(doc)) throw new PayloadInvalid('expected a JSON object with "signature" and "event-data"');
  return doc;
}

function statusOf(event: string, severity: string | undefined): Status | null {
  if (event === 'accepted') return 'queued';
  if (event === 'delivered') return 'delivered';
  if (event === 'rejected') return 'rejected';
  if (event === 'failed') return severity === 'temporary' ? 'deferred' : 'failed';
  return null;
}

export const mailgun: Provider<MailgunSettings> = {
  name: 'mailgun',
  channel: 'email',
  unsigned: false,
  verify(raw, account) {
    const key = requiredSecret(account.signingKey, 'signingKey');
    const doc = document(raw);
    const sig = isObject(doc.signature) ? doc.signature : null;
    if (!sig) throw new SignatureInvalid('no "signature" object in the body');
    const timestamp = typeof sig.timestamp === 'number' ? String(sig.timestamp) : (sig.timestamp as string | undefined);
    const token = sig.token;
    const signature = sig.signature;
    if (typeof token !== 'string' || token === '' || typeof signature !== 'string')
      throw new SignatureInvalid('signature.token or signature.signature is missing');
    checkTimestamp(timestamp, raw.receivedAt, account.timestampToleranceSeconds, 'signature.timestamp');
    const expected = createHmac('sha256', key).update(`${timestamp}${token}`).digest('hex');
    if (!safeEqual(expected, signature.toLowerCase()))
      throw new SignatureInvalid('signature.signature does not match (is signingKey the HTTP webhook signing key?)');
    return { nonces: [{ value: token, expiresAt: new Date(raw.receivedAt.getTime() + 2 * account.timestampToleranceSeconds * 1000) }] };
  },
  parse(raw): ProviderReport[] {
    const data = document(raw)['event-data'];
    if (!isObject(data)) throw new PayloadInvalid('"event-data" is missing');
    const where = 'event-data';
    const event = stringField(data, 'event', where, true);
    const timestamp = data.timestamp;
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) throw new PayloadInvalid(`${where}: "timestamp" must be Unix seconds`);
    const headers = isObject(data.message) && isObject(data.message.headers) ? data.message.headers : {};
    const messageId = stringField(headers, 'message-id', `${where}.message.headers`, true).replace(/^<|>$/g, '');
    const base = {
      messageId,
      recipient: stringField(data, 'recipient', where, true).toLowerCase(),
      occurredAt: new Date(Math.round(timestamp * 1000)),
      eventId: stringField(data, 'id', where),
      attributes: {} as Record<string, unknown>,
    };
    for (const k of ['user-variables', 'tags', 'severity', 'reason', 'log-level']) if (data[k] !== undefined) base.attributes[k] = data[k];
    if (ENGAGEMENT.has(event)) return [{ ...base, type: 'message.engagement', action: event }];
    const status = statusOf(event, stringField(data, 'severity', where));
    if (!status) return []; // stored, list_member_uploaded, …: nothing to do with delivery
    const ds = isObject(data['delivery-status']) ? data['delivery-status'] : {};
    const code = ds.code !== undefined && ds.code !== null && ds.code !== '' ? fieldText(ds.code) : (stringField(data, 'reason', where) ?? event);
    const message = [ds.message, ds.description].find((m) => typeof m === 'string' && m !== '') as string | undefined;
    const failed = status === 'failed' || status === 'deferred' || status === 'rejected';
    return [{ ...base, type: 'message.status', status, error: failed ? { code, message: message ?? null } : null }];
  },
  ack: () => ({ status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ message: 'ok' }) }),
  statuses: [
    { code: 'accepted', status: 'queued' },
    { code: 'delivered', status: 'delivered' },
    { code: 'failed (severity permanent)', status: 'failed' },
    { code: 'failed (severity temporary)', status: 'deferred' },
    { code: 'rejected', status: 'rejected' },
    ...[...ENGAGEMENT].map((action): StatusEntry => ({ code: action, status: `engagement:${action}` })),
  ],
  about: {
    description:
      'Mailgun webhooks (JSON): one event per request, {"signature": {…}, "event-data": {…}}; the code of a failure is delivery-status.code, else the reason; message_id = the Message-Id header without <>.',
    signature: {
      scheme: 'hmac-sha256',
      summary:
        'signature.signature: hex HMAC-SHA256 (the webhook signing key) of signature.timestamp + signature.token; the timestamp within timestampToleranceSeconds and each token used once (it does not cover event-data)',
    },
    settings: [{ name: 'signingKey', required: true, description: 'The HTTP webhook signing key.' }],
    sources: ['https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/#securing-webhooks', '../shared/providers.md §F'],
  },
};

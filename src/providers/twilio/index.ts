/**
 * Twilio Programmable Messaging — status callbacks (providers.md §D; twilio.com/docs/messaging/
 * guides/outbound-message-status-in-status-callbacks).
 *
 * Route:     POST /v1/callbacks/twilio[/:account]  — use <publicUrl>/v1/callbacks/twilio as the
 *            StatusCallback of your sends or of the Messaging Service.
 * Signature: X-Twilio-Signature, HMAC-SHA1 (Auth Token) over publicUrl + path + query + sorted
 *            form parameters (signature.ts); JSON bodies via the bodySHA256 query parameter.
 * Body:      a form post per status change: MessageSid, MessageStatus, To, From, ErrorCode, …
 *            Twilio adds parameters without notice: every received one is signed.
 * Ack:       an empty 200.
 * Quirks:    no event time — the receive time is used; `read` counts as delivered. The service sits
 *            behind proxies, so the URL is rebuilt from the account's `publicUrl`, never from Host.
 */
import { PayloadInvalid } from '../../errors';
import type { ProviderReport, ReportError, Status } from '../../status/types';
import { bodyText, contentType, formEntries, isObject, parseJson } from '../decode';
import { requiredSecret } from '../timestamp';
import type { AccountSettings, Provider } from '../types';

/** A Twilio account: what X-Twilio-Signature is computed with. */
export interface TwilioSettings extends AccountSettings {
  authToken?: string;
  /** The public base URL Twilio calls (the signature covers the full URL as Twilio saw it). */
  publicUrl?: string;
}
import type { RawCallback } from '../../raw/types';
import { verifyTwilioSignature } from './signature';

const STATUS: Readonly<Record<string, Status>> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'failed',
  failed: 'failed',
  canceled: 'rejected',
};

function isJson(raw: RawCallback): boolean {
  return contentType(raw).includes('json');
}

function fields(raw: RawCallback): Record<string, string> {
  if (isJson(raw)) {
    const doc = parseJson(bodyText(raw));
    if (!isObject(doc)) throw new PayloadInvalid('expected a JSON object');
    return Object.fromEntries(
      Object.entries(doc)
        .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
        .map(([k, v]) => [k, String(v)]),
    );
  }
  const out: Record<string, string> = {};
  for (const [k, v] of formEntries(raw)) if (!(k in out)) out[k] = v;
  return out;
}

export const twilio: Provider<TwilioSettings> = {
  name: 'twilio',
  channel: 'sms',
  unsigned: false,
  verify(raw, account) {
    const authToken = requiredSecret(account.authToken, 'authToken');
    const publicUrl = requiredSecret(account.publicUrl, 'publicUrl').replace(/\/+$/, '');
    verifyTwilioSignature(authToken, {
      url: publicUrl + raw.url,
      signature: raw.headers['x-twilio-signature'],
      body: raw.body,
      params: isJson(raw) ? [] : formEntries(raw),
      json: isJson(raw),
    });
  },
  parse(raw): ProviderReport[] {
    const f = fields(raw);
    const sid = f.MessageSid || f.SmsSid;
    const rawStatus = (f.MessageStatus || f.SmsStatus || '').toLowerCase();
    if (!sid) throw new PayloadInvalid('"MessageSid" is missing');
    const status = STATUS[rawStatus];
    if (!status) throw new PayloadInvalid(`"MessageStatus" "${rawStatus}" is not a status Twilio sends for outbound messages`);
    const error: ReportError | null = status === 'failed' || status === 'rejected' ? { code: f.ErrorCode || rawStatus, message: f.ErrorMessage || null } : null;
    const attributes: Record<string, unknown> = { twilio_status: rawStatus };
    if (f.MessagingServiceSid) attributes.messaging_service_sid = f.MessagingServiceSid;
    if (f.RawDlrDoneDate) attributes.raw_dlr_done_date = f.RawDlrDoneDate;
    if (f.From) attributes.from = f.From;
    return [
      {
        type: 'message.status',
        messageId: sid,
        recipient: f.To ?? '',
        status,
        error,
        occurredAt: raw.receivedAt,
        // Twilio sends no event time: one status (and error) per message is one report.
        eventId: `${rawStatus}:${f.ErrorCode ?? ''}`,
        attributes,
      },
    ];
  },
  ack: () => ({ status: 200, contentType: 'text/plain; charset=utf-8', body: '' }),
  statuses: Object.entries(STATUS).map(([code, status]) => ({ code, status })),
  about: {
    description:
      'Twilio Programmable Messaging status callbacks: a form post per status change (MessageSid, MessageStatus, To, ErrorCode); no event time, the receive time is used; `read` counts as delivered.',
    signature: {
      scheme: 'hmac-sha1',
      summary:
        'X-Twilio-Signature: base64 HMAC-SHA1 (the Auth Token) of publicUrl + path + query + the sorted form parameters; JSON bodies through the bodySHA256 query parameter',
    },
    settings: [
      { name: 'authToken', required: true, description: 'The Twilio Auth Token the signature is computed with.' },
      { name: 'publicUrl', required: true, description: 'The public base URL Twilio calls (the signature covers the URL as Twilio saw it).' },
    ],
    sources: [
      'https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks',
      'https://www.twilio.com/docs/usage/webhooks/webhooks-security',
      'https://github.com/twilio/twilio-node (src/webhooks/webhooks.ts)',
    ],
  },
};

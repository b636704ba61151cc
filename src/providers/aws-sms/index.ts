/**
 * AWS End User Messaging SMS (Amazon Pinpoint SMS and voice, v2) delivery events over Amazon SNS.
 *
 * Route:     POST /v1/callbacks/aws-sms[/:account] — subscribe it (HTTPS) to the SNS topic that a
 *            configuration set's event destination publishes to, and list the topic in `topicArns`.
 * Signature: the SNS message signature, shared with `ses` (../sns/): RSA SHA1/SHA256 with the
 *            certificate at SigningCertURL (sns.<region>.amazonaws.com only), topic in `topicArns`.
 * Body:      one SNS message; the event is a JSON string in "Message" (docs.aws.amazon.com/sms-voice/
 *            latest/userguide/configuration-sets-event-format.html): eventType, eventTimestamp (Unix
 *            ms), isFinal, destinationPhoneNumber (E.164), messageId, messageStatus,
 *            messageStatusDescription, isoCountryCode, carrierName, messageType, context, prices.
 * Ack:       an empty 200.
 * Mapping:   by eventType (…/configuration-sets-event-types.html; the names are the SDKs' EventType
 *            enum): TEXT_QUEUED → queued; TEXT_PENDING, TEXT_SENT → sent; TEXT_DELIVERED →
 *            delivered; TEXT_SUCCESSFUL ("accepted by the recipient's carrier", used instead of
 *            TEXT_DELIVERED in some countries) → delivered when isFinal, else sent; TEXT_INVALID,
 *            TEXT_UNREACHABLE, TEXT_CARRIER_UNREACHABLE, TEXT_FAILED → failed; TEXT_BLOCKED,
 *            TEXT_CARRIER_BLOCKED, TEXT_SPAM, TEXT_INVALID_MESSAGE, TEXT_PROTECT_BLOCKED → rejected;
 *            TEXT_TTL_EXPIRED → expired; TEXT_UNKNOWN (no final event within 72 h) is recorded
 *            without changing the status. error.code = messageStatus (else eventType). Voice, media
 *            and registration events carry no SMS report: acknowledged, raw-logged with a detail.
 *            Dedupe on the SNS MessageId.
 */
import { PayloadInvalid } from '../../errors';
import type { ProviderReport, Status, StatusReport } from '../../status/types';
import { fieldText, isObject, parseJson, stringField } from '../decode';
import type { Provider, StatusEntry } from '../types';
import {
  confirmSubscription,
  quoteMessage,
  SNS_SETTINGS,
  SNS_SIGNATURE,
  snsControlReason,
  snsEnvelope,
  verifySns,
  type SnsEnvelope,
  type SnsSettings,
} from '../sns';

export type AwsSmsSettings = SnsSettings;

/** eventType → status; `keep`: recorded, the message's status unchanged. */
const EVENT_STATUSES: Readonly<Record<string, Status | 'keep'>> = {
  TEXT_QUEUED: 'queued',
  TEXT_PENDING: 'sent',
  TEXT_SENT: 'sent',
  TEXT_SUCCESSFUL: 'delivered',
  TEXT_DELIVERED: 'delivered',
  TEXT_INVALID: 'failed',
  TEXT_UNREACHABLE: 'failed',
  TEXT_CARRIER_UNREACHABLE: 'failed',
  TEXT_FAILED: 'failed',
  TEXT_BLOCKED: 'rejected',
  TEXT_CARRIER_BLOCKED: 'rejected',
  TEXT_SPAM: 'rejected',
  TEXT_INVALID_MESSAGE: 'rejected',
  TEXT_PROTECT_BLOCKED: 'rejected',
  TEXT_TTL_EXPIRED: 'expired',
  TEXT_UNKNOWN: 'keep',
};

const STATUSES: readonly StatusEntry[] = Object.entries(EVENT_STATUSES).flatMap(([code, status]): StatusEntry[] =>
  code === 'TEXT_SUCCESSFUL'
    ? [
        { code: 'TEXT_SUCCESSFUL (isFinal true)', status: 'delivered' },
        { code: 'TEXT_SUCCESSFUL (isFinal false)', status: 'sent' },
      ]
    : [{ code, status }],
);

const NO_ERROR: ReadonlySet<Status> = new Set(['queued', 'sent', 'delivered']);

type Doc = Record<string, unknown>;

/** The event in a notification's Message, or null when the Message is no JSON event (plain text). */
function smsEvent(msg: SnsEnvelope): Doc | null {
  if (!msg.Message.trimStart().startsWith('{')) return null;
  const event = parseJson(msg.Message, 'SNS Message');
  return isObject(event) && typeof event.eventType === 'string' ? event : null;
}

function toReport(event: Doc, msg: SnsEnvelope, receivedAt: Date): StatusReport {
  const where = 'SMS event';
  const type = stringField(event, 'eventType', where, true);
  const rule = EVENT_STATUSES[type];
  let status: Status | null = rule === 'keep' ? null : rule;
  if (type === 'TEXT_SUCCESSFUL' && event.isFinal !== true) status = 'sent';
  const stamp = event.eventTimestamp;
  if (stamp !== undefined && (typeof stamp !== 'number' || !Number.isFinite(stamp) || stamp < 0))
    throw new PayloadInvalid(`${where}: "eventTimestamp" must be Unix milliseconds (a number)`);
  const code = stringField(event, 'messageStatus', where) ?? type;
  const attributes: Doc = { event_type: type };
  for (const [key, attr] of [
    ['isoCountryCode', 'iso_country_code'],
    ['carrierName', 'carrier_name'],
    ['messageType', 'message_type'],
    ['originationPhoneNumber', 'origination_phone_number'],
  ] as const) {
    const v = stringField(event, key, where);
    if (v !== undefined) attributes[attr] = v;
  }
  for (const [key, attr] of [
    ['totalMessageParts', 'total_message_parts'],
    ['totalMessagePrice', 'total_message_price'],
    ['isFinal', 'is_final'],
  ] as const) {
    if (typeof event[key] === 'number' || typeof event[key] === 'boolean') attributes[attr] = event[key];
  }
  if (isObject(event.context)) attributes.context = event.context;
  return {
    type: 'message.status',
    messageId: stringField(event, 'messageId', where, true),
    recipient: stringField(event, 'destinationPhoneNumber', where) ?? '',
    status,
    error: status !== null && NO_ERROR.has(status) ? null : { code, message: stringField(event, 'messageStatusDescription', where) ?? null },
    occurredAt: typeof stamp === 'number' ? new Date(stamp) : receivedAt,
    eventId: msg.MessageId,
    attributes,
  };
}

export const awsSms: Provider<AwsSmsSettings> = {
  name: 'aws-sms',
  channel: 'sms',
  unsigned: false,
  verify: verifySns,
  parse(raw): ProviderReport[] {
    const msg = snsEnvelope(raw);
    if (msg.Type !== 'Notification') return [];
    const event = smsEvent(msg);
    if (!event || !Object.hasOwn(EVENT_STATUSES, fieldText(event.eventType))) return [];
    return [toReport(event, msg, raw.receivedAt)];
  },
  noReportReason(raw) {
    const msg = snsEnvelope(raw);
    const control = snsControlReason(msg);
    if (control) return control;
    const event = smsEvent(msg);
    if (!event) return `SNS Notification whose Message is not an SMS event: ${quoteMessage(msg)}`;
    return `event type ${JSON.stringify(fieldText(event.eventType).slice(0, 64))} is not an SMS delivery event`;
  },
  ack: () => ({ status: 200, contentType: 'text/plain; charset=utf-8', body: '' }),
  afterCommit: confirmSubscription,
  statuses: STATUSES,
  about: {
    description:
      'AWS End User Messaging SMS (Pinpoint SMS and voice v2) delivery events, published by a configuration set event destination to an SNS topic and delivered by SNS over HTTPS; the event is a JSON string in Message, one report per event, message_id = messageId.',
    signature: SNS_SIGNATURE,
    settings: SNS_SETTINGS,
    sources: [
      'https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-format.html',
      'https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-types.html',
      'https://docs.aws.amazon.com/end-user-messaging/latest/userguide/nx-features-messaging-events.html',
      'https://github.com/aws/aws-sdk-net (AWSSDK.PinpointSMSVoiceV2 ServiceEnumerations.cs, EventType)',
      'https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html',
    ],
  },
};

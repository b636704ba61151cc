/**
 * Amazon SES events over Amazon SNS (providers.md §G; docs.aws.amazon.com/ses/latest/dg/
 * notification-contents.html and /sns/latest/dg/sns-verify-signature-of-message.html).
 *
 * Route:     POST /v1/callbacks/ses[/:account] — subscribe it (HTTPS) to the SNS topic(s) that
 *            SES publishes to, and list the topics in `topicArns`.
 * Signature: SNS RSA signature, SignatureVersion 1 (SHA1) or 2 (SHA256), with the certificate at
 *            SigningCertURL (https, sns.<region>.amazonaws.com only); certificates may be pinned in
 *            `certificates` {url: PEM}; fetched ones are cached. Other topics are refused.
 * Body:      one SNS message (sent as text/plain); the SES event is a JSON string in "Message".
 *            SubscriptionConfirmation is recorded and, with `autoConfirm`, confirmed by GETting
 *            SubscribeURL after the commit. A verified notification whose Message is no SES event
 *            (SES posts the plain text "Successfully validated SNS topic for Amazon SES event
 *            publishing." when a configuration set is pointed at the topic) carries no report: it
 *            is acknowledged, so SNS does not retry it, and raw-logged `accepted` with a detail
 *            that says so. The SNS part is shared with aws-sms (../sns/).
 * Ack:       an empty 200.
 * Mapping:   Send → sent, Delivery → delivered, Bounce Permanent → failed, Transient/Undetermined
 *            → deferred (code: bounceSubType), DeliveryDelay → deferred (code: delayType), Reject →
 *            rejected, Rendering Failure → rejected; Complaint/Open/Click/Subscription are engagement.
 *            One report per recipient; message_id = mail.messageId; dedupe on the SNS MessageId.
 */
import type { ProviderReport, ReportError, Status } from '../../status/types';
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

/** An SES account: the SNS topics it accepts and how their subscriptions are confirmed (../sns/). */
export type SesSettings = SnsSettings;

type Doc = Record<string, unknown>;

/** The SES event in a notification's Message, or null when the Message is not one (plain text, another JSON). */
function sesEvent(msg: SnsEnvelope): Doc | null {
  const text = msg.Message.trimStart();
  if (!text.startsWith('{')) return null;
  const event = parseJson(msg.Message, 'SNS Message');
  if (!isObject(event) || (event.eventType === undefined && event.notificationType === undefined)) return null;
  return event;
}

const STATUSES: readonly StatusEntry[] = [
  { code: 'Send', status: 'sent' },
  { code: 'Delivery', status: 'delivered' },
  { code: 'Bounce Permanent', status: 'failed' },
  { code: 'Bounce Transient', status: 'deferred' },
  { code: 'Bounce Undetermined', status: 'deferred' },
  { code: 'DeliveryDelay', status: 'deferred' },
  { code: 'Reject', status: 'rejected' },
  { code: 'Rendering Failure', status: 'rejected' },
  { code: 'Complaint', status: 'engagement:complained' },
  { code: 'Open', status: 'engagement:opened' },
  { code: 'Click', status: 'engagement:clicked' },
  { code: 'Subscription', status: 'engagement:subscription_changed' },
];

function obj(doc: Doc, key: string): Doc {
  const v = doc[key];
  return isObject(v) ? v : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function time(value: unknown, fallback: Date): Date {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? fallback : new Date(ms);
}

/** Recipients of a per-recipient list (bouncedRecipients: [{emailAddress}], recipients: ["a@b"]). */
function addresses(items: unknown[]): { address: string; detail: Doc }[] {
  return items
    .map((item) =>
      typeof item === 'string' ? { address: item, detail: {} } : isObject(item) ? { address: fieldText(item.emailAddress ?? ''), detail: item } : null,
    )
    .filter((a): a is { address: string; detail: Doc } => a !== null && a.address !== '');
}

function sesReports(event: Doc, sns: SnsEnvelope, receivedAt: Date): ProviderReport[] {
  const type = (stringField(event, 'eventType', 'SES event') ?? stringField(event, 'notificationType', 'SES event', true)).replace(/\s+/g, '');
  const mail = obj(event, 'mail');
  const messageId = stringField(mail, 'messageId', 'SES event mail', true);
  const destination = addresses(list(mail.destination));
  const at = (section: Doc) => time(section.timestamp, time(mail.timestamp, receivedAt));
  const status = (
    recipients: { address: string; detail: Doc }[],
    s: Status,
    occurredAt: Date,
    error: (d: Doc) => ReportError | null,
    attributes: Doc = {},
  ): ProviderReport[] =>
    recipients.map(({ address, detail }) => ({
      type: 'message.status',
      messageId,
      recipient: address.toLowerCase(),
      status: s,
      error: error(detail),
      occurredAt,
      eventId: sns.MessageId,
      attributes,
    }));
  const engagement = (action: string, occurredAt: Date, attributes: Doc = {}): ProviderReport[] =>
    destination.map(({ address }) => ({
      type: 'message.engagement',
      messageId,
      recipient: address.toLowerCase(),
      action,
      occurredAt,
      eventId: sns.MessageId,
      attributes,
    }));

  switch (type) {
    case 'Send':
      return status(destination, 'sent', time(mail.timestamp, receivedAt), () => null);
    case 'Delivery': {
      const d = obj(event, 'delivery');
      return status(addresses(list(d.recipients)), 'delivered', at(d), () => null, { smtp_response: d.smtpResponse });
    }
    case 'Bounce': {
      const b = obj(event, 'bounce');
      const permanent = b.bounceType === 'Permanent';
      return status(
        addresses(list(b.bouncedRecipients)),
        permanent ? 'failed' : 'deferred',
        at(b),
        (r) => ({ code: fieldText(b.bounceSubType ?? b.bounceType ?? 'Bounce'), message: typeof r.diagnosticCode === 'string' ? r.diagnosticCode : null }),
        {
          bounce_type: b.bounceType,
          bounce_sub_type: b.bounceSubType,
        },
      );
    }
    case 'DeliveryDelay': {
      const d = obj(event, 'deliveryDelay');
      return status(addresses(list(d.delayedRecipients)), 'deferred', at(d), (r) => ({
        code: fieldText(d.delayType ?? 'DeliveryDelay'),
        message: typeof r.diagnosticCode === 'string' ? r.diagnosticCode : null,
      }));
    }
    case 'Reject': {
      const r = obj(event, 'reject');
      return status(destination, 'rejected', time(mail.timestamp, receivedAt), () => ({
        code: 'Reject',
        message: typeof r.reason === 'string' ? r.reason : null,
      }));
    }
    case 'RenderingFailure': {
      const f = obj(event, 'failure');
      return status(destination, 'rejected', time(mail.timestamp, receivedAt), () => ({
        code: 'RenderingFailure',
        message: typeof f.errorMessage === 'string' ? f.errorMessage : null,
      }));
    }
    case 'Complaint': {
      const c = obj(event, 'complaint');
      return addresses(list(c.complainedRecipients)).map(({ address }) => ({
        type: 'message.engagement' as const,
        messageId,
        recipient: address.toLowerCase(),
        action: 'complained',
        occurredAt: at(c),
        eventId: sns.MessageId,
        attributes: { complaint_feedback_type: c.complaintFeedbackType },
      }));
    }
    case 'Open':
      return engagement('opened', at(obj(event, 'open')));
    case 'Click':
      return engagement('clicked', at(obj(event, 'click')), { link: obj(event, 'click').link });
    case 'Subscription':
      return engagement('subscription_changed', at(obj(event, 'subscription')));
    default:
      return []; // an event type SES added later: kept in the raw log, replayable
  }
}

const KNOWN_TYPES = new Set(['Send', 'Delivery', 'Bounce', 'DeliveryDelay', 'Reject', 'RenderingFailure', 'Complaint', 'Open', 'Click', 'Subscription']);

export const ses: Provider<SesSettings> = {
  name: 'ses',
  channel: 'email',
  unsigned: false,
  verify: verifySns,
  parse(raw): ProviderReport[] {
    const msg = snsEnvelope(raw);
    if (msg.Type !== 'Notification') return [];
    const event = sesEvent(msg);
    return event ? sesReports(event, msg, raw.receivedAt) : [];
  },
  noReportReason(raw) {
    const msg = snsEnvelope(raw);
    const control = snsControlReason(msg);
    if (control) return control;
    const event = sesEvent(msg);
    if (!event) return `SNS Notification whose Message is not an SES event: ${quoteMessage(msg)}`;
    const type = fieldText(event.eventType ?? event.notificationType).replace(/\s+/g, '');
    return KNOWN_TYPES.has(type)
      ? `SES ${type} event naming no recipient`
      : `SES event type ${JSON.stringify(type.slice(0, 64))} that this service does not map`;
  },
  ack: () => ({ status: 200, contentType: 'text/plain; charset=utf-8', body: '' }),
  afterCommit: confirmSubscription,
  statuses: STATUSES,
  about: {
    description:
      'Amazon SES events (configuration-set event publishing or identity notifications) delivered by Amazon SNS over HTTPS: one SNS message per request, the SES event a JSON string in Message; one report per recipient, message_id = mail.messageId.',
    signature: SNS_SIGNATURE,
    settings: SNS_SETTINGS,
    sources: [
      'https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html',
      'https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html',
      'https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html',
    ],
  },
};

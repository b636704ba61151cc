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
 *            SubscribeURL after the commit.
 * Ack:       an empty 200.
 * Mapping:   Send → sent, Delivery → delivered, Bounce Permanent → failed, Transient/Undetermined
 *            → deferred (code: bounceSubType), DeliveryDelay → deferred (code: delayType), Reject →
 *            rejected, Rendering Failure → rejected; Complaint/Open/Click/Subscription are engagement.
 *            One report per recipient; message_id = mail.messageId; dedupe on the SNS MessageId.
 */
import { PayloadInvalid, SignatureInvalid } from '../../errors';
import type { ProviderReport, ReportError, Status } from '../../status/types';
import { bodyText, fieldText, isObject, parseJson, stringField } from '../decode';
import type { AccountSettings, Provider } from '../types';

/** An SES account: the SNS topics it accepts and how their subscriptions are confirmed. */
export interface SesSettings extends AccountSettings {
  /** The SNS topic ARNs whose notifications are accepted; none configured accepts none. */
  topicArns?: string[];
  /** Signing certificates (PEM) by their SigningCertURL, used instead of fetching them. */
  certificates?: Record<string, string>;
  /** Visit the SubscribeURL of a SubscriptionConfirmation after it is stored. */
  autoConfirm?: boolean;
}
import type { RawCallback } from '../../raw/types';
import { isSnsUrl, parseEnvelope, verifySnsSignature, type SnsEnvelope } from './sns';

type Doc = Record<string, unknown>;

function envelope(raw: RawCallback): SnsEnvelope {
  return parseEnvelope(parseJson(bodyText(raw)));
}

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

export const ses: Provider<SesSettings> = {
  name: 'ses',
  channel: 'email',
  unsigned: false,
  async verify(raw, account, ctx) {
    const topics = account.topicArns;
    if (!topics || topics.length === 0) throw new SignatureInvalid('this account has no topicArns configured, so no topic is accepted');
    const msg = envelope(raw);
    if (!topics.includes(msg.TopicArn)) throw new SignatureInvalid(`topic ${msg.TopicArn} is not in this account's topicArns`);
    await verifySnsSignature(msg, account.certificates, ctx);
  },
  parse(raw): ProviderReport[] {
    const msg = envelope(raw);
    if (msg.Type !== 'Notification') return [];
    const event = parseJson(msg.Message, 'SNS Message');
    if (!isObject(event)) throw new PayloadInvalid('SNS Message is not an SES event object');
    return sesReports(event, msg, raw.receivedAt);
  },
  ack: () => ({ status: 200, contentType: 'text/plain; charset=utf-8', body: '' }),
  async afterCommit(raw, account, ctx) {
    if (account.autoConfirm !== true) return;
    const msg = envelope(raw);
    if (msg.Type !== 'SubscriptionConfirmation' || !msg.SubscribeURL) return;
    if (!isSnsUrl(msg.SubscribeURL, false)) throw new Error('SubscribeURL is not an https URL on an SNS host; not confirming');
    await ctx.fetchText(msg.SubscribeURL);
  },
};

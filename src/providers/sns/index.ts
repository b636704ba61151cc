/**
 * Amazon SNS over HTTPS, shared by the providers whose events arrive as SNS notifications: `ses`
 * (Amazon SES events) and `aws-sms` (AWS End User Messaging SMS events). One SNS message per
 * request; its signature (./signature.ts) and topic are checked here, the provider reads `Message`.
 *
 * Settings: `topicArns` (required; other topics are refused), `certificates` (pinned signing
 * certificates by SigningCertURL), `autoConfirm` (GET the SubscribeURL of a SubscriptionConfirmation
 * after it is stored).
 */
import { SignatureInvalid } from '../../errors';
import type { RawCallback } from '../../raw/types';
import { bodyText, parseJson } from '../decode';
import type { AccountSettings, VerifyContext } from '../types';
import { isSnsUrl, parseEnvelope, verifySnsSignature, type SnsEnvelope } from './signature';

export { isSnsUrl, parseEnvelope, stringToSign, verifySnsSignature, SNS_TYPES, type SnsEnvelope, type SnsType } from './signature';

/** An account fed by SNS: the topics it accepts and how their subscriptions are confirmed. */
export interface SnsSettings extends AccountSettings {
  /** The SNS topic ARNs whose notifications are accepted; none configured accepts none. */
  topicArns?: string[];
  /** Signing certificates (PEM) by their SigningCertURL, used instead of fetching them. */
  certificates?: Record<string, string>;
  /** Visit the SubscribeURL of a SubscriptionConfirmation after it is stored. */
  autoConfirm?: boolean;
}

/** The settings of an SNS-fed account, as the catalogue shows them. */
export const SNS_SETTINGS = [
  { name: 'topicArns', required: true, description: 'The SNS topic ARNs accepted; requests from any other topic are refused.' },
  {
    name: 'certificates',
    required: false,
    description: 'Pinned signing certificates: SigningCertURL → PEM (otherwise fetched from sns.<region>.amazonaws.com and cached).',
  },
  { name: 'autoConfirm', required: false, description: 'Confirm a SubscriptionConfirmation by GETting its SubscribeURL after it is stored.' },
] as const;

export const SNS_SIGNATURE = {
  scheme: 'sns',
  summary:
    'Amazon SNS RSA signature (SignatureVersion 1 SHA1withRSA or 2 SHA256withRSA) over the canonical key/value string, with the X.509 certificate at SigningCertURL (https, sns.<region>.amazonaws.com only); the TopicArn must be in topicArns',
} as const;

export function snsEnvelope(raw: RawCallback): SnsEnvelope {
  return parseEnvelope(parseJson(bodyText(raw)));
}

/** The topic is one the account accepts, and SNS signed the message. */
export async function verifySns(raw: RawCallback, account: SnsSettings, ctx: VerifyContext): Promise<void> {
  const topics = account.topicArns;
  if (!topics || topics.length === 0) throw new SignatureInvalid('this account has no topicArns configured, so no topic is accepted');
  const msg = snsEnvelope(raw);
  if (!topics.includes(msg.TopicArn)) throw new SignatureInvalid(`topic ${msg.TopicArn} is not in this account's topicArns`);
  await verifySnsSignature(msg, account.certificates, ctx);
}

/** After the commit: confirm a stored SubscriptionConfirmation when the account says so. */
export async function confirmSubscription(raw: RawCallback, account: SnsSettings, ctx: VerifyContext): Promise<void> {
  if (account.autoConfirm !== true) return;
  const msg = snsEnvelope(raw);
  if (msg.Type !== 'SubscriptionConfirmation' || !msg.SubscribeURL) return;
  if (!isSnsUrl(msg.SubscribeURL, false)) throw new Error('SubscribeURL is not an https URL on an SNS host; not confirming');
  await ctx.fetchText(msg.SubscribeURL);
}

/** The most characters of a plain-text Message quoted in the raw log's detail. */
const QUOTE_CHARS = 120;

/**
 * Why an SNS message carries no report, or null when it is a notification (the provider says why
 * its Message made none, with `quoteMessage`).
 */
export function snsControlReason(msg: SnsEnvelope): string | null {
  if (msg.Type === 'Notification') return null;
  const after = msg.Type === 'SubscriptionConfirmation' ? 'confirmed after the commit when the account sets autoConfirm' : 'nothing to apply';
  return `SNS ${msg.Type}: ${after}`;
}

/** A Message's text, on one line and cut short, for a detail. */
export function quoteMessage(msg: SnsEnvelope): string {
  const text = msg.Message.replace(/\s+/g, ' ').trim();
  return JSON.stringify(text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text);
}

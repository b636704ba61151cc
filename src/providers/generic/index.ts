/**
 * Generic providers: gateways described by configuration instead of code (docs/providers.md, "Providers by
 * configuration"; presets for Huawei Cloud SMS and Vonage in ./presets).
 *
 * Route:     POST /v1/callbacks/<name>[/:account], <name> being the key under `providers`.
 * Signature: none, or the configured scheme (./signature.ts) with the account's `secret`.
 * Body:      JSON, form or XML (by Content-Type when `auto`), reports at `format.reports`.
 * Ack:       the configured status and body (default 200 "OK").
 */
import { PayloadInvalid } from '../../errors';
import type { ProviderReport, Status, StatusReport } from '../../status/types';
import type { Provider } from '../types';
import type { RawCallback } from '../../raw/types';
import type { GenericDefinition } from './definition';
import { documentOf, reportItems, textAt } from './document';
import { verifyGeneric, type GenericAccountSettings } from './signature';

const NO_ERROR: ReadonlySet<Status> = new Set(['queued', 'sent', 'delivered']);

function statusOf(def: GenericDefinition, code: string): Status | null {
  let rule = def.statuses.map.get(code);
  rule ??= def.statuses.prefixes.find(([prefix]) => code.startsWith(prefix))?.[1];
  rule ??= def.statuses.fallback;
  return rule === 'keep' ? null : rule;
}

function toReport(def: GenericDefinition, item: Record<string, unknown>, i: number, raw: RawCallback, account: GenericAccountSettings): StatusReport {
  const where = `report[${i}]`;
  const m = def.mapping;
  const required = (path: readonly string[], what: string) => {
    const value = textAt(item, path, where);
    if (value === undefined) throw new PayloadInvalid(`${where}: "${path.join('.')}" (${what}) is missing`);
    return value;
  };
  const optional = (path: readonly string[] | null) => (path ? textAt(item, path, where) : undefined);

  const code = required(m.status, 'the status code');
  const status = statusOf(def, code);
  let recipient = optional(m.recipient) ?? '';
  if (recipient !== '' && m.recipientPrefix && !recipient.startsWith(m.recipientPrefix)) recipient = m.recipientPrefix + recipient;
  if (def.channel === 'email') recipient = recipient.toLowerCase();

  let occurredAt = raw.receivedAt;
  const time = optional(m.occurredAt);
  if (time !== undefined) {
    const parsed = def.time.parse(time, def.time.zone ?? account.timeZone);
    if (!parsed) throw new PayloadInvalid(`${where}: "${m.occurredAt!.join('.')}" is not ${def.time.format}: "${time}"`);
    occurredAt = parsed;
  }
  const attributes: Record<string, unknown> = {};
  for (const [name, path] of m.attributes) {
    const value = optional(path);
    if (value !== undefined) attributes[name] = value;
  }
  const report: StatusReport = {
    type: 'message.status',
    messageId: required(m.messageId, 'the message id'),
    recipient,
    status,
    error: status !== null && NO_ERROR.has(status) ? null : { code: optional(m.errorCode) ?? code, message: optional(m.errorMessage) ?? null },
    occurredAt,
    attributes,
  };
  const eventId = optional(m.eventId);
  if (eventId !== undefined) report.eventId = eventId;
  return report;
}

export function createGenericProvider(def: GenericDefinition): Provider<GenericAccountSettings> {
  const sig = def.signature;
  return {
    name: def.name,
    channel: def.channel,
    unsigned: sig === null,
    ...(sig ? { verify: (raw: RawCallback, account: GenericAccountSettings) => verifyGeneric(def, sig, raw, account) } : {}),
    parse(raw, account): ProviderReport[] {
      return reportItems(def, documentOf(def, raw)).map((item, i) => toReport(def, item, i, raw, account));
    },
    ack: () => def.ack,
  };
}

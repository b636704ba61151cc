/**
 * Generic providers: gateways described by configuration instead of code (docs/providers.md, "Providers by
 * configuration"; presets in ./presets).
 *
 * Route:     POST /v1/callbacks/<name>[/:account], <name> being the key under `providers`; GET
 *            (the report in the query string) and HEAD when `format.methods` names them.
 * Signature: none, or the configured scheme: a digest or Ed25519 over a template (./signature.ts),
 *            or a fixed scheme — Standard Webhooks, a JWT binding URL and body, basic auth
 *            (./schemes.ts) — with the account's secret, publicKey, username/password, publicUrl.
 * Body:      JSON, form or XML (by Content-Type when `auto`; a GET's query as a form), reports at
 *            `format.reports` (inside the JSON of one form field with `format.jsonInField`).
 * Ack:       the configured status and body (default 200 "OK").
 */
import { PayloadInvalid } from '../../errors';
import type { ProviderReport, Status } from '../../status/types';
import type { Provider } from '../types';
import type { RawCallback } from '../../raw/types';
import type { GenericDefinition, Path } from './definition';
import { documentOf, reportItems, rootOf, textAt } from './document';
import { verifyGeneric, type GenericAccountSettings } from './signature';

const NO_ERROR: ReadonlySet<Status> = new Set(['queued', 'sent', 'delivered']);

function statusOf(def: GenericDefinition, code: string, detail: string | undefined): Status | null {
  // "Bounce:Transient" before "Bounce": the detail refines the code (mapping.statusDetail)
  let rule = detail === undefined ? undefined : def.statuses.map.get(`${code}:${detail}`);
  rule ??= def.statuses.map.get(code);
  rule ??= def.statuses.prefixes.find(([prefix]) => code.startsWith(prefix))?.[1];
  rule ??= def.statuses.fallback;
  return rule === 'keep' ? null : rule;
}

function toReport(
  def: GenericDefinition,
  item: Record<string, unknown>,
  root: unknown,
  i: number,
  raw: RawCallback,
  account: GenericAccountSettings,
): ProviderReport {
  const where = `report[${i}]`;
  const m = def.mapping;
  const required = (path: Path, what: string) => {
    const value = textAt(item, path, where, root);
    if (value === undefined) throw new PayloadInvalid(`${where}: "${path.join('.')}" (${what}) is missing`);
    return value;
  };
  const optional = (path: Path | null) => (path ? textAt(item, path, where, root) : undefined);

  const code = required(m.status, 'the status code');
  const action = def.statuses.engagements.get(code);
  const status = action === undefined ? statusOf(def, code, optional(m.statusDetail)) : null;
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
  const base = { messageId: required(m.messageId, 'the message id'), recipient, occurredAt, attributes };
  const report: ProviderReport =
    action !== undefined
      ? { type: 'message.engagement', ...base, action }
      : {
          type: 'message.status',
          ...base,
          status,
          error: status !== null && NO_ERROR.has(status) ? null : { code: optional(m.errorCode) ?? code, message: optional(m.errorMessage) ?? null },
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
      const doc = documentOf(def, raw);
      const reports: ProviderReport[] = [];
      for (const [i, item] of reportItems(def, doc).entries()) {
        const code = textAt(item, def.mapping.status, `report[${i}]`, rootOf(doc));
        if (code === undefined ? def.statuses.ignoreMissing : def.statuses.ignored(code)) continue;
        reports.push(toReport(def, item, rootOf(doc), i, raw, account));
      }
      return reports;
    },
    ack: () => def.ack,
  };
}

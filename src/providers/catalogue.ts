/**
 * The provider catalogue: every built-in provider and every preset, described from the code that
 * runs them (the registry, each provider's `statuses` and `about`, the compiled presets). Served at
 * GET /v1/providers and rendered as the matrix of docs/providers.md (scripts/docs.js reads the
 * built dist/providers/catalogue.js), so the two cannot drift.
 */
import type { RawCallback } from '../raw/types';
import type { Channel } from '../status/types';
import { compileDefinition, PRESETS, type GenericDefinition } from './generic/definition';
import { PRESET_FILES } from './generic/presets';
import { builtInProviders } from './registry';
import type { Ack, Provider, SettingInfo, StatusEntry } from './types';

export interface CatalogueEntry {
  name: string;
  kind: 'builtin' | 'preset';
  channel: Channel;
  description: string;
  signature: { scheme: string; summary: string };
  settings: SettingInfo[];
  ack: { status: number; contentType: string; body: string };
  statuses: StatusEntry[];
  sources: string[];
}

const UNSIGNED = { scheme: 'none', summary: 'unsigned: protect the account with token (?token= in the URL) and/or allowIps' };

/** What each setting a preset's signature scheme reads is. */
const SCHEME_SETTINGS: Readonly<Record<string, string>> = {
  secret: 'The signature secret (HMAC key, or the secret in a hashed string).',
  publicKey: 'The public key the signature is verified with.',
  username: 'The basic-auth user name the provider sends.',
  password: 'The basic-auth password the provider sends.',
  publicUrl: 'The public base URL the provider calls (the signature covers the URL).',
};

/** An empty JSON request: enough for a provider's acknowledgement. */
function emptyCallback(provider: string): RawCallback {
  return {
    id: 'raw_catalogue',
    provider,
    account: 'default',
    method: 'POST',
    url: `/v1/callbacks/${provider}`,
    headers: { 'content-type': 'application/json' },
    body: Buffer.alloc(0),
    remoteAddr: '127.0.0.1',
    receivedAt: new Date(0),
  };
}

function ackOf(ack: Ack): CatalogueEntry['ack'] {
  return { status: ack.status, contentType: ack.contentType ?? 'text/plain; charset=utf-8', body: ack.body };
}

function builtIn(provider: Provider): CatalogueEntry {
  const about = provider.about;
  return {
    name: provider.name,
    kind: 'builtin',
    channel: provider.channel,
    description: about?.description ?? '',
    signature: about?.signature ?? (provider.unsigned ? UNSIGNED : { scheme: 'provider', summary: "the provider's own signature (see its section)" }),
    settings: [...(about?.settings ?? [])],
    ack: ackOf(provider.ack(emptyCallback(provider.name))),
    statuses: [...(provider.statuses ?? [])],
    sources: [...(about?.sources ?? [])],
  };
}

/** A location of a generic definition in words ("header X-Sign"). */
function where(location: { header?: string; field?: string; query?: string; prefix?: string }): string {
  const [kind, name] =
    location.header !== undefined
      ? ['header', location.header]
      : location.query !== undefined
        ? ['query parameter', location.query]
        : ['field', location.field];
  return `${kind} ${name}${location.prefix ? ` after "${location.prefix}"` : ''}`;
}

function presetSignature(def: GenericDefinition): { signature: CatalogueEntry['signature']; settings: SettingInfo[] } {
  const sig = def.signature;
  if (!sig) return { signature: UNSIGNED, settings: [] };
  const template = sig.template.map((p) => (p.kind === 'text' ? p.text : 'name' in p ? `{${p.kind}:${p.name}}` : `{${p.kind}}`)).join('');
  // the fixed schemes (standard-webhooks, jwt-hs256, basic-auth) sign what is theirs: no template
  const parts = [
    template === '' ? `${sig.algorithm} in ${where(sig.location)}` : `${sig.algorithm} of ${template} (${sig.encoding}) in ${where(sig.location)}`,
  ];
  if (sig.timestamp) parts.push(`timestamp in ${where(sig.timestamp)} (${sig.timestamp.unit}), within the account's timestampToleranceSeconds`);
  if (sig.nonce) parts.push(`single-use nonce in ${where(sig.nonce)}`);
  // `settings`: the account settings the scheme reads (definition.ts); `secret` where a definition has none
  const names = (sig as { settings?: readonly string[] }).settings ?? ['secret'];
  return {
    signature: { scheme: sig.algorithm, summary: parts.join('; ') },
    settings: names.map((name) => ({ name, required: true, description: SCHEME_SETTINGS[name] ?? `Required by the ${sig.algorithm} scheme.` })),
  };
}

function presetStatuses(def: GenericDefinition): StatusEntry[] {
  const out: StatusEntry[] = [...def.statuses.map].map(([code, status]) => ({ code, status }));
  for (const [prefix, status] of def.statuses.prefixes) out.push({ code: `${prefix}*`, status });
  const engagements = (def.statuses as { engagements?: ReadonlyMap<string, string> }).engagements;
  for (const [code, action] of engagements ?? []) out.push({ code, status: `engagement:${action}` });
  out.push({ code: '(any other)', status: def.statuses.fallback });
  return out;
}

function preset(name: keyof typeof PRESETS): CatalogueEntry {
  const def = compileDefinition(name, { kind: 'generic', preset: name, accounts: {} });
  const file = PRESET_FILES[name] as { description?: string; sources?: readonly string[] };
  return {
    name,
    kind: 'preset',
    channel: def.channel,
    description: file.description ?? '',
    ...presetSignature(def),
    ack: ackOf(def.ack),
    statuses: presetStatuses(def),
    sources: [...(file.sources ?? [])],
  };
}

let cached: CatalogueEntry[] | undefined;

/** Every built-in provider (registry order), then every preset (by name). Built once: both come from the code. */
export function providerCatalogue(): CatalogueEntry[] {
  cached ??= [...builtInProviders().map(builtIn), ...(Object.keys(PRESETS) as (keyof typeof PRESETS)[]).sort().map(preset)];
  return cached;
}

/**
 * The configuration language of `generic` providers (docs/providers.md, "Providers by configuration"): what
 * a user writes under `providers.<name>` in DLR_CONFIG, merged onto a preset, checked once at
 * start-up and compiled into the form the request path uses. Every refusal names its field.
 */
import { DateTime } from 'luxon';
import { ConfigError } from '../../errors';
import type { Channel, Status } from '../../status/types';
import { describeErrors, schemaValidator } from '../../util/schemas';
import { isValidZone, parseLocalTime } from '../../util/time';
import type { Ack } from '../types';
import { PRESET_FILES } from './presets';

/** A status, or `keep`: record the report, leave the message's status as it is. */
export type StatusRule = Status | 'keep';
export type Algorithm = 'none' | 'md5' | 'sha1' | 'sha256' | 'sha512' | 'hmac-md5' | 'hmac-sha1' | 'hmac-sha256' | 'hmac-sha512';

/** Where a value is in the request: a header, a body field (form, top-level JSON, XML child) or a query parameter. */
export interface ValueLocation {
  header?: string;
  field?: string;
  query?: string;
  /** Text before the value to strip ("sha256="). */
  prefix?: string;
}

export interface ParamsOptions {
  prefix?: string;
  separator?: string;
  keyValueSeparator?: string;
  valuesOnly?: boolean;
  exclude?: string[];
  skipEmpty?: boolean;
  replaceInValues?: Record<string, string>;
}

/** `providers.<name>` of a generic provider as written (after `env:` references are resolved). */
export interface GenericSettings {
  kind: 'generic';
  preset?: keyof typeof PRESETS;
  channel?: Channel;
  format?: { type?: 'auto' | 'json' | 'form' | 'xml'; reports?: string; charset?: string };
  mapping?: {
    messageId?: string;
    recipient?: string;
    recipientPrefix?: string;
    status?: string;
    errorCode?: string;
    errorMessage?: string;
    occurredAt?: string;
    eventId?: string;
    attributes?: Record<string, string>;
  };
  time?: { format?: string; zone?: string };
  statuses?: { map?: Record<string, StatusRule>; prefixes?: Record<string, StatusRule>; default?: StatusRule };
  signature?: {
    algorithm?: Algorithm;
    signed?: string;
    location?: ValueLocation;
    encoding?: 'hex' | 'HEX' | 'base64';
    timestamp?: ValueLocation & { unit?: 's' | 'ms' };
    nonce?: ValueLocation;
    params?: ParamsOptions;
  };
  ack?: { status?: number; contentType?: string; body?: unknown };
  accounts: Record<string, Record<string, unknown>>;
}

/** A path into a report: JSON pointer (`/a/0/b`) or dotted (`a.0.b`), split into its steps. */
export type Path = readonly string[];

type TemplatePart =
  { kind: 'text'; text: string } | { kind: 'body' | 'params' | 'timestamp' | 'nonce' | 'secret' } | { kind: 'header' | 'field'; name: string };

export interface CompiledSignature {
  algorithm: Exclude<Algorithm, 'none'>;
  template: TemplatePart[];
  location: ValueLocation;
  encoding: 'hex' | 'base64';
  timestamp: (ValueLocation & { unit: 's' | 'ms' }) | null;
  nonce: ValueLocation | null;
  params: Required<ParamsOptions>;
  /** `{body}` is signed: every byte, nothing left for the request to check (checkCoverage). */
  bodySigned: boolean;
  /** Form fields the reports read through `{params}`: sent twice, which one is read is not signed (signature.ts). */
  singleFields: string[];
}

export interface GenericDefinition {
  name: string;
  channel: Channel;
  format: { type: 'auto' | 'json' | 'form' | 'xml'; reports: Path | null; charset: string };
  mapping: {
    messageId: Path;
    recipient: Path | null;
    recipientPrefix: string;
    status: Path;
    errorCode: Path | null;
    errorMessage: Path | null;
    occurredAt: Path | null;
    eventId: Path | null;
    attributes: [string, Path][];
  };
  /** Parses an event time in a zone (the configured one, else the account's). */
  time: { parse: (text: string, zone: string) => Date | null; zone: string | null; format: string };
  statuses: { map: Map<string, StatusRule>; prefixes: [string, StatusRule][]; fallback: StatusRule };
  signature: CompiledSignature | null;
  ack: Ack;
}

/** Ready configuration for real gateways; each file names its sources. */
export const PRESETS = Object.fromEntries(Object.entries(PRESET_FILES).map(([name, file]) => [name, file.definition])) as {
  [K in keyof typeof PRESET_FILES]: (typeof PRESET_FILES)[K]['definition'];
};

const validateDefinition = schemaValidator<GenericSettings>('config.schema.json#/definitions/genericDefinition');

function fail(where: string, message: string): never {
  throw new ConfigError(`config invalid: ${where}: ${message}`);
}

/** The preset's settings with the user's over them, section by section; the tables merge code by code. */
function mergeWithPreset(settings: GenericSettings): GenericSettings {
  const preset = (settings.preset ? PRESETS[settings.preset] : {}) as Partial<GenericSettings>;
  const merged: Record<string, unknown> = { ...preset, ...settings };
  for (const section of ['format', 'mapping', 'time', 'statuses', 'signature', 'ack'] as const) {
    if (preset[section] || settings[section]) merged[section] = { ...preset[section], ...settings[section] };
  }
  const statuses = merged.statuses as GenericSettings['statuses'];
  if (statuses) {
    statuses.map = { ...preset.statuses?.map, ...settings.statuses?.map };
    statuses.prefixes = { ...preset.statuses?.prefixes, ...settings.statuses?.prefixes };
  }
  const mapping = merged.mapping as GenericSettings['mapping'];
  if (mapping) mapping.attributes = { ...preset.mapping?.attributes, ...settings.mapping?.attributes };
  return merged as unknown as GenericSettings;
}

function compilePath(path: string, where: string): Path {
  if (path.startsWith('/')) {
    return path
      .slice(1)
      .split('/')
      .map((step) => step.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  const steps = path.split('.');
  if (steps.some((s) => s === '')) fail(where, `"${path}" has an empty step (write a JSON pointer, "/a.b", for a name with dots)`);
  return steps;
}

const optionalPath = (path: string | undefined, where: string): Path | null => (path === undefined ? null : compilePath(path, where));

const KNOWN_TIME_FORMATS = ['unix', 'unix_ms', 'iso'];

function compileTime(format: string, where: string): (text: string, zone: string) => Date | null {
  if (format === 'unix' || format === 'unix_ms') {
    const scale = format === 'unix' ? 1000 : 1;
    const shape = format === 'unix' ? /^\d{1,12}(\.\d+)?$/ : /^\d{1,15}$/;
    return (text) => (shape.test(text) ? new Date(Math.round(Number(text) * scale)) : null);
  }
  if (format === 'iso') {
    return (text, zone) => {
      const dt = DateTime.fromISO(text.trim(), { zone });
      return dt.isValid ? dt.toJSDate() : null;
    };
  }
  // A pattern (luxon tokens): it must read back a time it wrote, or it is no time format.
  const sample = DateTime.fromISO('2024-05-06T10:15:09', { zone: 'UTC' });
  const back = parseLocalTime(sample.toFormat(format), format, 'UTC');
  if (back?.getUTCFullYear() !== 2024) {
    fail(where, `"${format}" is not ${KNOWN_TIME_FORMATS.join(', ')} or a date pattern such as yyyy-MM-dd HH:mm:ss`);
  }
  return (text, zone) => parseLocalTime(text, format, zone);
}

export function describeLocation(location: ValueLocation): string {
  if (location.header !== undefined) return `header ${location.header}`;
  if (location.query !== undefined) return `query parameter ${location.query}`;
  return `field ${location.field}`;
}

const PLACEHOLDER = /\{([a-z]+)(?::([^{}]+))?\}/g;

function compileTemplate(signed: string, where: string): TemplatePart[] {
  const template = signed === 'raw-body' ? '{body}' : signed === 'sorted-params' ? '{params}' : signed;
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ kind: 'text', text: template.slice(last, m.index) });
    const [, name, arg] = m as unknown as [string, string, string | undefined];
    if (name === 'header' || name === 'field') {
      if (!arg) fail(where, `{${name}:NAME} needs a name`);
      parts.push({ kind: name, name: name === 'header' ? arg.toLowerCase() : arg });
    } else if (['body', 'params', 'timestamp', 'nonce', 'secret'].includes(name) && arg === undefined) {
      parts.push({ kind: name as 'body' });
    } else {
      fail(where, `unknown placeholder ${m[0]} (known: {body} {params} {timestamp} {nonce} {secret} {header:NAME} {field:NAME})`);
    }
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ kind: 'text', text: template.slice(last) });
  if (!parts.some((p) => p.kind !== 'text'))
    fail(where, `"${signed}" signs no part of the request (use raw-body, sorted-params or a template with placeholders)`);
  return parts;
}

function compileSignature(sig: NonNullable<GenericSettings['signature']>, where: string): CompiledSignature | null {
  const algorithm = sig.algorithm ?? 'none';
  if (algorithm === 'none') return null;
  if (!sig.signed) fail(`${where}.signed`, `what ${algorithm} signs is required: raw-body, sorted-params or a template such as {timestamp}{nonce}{body}`);
  if (!sig.location) fail(`${where}.location`, 'where the signature is is required: {"header": NAME}, {"field": NAME} or {"query": NAME}');
  const template = compileTemplate(sig.signed, `${where}.signed`);
  const uses = (kind: TemplatePart['kind']) => template.some((p) => p.kind === kind);
  if (!algorithm.startsWith('hmac-') && !uses('secret')) {
    fail(`${where}.signed`, `a plain ${algorithm} signature proves nothing unless {secret} is part of what is signed`);
  }
  if (uses('timestamp') && !sig.timestamp) fail(`${where}.signed`, '{timestamp} is used but signature.timestamp does not say where it is');
  if (uses('nonce') && !sig.nonce) fail(`${where}.signed`, '{nonce} is used but signature.nonce does not say where it is');
  if (sig.nonce && !sig.timestamp) {
    fail(`${where}.nonce`, 'a nonce needs signature.timestamp too: without a time limit every nonce would have to be remembered forever');
  }
  const params = sig.params ?? {};
  return {
    algorithm,
    template,
    location: sig.location,
    encoding: sig.encoding === 'base64' ? 'base64' : 'hex',
    timestamp: sig.timestamp ? { ...sig.timestamp, unit: sig.timestamp.unit ?? 's' } : null,
    nonce: sig.nonce ?? null,
    params: {
      prefix: params.prefix ?? '',
      separator: params.separator ?? '&',
      keyValueSeparator: params.keyValueSeparator ?? '=',
      valuesOnly: params.valuesOnly ?? false,
      exclude: [...(params.exclude ?? []), ...(sig.location.field ? [sig.location.field] : [])],
      skipEmpty: params.skipEmpty ?? false,
      replaceInValues: params.replaceInValues ?? {},
    },
    bodySigned: uses('body'),
    singleFields: [],
  };
}

/** A value the reports read: the setting that names it, its path as written and compiled. */
interface Read {
  setting: string;
  text: string;
  path: Path;
}

function readsOf(def: GenericDefinition, m: NonNullable<GenericSettings['mapping']>): Read[] {
  const reads: Read[] = [];
  for (const key of ['messageId', 'recipient', 'status', 'errorCode', 'errorMessage', 'occurredAt', 'eventId'] as const) {
    const path = def.mapping[key];
    if (path) reads.push({ setting: `mapping.${key}`, text: m[key]!, path });
  }
  for (const [attr, path] of def.mapping.attributes) reads.push({ setting: `mapping.attributes.${attr}`, text: m.attributes![attr], path });
  return reads;
}

/**
 * What a signature covers (finding 6 of #14). Start-up refuses a definition whose signature covers
 * neither every byte of the body nor every field the mapping reads, and one whose timestamp or nonce
 * is not signed. Returns the form fields the reports read through `{params}`, which a request must
 * send once (checked in signature.ts with the other thing a definition cannot decide: a JSON list
 * where `{params}` signs the members of one object).
 *
 * - `{body}` (`raw-body`): every byte, so whatever the mapping reads.
 * - `{params}` (`sorted-params`): each top-level single value with its name (form fields; top-level
 *   JSON members that are a string, number, boolean or null; children of the XML root with text
 *   only), but the excluded ones and the signature's own field. Objects are left out and the items
 *   of a list are signed sorted, so a path below a top-level member (`data.status`,
 *   `/reports/0/id`) is not covered, nor is `format.reports` (a form has no list: not read there).
 *   - The signature's own field is not covered: its text varies (hex in either case, base64 in
 *     either alphabet) under one signature.
 *   - `skipEmpty`: an empty value and a missing one sign alike, and the mapping reads them alike
 *     (empty is missing): accepted. A JSON value's type is not signed (`1`, `"1"`) but the mapping
 *     reads text and cannot tell either.
 *   - `valuesOnly` is refused unless `{body}` is signed too: without the names, a sender holding one
 *     signed request can rename its fields, keeping their sorted order, and so move a signed value
 *     into another field ({id, sta: "DELIVRD", status: "+86"} signs as {id, status: "DELIVRD", to:
 *     "+86"}): no field the mapping reads is tied to its value.
 *   - `replaceInValues`: `from` and `to` sign alike, so a sender can swap them in any value. That
 *     can change the status only if a code in `statuses` contains one of them (for single
 *     characters: a code with neither has a single spelling, and no other spelling is a code with
 *     neither): refused then. Ids, texts and attributes are accepted with the swap (the Vonage
 *     preset's `&`/`=` → `_`): a message id would have to differ from another message's just there.
 *   - Known limit, accepted: with both separators empty (`k1v1k2v2`, as gateways sign) where a name
 *     ends is not signed, so a value can take in the next name and value; the status code this
 *     makes is one the provider does not send (`statuses.default`, or the same prefix rule).
 * - `{field:NAME}`: that field's first value exactly (the report reads the first too), nothing
 *   below it; `{timestamp}` and `{nonce}` read from a body field cover that field the same way.
 * - `{header:NAME}`, `{secret}`, a timestamp or nonce from a header or the query string, literal
 *   text: none of the body.
 */
function checkCoverage(def: GenericDefinition, sig: CompiledSignature, reads: Read[], signed: string, where: string): string[] {
  const uses = (kind: TemplatePart['kind']) => sig.template.some((p) => p.kind === kind);
  const params = uses('params');
  const exact = new Map<string, string>(); // field → the placeholder that signs it exactly
  for (const part of sig.template) if (part.kind === 'field') exact.set(part.name, `{field:${part.name}}`);
  if (uses('timestamp') && sig.timestamp?.field !== undefined) exact.set(sig.timestamp.field, '{timestamp}');
  if (uses('nonce') && sig.nonce?.field !== undefined) exact.set(sig.nonce.field, '{nonce}');
  const inParams = (name: string) => params && !sig.params.exclude.includes(name);
  const viaParams = new Set<string>();

  if (!sig.bodySigned) {
    if (!params && exact.size === 0) {
      fail(
        `${where}.signed`,
        `the signature covers none of the body ("${signed}"): sign "raw-body", "sorted-params", or a template with {body}, {params} or {field:NAME} for each field the mapping reads`,
      );
    }
    if (params && sig.params.valuesOnly) {
      fail(
        `${where}.params.valuesOnly`,
        'values without their names are not tied to the fields the mapping reads: a sender holding one signed request could rename its fields, keeping their order, and move a signed value into another field; sign the names too (leave valuesOnly out) or sign "{body}"',
      );
    }
    const what = params && exact.size > 0 ? 'the signed parameters and fields' : params ? 'the signed parameters' : 'the signed fields';
    const placeholder = params ? '{params}' : '{field:NAME}';
    const flat = def.format.type === 'form'; // a form is one report of single values: nothing is below a field
    if (def.format.reports && !flat) {
      fail(
        where,
        `format.reports reads "${def.format.reports.join('.')}", which ${what} do not cover (${placeholder} signs top-level single values only, not a list of reports; sign "raw-body" or "{body}")`,
      );
    }
    const problems: string[] = [];
    for (const read of reads) {
      const name = read.path[0];
      let why: string | null = null;
      if (read.path.length > 1 && !flat) why = `nested JSON under ${placeholder} is not signed; sign "raw-body" or "{body}"`;
      else if (exact.has(name)) continue;
      else if (inParams(name)) viaParams.add(name);
      else if (params && name === sig.location.field)
        why = `"${name}" is where the signature is, and its text is not unique: hex in either case, base64 in either alphabet`;
      else if (params) why = `"${name}" is in signature.params.exclude`;
      else why = `only ${[...exact.values()].join(', ')} ${exact.size === 1 ? 'is' : 'are'} signed; add {field:${name}}, or sign {params} or {body}`;
      if (why) problems.push(`${read.setting} reads "${read.text}", which ${what} do not cover (${why})`);
    }
    if (problems.length > 0) fail(where, problems.join('; '));

    const status = def.mapping.status[0];
    if (viaParams.has(status)) {
      const codes: [string, string][] = [
        ...[...def.statuses.map.keys()].map((c): [string, string] => [c, 'map']),
        ...def.statuses.prefixes.map(([c]): [string, string] => [c, 'prefixes']),
      ];
      for (const [from, to] of Object.entries(sig.params.replaceInValues)) {
        const hit = codes.find(([code]) => code.includes(from) || code.includes(to));
        if (hit) {
          fail(
            `${where}.params.replaceInValues`,
            `"${from}" and "${to}" sign alike, and the status code "${hit[0]}" (statuses.${hit[1]}) contains one: a sender could swap them and change the status; sign the status with {field:${status}} or "{body}", or drop the replacement`,
          );
        }
      }
    }
  }

  for (const [what, location] of [
    ['timestamp', sig.timestamp],
    ['nonce', sig.nonce],
  ] as const) {
    if (!location || uses(what)) continue;
    let covered = false;
    if (location.header !== undefined) covered = sig.template.some((p) => p.kind === 'header' && p.name === location.header!.toLowerCase());
    else if (location.field !== undefined) covered = sig.bodySigned || exact.has(location.field) || inParams(location.field);
    if (!covered) {
      const risk = what === 'timestamp' ? 'a fresh one on an old request' : 'a new one on a replayed request';
      fail(`${where}.${what}`, `the ${what} (${describeLocation(location)}) is not signed, so a sender could put ${risk}; add {${what}} to signature.signed`);
    }
    if (!sig.bodySigned && location.field !== undefined && !exact.has(location.field)) viaParams.add(location.field);
  }
  return def.format.type === 'form' || def.format.type === 'auto' ? [...viaParams] : [];
}

function compileAck(ack: GenericSettings['ack']): Ack {
  const body = ack?.body ?? 'OK';
  if (typeof body === 'string') return { status: ack?.status ?? 200, contentType: ack?.contentType ?? 'text/plain; charset=utf-8', body };
  return { status: ack?.status ?? 200, contentType: ack?.contentType ?? 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

/**
 * Checks a generic provider's settings (merged onto its preset) and compiles them. `where` is the
 * config path (`providers.<name>`) every message names.
 */
export function compileDefinition(name: string, settings: GenericSettings, where = `providers.${name}`): GenericDefinition {
  const merged = mergeWithPreset(settings);
  if (!validateDefinition(merged)) {
    throw new ConfigError(
      `config invalid: ${describeErrors()
        .map((e) => (e.startsWith('(root)') ? where + e.slice(6) : `${where}.${e}`))
        .join('; ')}`,
    );
  }
  const { format, mapping, time, statuses } = merged as Required<GenericSettings>;
  const m = mapping as Required<NonNullable<GenericSettings['mapping']>>;
  const zone = time?.zone ?? null;
  if (zone !== null && !isValidZone(zone)) fail(`${where}.time.zone`, `"${zone}" is not an IANA time zone`);
  const prefixes = Object.entries(statuses.prefixes ?? {}).sort(([a], [b]) => b.length - a.length);
  const p = (key: keyof typeof m) => `${where}.mapping.${key}`;

  const def: GenericDefinition = {
    name,
    channel: merged.channel ?? 'sms',
    format: {
      type: format.type ?? 'auto',
      reports: optionalPath(format.reports, `${where}.format.reports`),
      charset: (format.charset ?? 'utf-8').toLowerCase(),
    },
    mapping: {
      messageId: compilePath(m.messageId, p('messageId')),
      recipient: optionalPath(m.recipient, p('recipient')),
      recipientPrefix: m.recipientPrefix ?? '',
      status: compilePath(m.status, p('status')),
      errorCode: optionalPath(m.errorCode, p('errorCode')),
      errorMessage: optionalPath(m.errorMessage, p('errorMessage')),
      occurredAt: optionalPath(m.occurredAt, p('occurredAt')),
      eventId: optionalPath(m.eventId, p('eventId')),
      attributes: Object.entries(m.attributes ?? {}).map(([attr, path]) => [attr, compilePath(path, `${p('attributes')}.${attr}`)]),
    },
    time: { parse: compileTime(time?.format ?? 'iso', `${where}.time.format`), zone, format: time?.format ?? 'iso' },
    statuses: { map: new Map(Object.entries(statuses.map ?? {})), prefixes, fallback: statuses.default ?? 'keep' },
    signature: compileSignature(merged.signature ?? {}, `${where}.signature`),
    ack: compileAck(merged.ack),
  };
  if (def.signature) def.signature.singleFields = checkCoverage(def, def.signature, readsOf(def, m), merged.signature!.signed!, `${where}.signature`);
  return def;
}

/**
 * The configuration language of `generic` providers (docs/providers.md, "Providers by configuration"): what
 * a user writes under `providers.<name>` in DLR_CONFIG, merged onto a preset, checked once at
 * start-up and compiled into the form the request path uses. Every refusal names its field.
 */
import { DateTime } from 'luxon';
import { ConfigError } from '../../errors';
import { describeErrors, schemaValidator } from '../../util/schemas';
import { isValidZone, parseLocalTime } from '../../util/time';
import type { Ack } from '../types';
import { checkAccountSettings, compileSignature } from './compile-signature';
import { checkCoverage, readsOf } from './coverage';
import { fail, type GenericDefinition, type GenericSettings, type Method, type Path, type Paths } from './language';
import { PRESET_FILES } from './presets';

export type {
  Algorithm,
  CompiledSignature,
  DigestAlgorithm,
  GenericDefinition,
  GenericSettings,
  Method,
  ParamsOptions,
  Path,
  SchemeSetting,
  StatusRule,
  ValueLocation,
} from './language';
export { describeLocation } from './language';

/** Ready configuration for real gateways; each file names its sources. */
export const PRESETS = Object.fromEntries(Object.entries(PRESET_FILES).map(([name, file]) => [name, file.definition])) as {
  [K in keyof typeof PRESET_FILES]: (typeof PRESET_FILES)[K]['definition'];
};

const validateDefinition = schemaValidator<GenericSettings>('config.schema.json#/definitions/genericDefinition');

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
    statuses.engagements = { ...preset.statuses?.engagements, ...settings.statuses?.engagements };
  }
  const mapping = merged.mapping as GenericSettings['mapping'];
  if (mapping) mapping.attributes = { ...preset.mapping?.attributes, ...settings.mapping?.attributes };
  return merged as unknown as GenericSettings;
}

function compilePath(path: string, where: string): Path {
  if (path.startsWith('$.') || path.startsWith('$/')) {
    const steps = compilePath(path.slice(1 + Number(path[1] === '.')), where);
    return Object.assign([...steps], { fromRoot: true as const });
  }
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

/** Exact codes, or prefixes written with a trailing `*` ("contact.*"). */
function ignoredCodes(codes: string[]): (code: string) => boolean {
  const exact = new Set(codes.filter((c) => !c.endsWith('*')));
  const prefixes = codes.filter((c) => c.endsWith('*')).map((c) => c.slice(0, -1));
  return (code) => exact.has(code) || prefixes.some((prefix) => code.startsWith(prefix));
}

/** One path, or the first of a list with the others as its alternatives (`or`), tried in order. */
function compilePaths(paths: Paths, where: string): Path {
  if (typeof paths === 'string') return compilePath(paths, where);
  const [first, ...rest] = paths.map((path, i) => compilePath(path, `${where}[${i}]`));
  return rest.length === 0 ? first : Object.assign([...first], { ...(first.fromRoot ? { fromRoot: true as const } : {}), or: rest });
}

const optionalPath = (path: Paths | undefined, where: string): Path | null => (path === undefined ? null : compilePaths(path, where));

const KNOWN_TIME_FORMATS = ['unix', 'unix_ms', 'iso'];

/** One format, or a list tried in order (Vonage sends both yyyy-MM-dd HH:mm:ss and ISO). */
function compileTimes(format: string | string[], where: string): (text: string, zone: string) => Date | null {
  if (typeof format === 'string') return compileTime(format, where);
  const parsers = format.map((f, i) => compileTime(f, `${where}[${i}]`));
  return (text, zone) => {
    for (const parse of parsers) {
      const date = parse(text, zone);
      if (date) return date;
    }
    return null;
  };
}

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
  if (format.jsonInField !== undefined && format.type !== 'form') {
    fail(`${where}.format.jsonInField`, 'reports inside a form field need format.type "form"');
  }
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
      jsonInField: format.jsonInField ?? null,
      methods: [...new Set<Method>(format.methods ?? ['POST'])],
    },
    mapping: {
      messageId: compilePaths(m.messageId, p('messageId')),
      recipient: optionalPath(m.recipient, p('recipient')),
      recipientPrefix: m.recipientPrefix ?? '',
      status: compilePaths(m.status, p('status')),
      statusDetail: optionalPath(m.statusDetail, p('statusDetail')),
      errorCode: optionalPath(m.errorCode, p('errorCode')),
      errorMessage: optionalPath(m.errorMessage, p('errorMessage')),
      occurredAt: optionalPath(m.occurredAt, p('occurredAt')),
      eventId: optionalPath(m.eventId, p('eventId')),
      attributes: Object.entries(m.attributes ?? {}).map(([attr, path]) => [attr, compilePath(path, `${p('attributes')}.${attr}`)]),
    },
    time: { parse: compileTimes(time?.format ?? 'iso', `${where}.time.format`), zone, format: [time?.format ?? 'iso'].flat().join(' or ') },
    statuses: {
      map: new Map(Object.entries(statuses.map ?? {})),
      prefixes,
      fallback: statuses.default ?? 'keep',
      engagements: new Map(Object.entries(statuses.engagements ?? {})),
      ignored: ignoredCodes(statuses.ignore ?? []),
      ignoreMissing: statuses.ignoreMissing ?? false,
    },
    signature: compileSignature(merged.signature ?? {}, `${where}.signature`),
    ack: compileAck(merged.ack),
  };
  const sig = def.signature;
  if (sig && sig.template.length > 0) {
    // a callback by GET carries its report in the query string, which {url} signs
    const reporting = def.format.methods.filter((method) => method !== 'HEAD');
    if (reporting.length > 0 && reporting.every((method) => method === 'GET') && sig.template.some((part) => part.kind === 'url')) sig.bodySigned = true;
    sig.singleFields = checkCoverage(def, sig, readsOf(def, m), merged.signature!.signed!, `${where}.signature`);
  }
  if (sig) checkAccountSettings(sig, settings.accounts ?? {}, where);
  return def;
}

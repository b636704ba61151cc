import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { PayloadInvalid } from '../../errors';
import { bodyText, checkBatchSize, contentType, formEntries, isObject, parseJson, parseXml } from '../decode';
import type { RawCallback } from '../../raw/types';
import type { GenericDefinition, Path } from './definition';

/**
 * A generic provider's request body, read once for both verification and parsing. `fields` are the
 * body's top-level values as received (form fields decoded, JSON numbers in their own digits, XML
 * children of the root): what `{params}` and `{"field": …}` locations see.
 */
export interface Document {
  kind: 'json' | 'form' | 'xml';
  root: unknown;
  fields: [string, string][];
  /** `format.jsonInField`: the JSON document in that form field (Mandrill's `mandrill_events`), where the reports are. */
  inner?: unknown;
}

function kindOf(def: GenericDefinition, raw: RawCallback): Document['kind'] {
  // a callback by GET: the raw log keeps its query string as the body (src/http/routes/callbacks.ts)
  if (raw.method === 'GET') return 'form';
  if (def.format.type !== 'auto') return def.format.type;
  const type = contentType(raw);
  if (type.includes('json')) return 'json';
  if (type.includes('xml')) return 'xml';
  if (type.includes('x-www-form-urlencoded')) return 'form';
  const first = raw.body.toString('latin1', 0, 64).trimStart()[0];
  return first === '{' || first === '[' ? 'json' : first === '<' ? 'xml' : 'form';
}

/** A value as text the way it arrived: numbers keep their digits ("0.03330000"), not JavaScript's. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isLosslessNumber(value)) return value.value;
  if (typeof value === 'boolean') return String(value);
  if (value === null) return '';
  return undefined;
}

function scalarFields(root: unknown): [string, string][] {
  if (!isObject(root)) return [];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(root)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      const text = scalarText(item);
      if (text !== undefined) out.push([k, text]);
    }
  }
  return out;
}

function read(def: GenericDefinition, raw: RawCallback): Document {
  const kind = kindOf(def, raw);
  if (kind === 'form') {
    const fields = formEntries(raw, def.format.charset);
    const root: Record<string, string> = {};
    for (const [k, v] of fields) if (!Object.hasOwn(root, k)) Object.defineProperty(root, k, { value: v, enumerable: true });
    const holder = def.format.jsonInField;
    if (holder === null) return { kind, root, fields };
    const json = root[holder];
    if (json === undefined) throw new PayloadInvalid(`form field "${holder}" (the reports, as JSON) is missing`);
    return { kind, root, fields, inner: parseJson(json, holder, parseLossless) };
  }
  const text = bodyText(raw, def.format.charset);
  if (kind === 'json') {
    // numbers keep the digits they arrived in, for mapping and for signing
    const root = parseJson(text, 'body', parseLossless);
    return { kind, root, fields: scalarFields(root) };
  }
  const doc = parseXml(text);
  const names = Object.keys(doc).filter((k) => !k.startsWith('?'));
  if (names.length !== 1) throw new PayloadInvalid('XML body must have exactly one root element');
  const root = doc[names[0]];
  return { kind, root, fields: scalarFields(root) };
}

const cache = new WeakMap<RawCallback, Document>();

/** The request's document; verification and parsing of one request read the body once. */
export function documentOf(def: GenericDefinition, raw: RawCallback): Document {
  let doc = cache.get(raw);
  if (!doc) {
    doc = read(def, raw);
    cache.set(raw, doc);
  }
  return doc;
}

/** Follows a path through objects (own members only) and arrays; undefined where it leads nowhere. */
function valueAt(root: unknown, path: Path): unknown {
  let here = root;
  for (const step of path) {
    if (Array.isArray(here)) here = /^\d+$/.test(step) ? here[Number(step)] : undefined;
    else if (isObject(here) && !isLosslessNumber(here)) here = Object.hasOwn(here, step) ? here[step] : undefined;
    else return undefined;
  }
  return here;
}

/** The document a `$.`-path starts at: the JSON in the form field for `format.jsonInField`, else the body's. */
export function rootOf(doc: Document): unknown {
  return doc.inner ?? doc.root;
}

/**
 * A mapped value as text; missing or empty is undefined, an object or list where one value belongs
 * is refused. A `$.` path reads from `root` (the document), any other from the report.
 */
export function textAt(item: unknown, path: Path, where: string, root?: unknown): string | undefined {
  const value = valueAt(path.fromRoot ? root : item, path);
  if (value === undefined || value === null || value === '') {
    for (const alternative of path.or ?? []) {
      const text = textAt(item, alternative, where, root);
      if (text !== undefined) return text;
    }
    return undefined;
  }
  const text = scalarText(value);
  if (text === undefined) throw new PayloadInvalid(`${where}: "${path.join('.')}" is not a single value`);
  return text;
}

/** The report objects of a document: one for a form, else the list (or object) at `format.reports`. */
export function reportItems(def: GenericDefinition, doc: Document): Record<string, unknown>[] {
  if (doc.kind === 'form' && doc.inner === undefined) return [doc.root as Record<string, unknown>];
  let container = doc.inner ?? doc.root;
  if (def.format.reports) {
    container = valueAt(doc.inner ?? doc.root, def.format.reports);
    if (container === undefined) throw new PayloadInvalid(`"${def.format.reports.join('.')}" (the list of reports) is missing`);
  }
  const items = Array.isArray(container) ? container : [container];
  checkBatchSize(items.length);
  return items.map((item, i) => {
    if (!isObject(item) || isLosslessNumber(item)) throw new PayloadInvalid(`report[${i}] is not an object`);
    return item;
  });
}

/**
 * What a generic definition's signature covers of the request (finding 6 of #14), checked once at
 * start-up: the definition is refused when something the reports read could change under a valid
 * signature.
 */
import { describeLocation, fail, type CompiledSignature, type GenericDefinition, type GenericSettings, type Path, type TemplatePart } from './language';

/** A value the reports read: the setting that names it, its path as written and compiled. */
export interface Read {
  setting: string;
  text: string;
  path: Path;
}

export function readsOf(def: GenericDefinition, m: NonNullable<GenericSettings['mapping']>): Read[] {
  const reads: Read[] = [];
  for (const key of ['messageId', 'recipient', 'status', 'statusDetail', 'errorCode', 'errorMessage', 'occurredAt', 'eventId'] as const) {
    const path = def.mapping[key];
    if (!path) continue;
    const texts = [m[key]!].flat();
    for (const [i, alternative] of [path, ...(path.or ?? [])].entries()) reads.push({ setting: `mapping.${key}`, text: texts[i], path: alternative });
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
 *   text: none of the body. A header that holds the body's digest (`bodyDigest`, checked against
 *   the body) signs the body through it; `{url}` signs the query string, which is the body of a
 *   callback by GET (`format.methods` ["GET"]).
 * - `format.jsonInField` (Mandrill's `mandrill_events`): the reports are inside one form field, so
 *   that field is what must be signed, exactly (`{params}` or `{field:NAME}`), and sent once.
 */
export function checkCoverage(def: GenericDefinition, sig: CompiledSignature, mapped: Read[], signed: string, where: string): string[] {
  const holder = def.format.jsonInField;
  const reads = holder ? [{ setting: 'format.jsonInField', text: holder, path: [holder] }] : mapped;
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

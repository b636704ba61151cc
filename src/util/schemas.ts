import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { SCHEMAS_DIR } from '../paths';

/**
 * The JSON Schemas of `schemas/`, each compiled once, on first use, by one of two Ajv instances:
 * what comes in (configuration, API bodies) with full format checks (a date-time must be a real
 * calendar date), and what this service produces itself — the status event, whose times come from
 * Date#toISOString — with format checks by shape only: full checks would be most of what validating
 * an event costs, once per report (docs/performance.md).
 */
interface Instance {
  ajv: Ajv;
  compiled: Map<string, ValidateFunction>;
}
function instance(mode: 'full' | 'fast'): Instance {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv, { mode });
  return { ajv, compiled: new Map() };
}
const inputs = instance('full');
const produced = instance('fast');

/**
 * A schema file of `schemas/`, or one of its parts: `config.schema.json#/definitions/x`.
 * `ownOutput`: the values checked are made by this service (formats checked by shape).
 */
export function schemaValidator<T>(ref: string, ownOutput = false): (value: unknown) => value is T {
  let fn: ValidateFunction | undefined; // compiled on first use: a command that never validates never pays
  const check = (value: unknown): value is T => {
    fn ??= compile(ref, ownOutput ? produced : inputs);
    const ok = fn(value);
    lastErrors = ok ? [] : [...(fn.errors ?? [])];
    return ok;
  };
  return check;
}

function compile(ref: string, { ajv, compiled }: Instance): ValidateFunction {
  const [file, fragment] = ref.split('#') as [string, string | undefined];
  let validate = compiled.get(file);
  if (!validate) {
    const schema = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, file), 'utf8')) as object;
    validate = ajv.compile(schema);
    compiled.set(file, validate);
  }
  if (fragment === undefined) return validate;
  const id = (validate.schema as { $id: string }).$id;
  const part = ajv.getSchema(`${id}#${fragment}`);
  if (!part) throw new Error(`no schema ${ref}`);
  return part;
}

let lastErrors: ErrorObject[] = [];

/** What a value of a format looks like, added to ajv's "must match format" (issue #18: a refusal says what to send). */
const FORMAT_EXAMPLES: Record<string, string> = {
  date: 'YYYY-MM-DD, e.g. 2026-11-24',
  'date-time': 'an ISO-8601 time with its offset, e.g. 2026-11-24T08:00:00Z',
  uri: 'an absolute URL, e.g. https://example.com/path',
};

/** The errors of the last failed validation, each naming its field as a dotted path. */
export function describeErrors(): string[] {
  // "property name must be valid" only repeats the error about the name that follows it
  return lastErrors
    .filter((e) => e.keyword !== 'propertyNames')
    .map((e) => {
      const base = e.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
      const extra = e.params as { additionalProperty?: string; missingProperty?: string; allowedValues?: unknown[] };
      const name = (e as { propertyName?: string }).propertyName;
      const field = extra.additionalProperty ?? extra.missingProperty ?? name;
      const where = [base, field].filter(Boolean).join('.') || '(root)';
      // an enum's refusal lists what it takes (ajv says only "must be equal to one of the allowed values")
      const format = e.keyword === 'format' ? FORMAT_EXAMPLES[(e.params as { format: string }).format] : undefined;
      const message =
        e.keyword === 'enum' && extra.allowedValues
          ? `${e.message}: ${extra.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
          : format
            ? `${e.message} (${format})`
            : e.message;
      const what = extra.additionalProperty ? 'is not a known setting' : `${name === undefined ? '' : 'name '}${message ?? 'is invalid'}`;
      return `${where}: ${what}`;
    });
}

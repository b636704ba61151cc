import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { SCHEMAS_DIR } from '../paths';

/**
 * One Ajv instance for every JSON Schema in `schemas/`; each schema is compiled once, on first use.
 */
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const compiled = new Map<string, ValidateFunction>();

export function schemaValidator<T>(file: string): (value: unknown) => value is T {
  let validate = compiled.get(file);
  if (!validate) {
    const schema = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, file), 'utf8')) as object;
    validate = ajv.compile(schema);
    compiled.set(file, validate);
  }
  const fn = validate;
  const check = (value: unknown): value is T => {
    const ok = fn(value) as boolean;
    lastErrors = ok ? [] : [...(fn.errors ?? [])];
    return ok;
  };
  return check;
}

let lastErrors: ErrorObject[] = [];

/** The errors of the last failed validation, each naming its field as a dotted path. */
export function describeErrors(): string[] {
  return lastErrors.map((e) => {
    const base = e.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
    const extra = e.params as { additionalProperty?: string; missingProperty?: string };
    const field = extra.additionalProperty ?? extra.missingProperty;
    const where = [base, field].filter(Boolean).join('.') || '(root)';
    const what = extra.additionalProperty ? 'is not a known setting' : e.message ?? 'is invalid';
    return `${where}: ${what}`;
  });
}

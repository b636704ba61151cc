import { ConfigError } from '../errors';

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** Replaces every `"env:NAME"` string with the variable's value; a missing variable names its field. */
export function resolveEnvRefs(value: unknown, env: NodeJS.ProcessEnv, where = ''): unknown {
  if (typeof value === 'string') {
    const ref = ENV_REF.exec(value);
    if (!ref) return value;
    const resolved = env[ref[1]];
    if (resolved === undefined || resolved === '') {
      throw new ConfigError(`config invalid: ${where || '(root)'}: environment variable ${ref[1]} is not set`);
    }
    return resolved;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnvRefs(v, env, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnvRefs(v, env, where ? `${where}.${k}` : k)]));
  }
  return value;
}

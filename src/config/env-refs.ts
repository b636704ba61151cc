import { ConfigError } from '../errors';

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * Replaces every `"env:NAME"` string with the variable's value. Every missing variable is named
 * with its field, all in one error (fixing them one start at a time would take as many starts).
 */
export function resolveEnvRefs(value: unknown, env: NodeJS.ProcessEnv): unknown {
  const missing: string[] = [];
  const resolve = (v: unknown, where: string): unknown => {
    if (typeof v === 'string') {
      const ref = ENV_REF.exec(v);
      if (!ref) return v;
      const resolved = env[ref[1]];
      if (resolved === undefined || resolved === '') missing.push(`${where || '(root)'}: environment variable ${ref[1]} is not set`);
      return resolved;
    }
    if (Array.isArray(v)) return v.map((x, i) => resolve(x, `${where}[${i}]`));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, where ? `${where}.${k}` : k)]));
    return v;
  };
  const out = resolve(value, '');
  if (missing.length > 0) throw new ConfigError(`config invalid: ${missing.join('; ')}`);
  return out;
}

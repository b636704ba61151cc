import fs from 'node:fs';
import path from 'node:path';
import { BlockList } from 'node:net';
import { describeErrors, schemaValidator } from '../util/schemas';
import { isValidZone } from '../util/time';
import { checkDatabaseUrl, DEFAULT_POOL_SIZE } from '../db/connect';
import { findProvider, providerNames } from '../providers/registry';
import type { AccountSettings } from '../providers/types';
import { compileDefinition, type GenericDefinition, type GenericSettings } from '../providers/generic/definition';
import { ConfigError } from '../errors';
import { resolveEnvRefs } from './env-refs';

export { ConfigError };

export type Scope = 'read' | 'replay' | 'admin';

/**
 * An account as configured: the settings every account has, and its provider's own (secrets, keys,
 * URLs), which the config schema validates and the provider types (src/providers/types.ts Provider<S>).
 */
export type AccountConfig = AccountSettings & Record<string, unknown>;

export interface ApiToken {
  name: string;
  token: string;
  scopes: Scope[];
}

export interface RateLimit {
  windowSeconds: number;
  max: number;
}

export interface Config {
  /** The config file read, or null when none was found. */
  source: string | null;
  port: number;
  host: string;
  databaseUrl: string;
  /** PostgreSQL connections per process (DATABASE_POOL_SIZE). */
  databasePoolSize: number;
  logLevel: string;
  worker: boolean;
  /** `generic`: a provider defined by configuration (kind "generic"), compiled. */
  providers: Record<string, { accounts: Record<string, AccountConfig>; generic?: GenericDefinition }>;
  tokens: ApiToken[];
  retention: { rawDays: number };
  delivery: {
    retryScheduleSeconds: number[];
    timeoutSeconds: number;
    allowPrivateNetworks: boolean;
    concurrency: number;
    maxInFlightPerSubscription: number;
    /** A subscription with only failed attempts for this long is disabled (src/outbox/auto-disable.ts). */
    disableAfterFailingSeconds: number;
  };
  server: {
    trustProxy: boolean | number | string[];
    bodyLimitBytes: number;
    /** A callback's body must arrive within this many seconds of its headers. */
    bodyTimeoutSeconds: number;
    /** Per client address and process; null: no limit. */
    rateLimit: { api: RateLimit | null; callbacks: RateLimit | null };
    /** Bytes of callback bodies held at once by this process (503 with Retry-After past it). */
    bodyBudgetBytes: number;
    /** Open connections accepted at once (node's server.maxConnections). */
    maxConnections: number;
    /** A request's headers must arrive within this many seconds. */
    headersTimeoutSeconds: number;
    /** A read query (with its wait for a read thread) must finish within this many seconds (503 past it). */
    readTimeoutSeconds: number;
    /** SQLite: threads running the API's read queries beside ingest (src/db/read-pool.ts); 0 runs them on the main thread. */
    readThreads: number;
  };
  /** GET /metrics: on the main port (port null) or a port of its own; behind a bearer token when set. */
  metrics: { port: number | null; host: string | null; token: string | null };
  /** Things worth a start-up warning (no config file, unprotected accounts). */
  warnings: string[];
}

function rateLimitOf(value: false | { windowSeconds?: number; max: number } | undefined, fallback: RateLimit | null): RateLimit | null {
  if (value === undefined) return fallback;
  if (value === false) return null;
  return { windowSeconds: value.windowSeconds ?? 60, max: value.max };
}

export const DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  databaseUrl: 'sqlite:./data/dlr.sqlite',
  configFile: './dlr.config.json',
  bodyTimeoutSeconds: 10,
  apiRateLimit: { windowSeconds: 60, max: 600 },
  timeZone: 'Asia/Shanghai',
  timestampToleranceSeconds: 300,
  finalAfterSeconds: 259_200,
  rawDays: 30,
  retryScheduleSeconds: [5, 30, 120, 600, 1800, 3600, 10800, 21600],
  deliveryTimeoutSeconds: 10,
  deliveryConcurrency: 16,
  maxInFlightPerSubscription: 4,
  /** 5 days of only failures disable a subscription. */
  disableAfterFailingSeconds: 432_000,
  bodyLimitBytes: 1024 * 1024,
  /** 64 callbacks of the largest size at once: peak RSS stays ~200 MB under any number of senders. */
  bodyBudgetBytes: 64 * 1024 * 1024,
  maxConnections: 4096,
  headersTimeoutSeconds: 15,
  readTimeoutSeconds: 5,
  readThreads: 2,
} as const;

/** pino's levels (LOG_LEVEL). */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Providers that sign nothing and so may run on a `default` account when there is no config file. */
export const UNSIGNED_PROVIDERS = ['aliyun', 'tencent', 'ronglian'] as const;

interface RawConfig {
  providers?: Record<string, { kind?: 'generic'; accounts: Record<string, Partial<AccountConfig>> }>;
  tokens?: { name?: string; token: string; scopes: Scope[] }[];
  retention?: { rawDays?: number };
  delivery?: Partial<Config['delivery']>;
  server?: {
    trustProxy?: Config['server']['trustProxy'];
    bodyLimitBytes?: number;
    bodyTimeoutSeconds?: number;
    bodyBudgetBytes?: number;
    maxConnections?: number;
    headersTimeoutSeconds?: number;
    readTimeoutSeconds?: number;
    readThreads?: number;
    rateLimit?: { api?: false | { windowSeconds?: number; max: number }; callbacks?: false | { windowSeconds?: number; max: number } };
  };
  metrics?: { port?: number; host?: string; token?: string };
}

const validateConfig = schemaValidator<RawConfig>('config.schema.json');

function readConfigFile(env: NodeJS.ProcessEnv): { source: string | null; raw: unknown } {
  const explicit = env.DLR_CONFIG;
  const file = explicit || DEFAULTS.configFile;
  if (!fs.existsSync(file)) {
    if (explicit) throw new ConfigError(`config: DLR_CONFIG file ${explicit} does not exist`);
    return { source: null, raw: null };
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    // say what happened: a folder, no permission, … — not "not valid JSON"
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EISDIR'
        ? 'is a directory, not a file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot be read: permission denied'
          : `cannot be read (${code ?? (err as Error).message})`;
    throw new ConfigError(`config: ${file} ${why}`);
  }
  try {
    return { source: path.resolve(file), raw: JSON.parse(text) };
  } catch (err) {
    throw new ConfigError(`config: ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A name that is neither built in nor says `"kind": "generic"` is most likely a typo: say so. */
function checkProviderNames(resolved: unknown): void {
  const providers = (resolved as RawConfig).providers;
  if (providers === null || typeof providers !== 'object') return;
  for (const [name, settings] of Object.entries(providers)) {
    if (findProvider(name) || (settings as { kind?: unknown } | null)?.kind !== undefined) continue;
    throw new ConfigError(
      `config invalid: providers.${name}: is not a known provider (${providerNames().join(', ')}); a provider defined by configuration needs "kind": "generic"`,
    );
  }
}

function checkAccounts(providers: NonNullable<RawConfig['providers']>): void {
  for (const [name, provider] of Object.entries(providers)) {
    for (const [account, settings] of Object.entries(provider.accounts)) {
      const where = `providers.${name}.accounts.${account}`;
      if (settings.timeZone !== undefined && !isValidZone(settings.timeZone)) {
        throw new ConfigError(`config invalid: ${where}.timeZone: "${settings.timeZone}" is not an IANA time zone`);
      }
      for (const cidr of settings.allowIps ?? []) {
        const [address, bits] = cidr.split('/');
        const type = address.includes(':') ? 'ipv6' : 'ipv4';
        try {
          const list = new BlockList();
          if (bits === undefined) list.addAddress(address, type);
          else list.addSubnet(address, Number(bits), type);
        } catch {
          throw new ConfigError(`config invalid: ${where}.allowIps: "${cidr}" is not an address or CIDR range`);
        }
      }
    }
  }
}

function withAccountDefaults(raw: Partial<AccountConfig>): AccountConfig {
  return {
    ...raw,
    timeZone: raw.timeZone ?? DEFAULTS.timeZone,
    timestampToleranceSeconds: raw.timestampToleranceSeconds ?? DEFAULTS.timestampToleranceSeconds,
    finalAfterSeconds: raw.finalAfterSeconds ?? DEFAULTS.finalAfterSeconds,
  };
}

export interface LoadOptions {
  /**
   * For read-only CLI commands (`dlr messages`, `dlr stats`, `dlr raw list`, …), which verify
   * nothing: an account whose `env:` references are not all set is loaded without its provider
   * settings (only `timeZone`, `timestampToleranceSeconds`, `finalAfterSeconds` when they resolve)
   * and named in `warnings`, instead of failing. An API token whose `env:` variable is unset is
   * left out the same way. Every other error still fails.
   */
  allowUnresolvedSecrets?: boolean;
}

/** The settings an account keeps when it is loaded without its secrets (LoadOptions.allowUnresolvedSecrets). */
const SECRETLESS_KEYS = ['timeZone', 'timestampToleranceSeconds', 'finalAfterSeconds'] as const;

/** True when every `env:` reference in `value` resolves. */
function resolves(value: unknown, env: NodeJS.ProcessEnv): boolean {
  try {
    resolveEnvRefs(value, env);
    return true;
  } catch (err) {
    if (err instanceof ConfigError) return false;
    throw err;
  }
}

/**
 * Takes the accounts (and API tokens) with unset `env:` references out of a raw config, for
 * LoadOptions.allowUnresolvedSecrets: what is left resolves; the accounts come back without secrets.
 */
function withoutUnresolved(raw: unknown, env: NodeJS.ProcessEnv) {
  const secretless: { provider: string; account: string; settings: Partial<AccountConfig> }[] = [];
  if (raw === null || typeof raw !== 'object') return { raw, secretless };
  const copy = { ...(raw as RawConfig) };
  if (copy.providers !== null && typeof copy.providers === 'object') {
    copy.providers = Object.fromEntries(
      Object.entries(copy.providers).map(([name, provider]) => {
        if (provider === null || typeof provider !== 'object' || provider.accounts === null || typeof provider.accounts !== 'object') return [name, provider];
        const accounts: Record<string, Partial<AccountConfig>> = {};
        for (const [account, settings] of Object.entries(provider.accounts)) {
          if (resolves(settings, env)) {
            accounts[account] = settings;
            continue;
          }
          const kept = SECRETLESS_KEYS.filter((k) => settings[k] !== undefined && resolves(settings[k], env)).map((k) => [k, settings[k]]);
          secretless.push({ provider: name, account, settings: Object.fromEntries(kept) as Partial<AccountConfig> });
        }
        return [name, { ...provider, accounts }];
      }),
    );
  }
  if (Array.isArray(copy.tokens)) copy.tokens = copy.tokens.filter((t) => resolves(t, env));
  return { raw: copy, secretless };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  const file = readConfigFile(env);
  const { source } = file;
  const { raw, secretless } = options.allowUnresolvedSecrets ? withoutUnresolved(file.raw, env) : { raw: file.raw, secretless: [] };
  const resolved = raw === null ? {} : resolveEnvRefs(raw, env);
  checkProviderNames(resolved);
  if (!validateConfig(resolved)) {
    throw new ConfigError(`config invalid (${source}): ${describeErrors().join('; ')}`);
  }
  const warnings: string[] = [];
  let rawProviders = resolved.providers ?? {};
  if (source === null) {
    rawProviders = Object.fromEntries(UNSIGNED_PROVIDERS.map((p) => [p, { accounts: { default: {} } }]));
    warnings.push(
      `no config file (DLR_CONFIG or ${DEFAULTS.configFile}): ${UNSIGNED_PROVIDERS.join(', ')} accept callbacks ` +
        'on an unprotected "default" account; configure a token or allowIps before going live',
    );
  }
  checkAccounts(rawProviders);
  const providers: Config['providers'] = {};
  for (const [name, provider] of Object.entries(rawProviders)) {
    const generic = provider.kind === 'generic' ? compileDefinition(name, provider as GenericSettings) : undefined;
    const unsigned = generic ? generic.signature === null : (UNSIGNED_PROVIDERS as readonly string[]).includes(name);
    providers[name] = generic ? { accounts: {}, generic } : { accounts: {} };
    for (const [account, settings] of Object.entries(provider.accounts)) {
      providers[name].accounts[account] = withAccountDefaults(settings);
      // a generic provider's scheme settings (secret, publicKey, username/password, publicUrl): compileDefinition checked them
      if (source !== null && unsigned && !settings.token && !settings.allowIps) {
        warnings.push(`providers.${name}.accounts.${account} has neither token nor allowIps: anyone can post reports to it`);
      }
    }
  }
  for (const { provider, account, settings } of secretless) {
    checkAccounts({ [provider]: { accounts: { [account]: settings } } });
    providers[provider] ??= { accounts: {} };
    providers[provider].accounts[account] = withAccountDefaults(resolveEnvRefs(settings, env) as Partial<AccountConfig>);
    warnings.push(`providers.${provider}.accounts.${account}: loaded without its secrets (an env: variable is not set)`);
  }
  const tokens: ApiToken[] = (resolved.tokens ?? []).map((t, i) => ({ name: t.name ?? `token#${i + 1}`, token: t.token, scopes: t.scopes }));
  if (env.DLR_ADMIN_TOKEN) tokens.push({ name: 'admin (DLR_ADMIN_TOKEN)', token: env.DLR_ADMIN_TOKEN, scopes: ['read', 'replay', 'admin'] });
  if (tokens.length === 0) {
    warnings.push('no API token is configured (DLR_ADMIN_TOKEN or "tokens"): the read, replay and admin APIs and the console answer 401 to everyone');
  }

  const port = env.PORT === undefined || env.PORT === '' ? DEFAULTS.port : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`config invalid: PORT: "${env.PORT}" is not a port number`);
  const worker = (env.DLR_WORKER ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(worker)) throw new ConfigError(`config invalid: DLR_WORKER: must be "on" or "off", not "${env.DLR_WORKER}"`);

  const poolSize = env.DATABASE_POOL_SIZE ? Number(env.DATABASE_POOL_SIZE) : DEFAULT_POOL_SIZE;
  if (!Number.isInteger(poolSize) || poolSize < 1)
    throw new ConfigError(`config invalid: DATABASE_POOL_SIZE: "${env.DATABASE_POOL_SIZE}" is not a positive integer`);

  const databaseUrl = env.DATABASE_URL || DEFAULTS.databaseUrl;
  const urlProblem = checkDatabaseUrl(databaseUrl);
  if (urlProblem) throw new ConfigError(`config invalid: DATABASE_URL: ${urlProblem}`);
  const bodyLimitBytes = resolved.server?.bodyLimitBytes ?? DEFAULTS.bodyLimitBytes;
  const bodyBudgetBytes = resolved.server?.bodyBudgetBytes ?? Math.max(DEFAULTS.bodyBudgetBytes, bodyLimitBytes);
  if (bodyBudgetBytes < bodyLimitBytes) {
    throw new ConfigError(
      `config invalid: server.bodyBudgetBytes: ${bodyBudgetBytes} is less than server.bodyLimitBytes (${bodyLimitBytes}), so the largest callback could never be read`,
    );
  }
  const metricsPort = resolved.metrics?.port ?? null;
  if (metricsPort !== null && metricsPort !== 0 && metricsPort === port)
    throw new ConfigError(`config invalid: metrics.port: ${metricsPort} is the main PORT; leave it out to serve /metrics there`);

  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`config invalid: LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel.slice(0, 32))}`);
  return {
    source,
    port,
    host: env.HOST || DEFAULTS.host,
    databaseUrl,
    databasePoolSize: poolSize,
    logLevel,
    worker: worker === 'on',
    providers,
    tokens,
    retention: { rawDays: resolved.retention?.rawDays ?? DEFAULTS.rawDays },
    delivery: {
      retryScheduleSeconds: resolved.delivery?.retryScheduleSeconds ?? [...DEFAULTS.retryScheduleSeconds],
      timeoutSeconds: resolved.delivery?.timeoutSeconds ?? DEFAULTS.deliveryTimeoutSeconds,
      allowPrivateNetworks: resolved.delivery?.allowPrivateNetworks ?? false,
      concurrency: resolved.delivery?.concurrency ?? DEFAULTS.deliveryConcurrency,
      maxInFlightPerSubscription: resolved.delivery?.maxInFlightPerSubscription ?? DEFAULTS.maxInFlightPerSubscription,
      disableAfterFailingSeconds: resolved.delivery?.disableAfterFailingSeconds ?? DEFAULTS.disableAfterFailingSeconds,
    },
    server: {
      trustProxy: resolved.server?.trustProxy ?? false,
      bodyLimitBytes,
      bodyTimeoutSeconds: resolved.server?.bodyTimeoutSeconds ?? DEFAULTS.bodyTimeoutSeconds,
      rateLimit: {
        api: rateLimitOf(resolved.server?.rateLimit?.api, DEFAULTS.apiRateLimit),
        callbacks: rateLimitOf(resolved.server?.rateLimit?.callbacks, null),
      },
      bodyBudgetBytes,
      maxConnections: resolved.server?.maxConnections ?? DEFAULTS.maxConnections,
      headersTimeoutSeconds: resolved.server?.headersTimeoutSeconds ?? DEFAULTS.headersTimeoutSeconds,
      readTimeoutSeconds: resolved.server?.readTimeoutSeconds ?? DEFAULTS.readTimeoutSeconds,
      readThreads: resolved.server?.readThreads ?? DEFAULTS.readThreads,
    },
    metrics: { port: metricsPort, host: resolved.metrics?.host ?? null, token: resolved.metrics?.token ?? null },
    warnings,
  };
}

/**
 * The words of the configuration language of generic providers: the settings as written
 * (`GenericSettings`), their compiled form (`GenericDefinition`), and the one way a compiler step
 * refuses (`fail`, naming the field). ./definition.ts compiles; ./compile-signature.ts and
 * ./coverage.ts are its signature parts.
 */
import { ConfigError } from '../../errors';
import type { Channel, Status } from '../../status/types';
import type { Ack } from '../types';
import type { PRESET_FILES } from './presets';

/** A status, or `keep`: record the report, leave the message's status as it is. */
export type StatusRule = Status | 'keep';
export type DigestAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha512' | 'hmac-md5' | 'hmac-sha1' | 'hmac-sha256' | 'hmac-sha512';
/**
 * A digest (plain hash or HMAC) over a template; `ed25519` over a template with the account's
 * `publicKey`; the fixed schemes `standard-webhooks`, `jwt-hs256` and `basic-auth` (./schemes.ts).
 */
export type Algorithm = 'none' | DigestAlgorithm | 'ed25519' | 'standard-webhooks' | 'jwt-hs256' | 'basic-auth';
/** Account settings a scheme reads (schemas/config.schema.json, genericProvider accounts). */
export type SchemeSetting = 'secret' | 'publicKey' | 'username' | 'password' | 'publicUrl';
/** GET: the report in the query string; HEAD: the provider checks the URL exists (answered 200, not recorded). */
export type Method = 'POST' | 'GET' | 'HEAD';

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

export type Paths = string | string[];

/** `providers.<name>` of a generic provider as written (after `env:` references are resolved). */
export interface GenericSettings {
  kind: 'generic';
  preset?: keyof typeof PRESET_FILES;
  channel?: Channel;
  format?: { type?: 'auto' | 'json' | 'form' | 'xml'; reports?: string; charset?: string; jsonInField?: string; methods?: Method[] };
  /** A path, or a list of paths of which the first present one is read (Postmark: Recipient or Email). */
  mapping?: {
    messageId?: Paths;
    recipient?: Paths;
    recipientPrefix?: string;
    status?: Paths;
    statusDetail?: Paths;
    errorCode?: Paths;
    errorMessage?: Paths;
    occurredAt?: Paths;
    eventId?: Paths;
    attributes?: Record<string, string>;
  };
  time?: { format?: string | string[]; zone?: string };
  statuses?: {
    map?: Record<string, StatusRule>;
    prefixes?: Record<string, StatusRule>;
    default?: StatusRule;
    engagements?: Record<string, string>;
    ignore?: string[];
    ignoreMissing?: boolean;
  };
  signature?: {
    algorithm?: Algorithm;
    signed?: string;
    location?: ValueLocation;
    encoding?: 'hex' | 'HEX' | 'base64';
    timestamp?: ValueLocation & { unit?: 's' | 'ms' | 'auto' };
    nonce?: ValueLocation;
    params?: ParamsOptions;
    separator?: string;
    bodyDigest?: { header: string; algorithm: 'md5' | 'sha1' | 'sha256'; encoding?: 'hex' | 'base64' };
    claims?: { url?: string; body?: string; issuer?: string };
  };
  ack?: { status?: number; contentType?: string; body?: unknown };
  accounts: Record<string, Record<string, unknown>>;
}

/**
 * A path into a report: JSON pointer (`/a/0/b`) or dotted (`a.0.b`), split into its steps; `$.a.b`
 * or `$/a/b` start at the document instead (a message id beside a list of per-recipient reports).
 */
export type Path = readonly string[] & { readonly fromRoot?: true; readonly or?: readonly Path[] };

export type TemplatePart =
  { kind: 'text'; text: string } | { kind: 'body' | 'params' | 'timestamp' | 'nonce' | 'secret' | 'url' } | { kind: 'header' | 'field'; name: string };

export interface CompiledSignature {
  algorithm: Exclude<Algorithm, 'none'>;
  /** The account settings this scheme needs (each refused at start-up when an account lacks it). */
  settings: SchemeSetting[];
  /** Several signatures in one value, split by this; any may match (Plivo: ","). */
  separator: string | null;
  /** A header holding a digest of the body, checked against the body (NetEase Yunxin's MD5). */
  bodyDigest: { header: string; algorithm: 'md5' | 'sha1' | 'sha256'; encoding: 'hex' | 'base64' } | null;
  /** jwt-hs256: the claims that bind the URL and the body (hex SHA-256), and the issuer when one is required. */
  claims: { url: string; body: string; issuer: string | null };
  template: TemplatePart[];
  location: ValueLocation;
  encoding: 'hex' | 'base64';
  /** `auto`: seconds, or milliseconds when it has 13 digits or more (a provider whose documents disagree). */
  timestamp: (ValueLocation & { unit: 's' | 'ms' | 'auto' }) | null;
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
  format: { type: 'auto' | 'json' | 'form' | 'xml'; reports: Path | null; charset: string; jsonInField: string | null; methods: Method[] };
  mapping: {
    messageId: Path;
    recipient: Path | null;
    recipientPrefix: string;
    status: Path;
    statusDetail: Path | null;
    errorCode: Path | null;
    errorMessage: Path | null;
    occurredAt: Path | null;
    eventId: Path | null;
    attributes: [string, Path][];
  };
  /** Parses an event time in a zone (the configured one, else the account's). */
  time: { parse: (text: string, zone: string) => Date | null; zone: string | null; format: string };
  statuses: {
    map: Map<string, StatusRule>;
    prefixes: [string, StatusRule][];
    fallback: StatusRule;
    engagements: Map<string, string>;
    /** Codes of reports about no message (Resend's contact.* events): acknowledged, raw-logged, no report. */
    ignored: (code: string) => boolean;
    /** An element with no status code at all (SparkPost's `[{"msys":{}}]` when a webhook is created) is acknowledged with no report, not refused. */
    ignoreMissing: boolean;
  };
  signature: CompiledSignature | null;
  ack: Ack;
}

export function fail(where: string, message: string): never {
  throw new ConfigError(`config invalid: ${where}: ${message}`);
}

export function describeLocation(location: ValueLocation): string {
  if (location.header !== undefined) return `header ${location.header}`;
  if (location.query !== undefined) return `query parameter ${location.query}`;
  return `field ${location.field}`;
}

import type { RawCallback } from '../raw/types';
import type { Channel, ProviderReport, Status } from '../status/types';

/** The response a provider expects for a request it should not send again. */
export interface Ack {
  status: number;
  contentType?: string;
  body: string;
}

/** What verification may use besides the request: the outside world, behind one seam. */
export interface VerifyContext {
  /** GET a URL and return its body as text (SNS signing certificates). */
  fetchText(url: string): Promise<string>;
}

/** A single-use value of a signature scheme (Mailgun's token): seen twice means a replay. */
export interface Nonce {
  value: string;
  /**
   * The end of the window in which a request carrying it passes the timestamp check (twice the
   * tolerance after the receive time). Live, a use after it may take the value over; its record is
   * kept as long as the raw requests that could carry it (replay checks the stored receive time).
   */
  expiresAt: Date;
}

/**
 * What every account has, whatever its provider (src/config/config.ts fills the defaults). A provider
 * that needs more (a secret, a key, a URL) declares its own settings as an extension of this, and
 * the config schema (schemas/config.schema.json) validates them: config depends on providers, never
 * the reverse.
 */
export interface AccountSettings {
  /** A shared token the callback URL must carry (`?token=`). */
  token?: string;
  /** Client addresses or CIDR ranges allowed to post (after the configured trusted proxies). */
  allowIps?: string[];
  /** The IANA zone of the provider's local timestamps. */
  timeZone: string;
  timestampToleranceSeconds: number;
  /** A message with no final report this many seconds after it was first seen (or registered) is stale. */
  finalAfterSeconds: number;
}

/**
 * One row of a provider's status table, as the catalogue shows it (GET /v1/providers,
 * docs/providers.md): the provider's own code (or a condition on its fields, e.g. "Bounce Permanent")
 * and what it becomes: a normalized status, `keep` (recorded, the message's status unchanged) or
 * `engagement:<action>` (a message.engagement event).
 */
export interface StatusEntry {
  code: string;
  status: Status | 'keep' | `engagement:${string}`;
}

/** A setting an account of the provider takes, beyond every account's (token, allowIps, timeZone, …). */
export interface SettingInfo {
  name: string;
  required: boolean;
  description: string;
}

/** What the provider catalogue (src/providers/catalogue.ts) says about a built-in provider. */
export interface ProviderAbout {
  description: string;
  /** `scheme`: a short name (`none`, `hmac-sha1`, `ecdsa-p256`, `sns`…); `summary`: in words. */
  signature: { scheme: string; summary: string };
  settings: readonly SettingInfo[];
  /** The documentation (and public code) the provider follows. */
  sources: readonly string[];
}

export interface Verified {
  nonces?: Nonce[];
}

/**
 * One provider: a folder under src/providers/ and one line in src/providers/registry.ts. `S`: the
 * settings its accounts take.
 * `verify` works on the raw bytes and throws SignatureInvalid; `parse` throws PayloadInvalid.
 * Timestamps are checked against `raw.receivedAt`, so a stored request replays the same way.
 */
export interface Provider<S extends AccountSettings = AccountSettings> {
  name: string;
  channel: Channel;
  /** True when the provider signs nothing: a `default` account works without a config file. */
  unsigned: boolean;
  verify?(raw: RawCallback, account: S, ctx: VerifyContext): Verified | void | Promise<Verified | void>;
  parse(raw: RawCallback, account: S): ProviderReport[];
  ack(raw: RawCallback): Ack;
  /**
   * Why a request that was verified and parsed carries no report (an SNS subscription message, a
   * notification with no event): the raw log's detail for its `accepted` verdict. Absent, or null
   * for the request: no detail.
   */
  noReportReason?(raw: RawCallback): string | null;
  /** The status table, for the catalogue. */
  statuses?: readonly StatusEntry[];
  /** Description, signature, settings and sources, for the catalogue. */
  about?: ProviderAbout;
  /** Work after the commit, off the request path (SNS subscription confirmation). */
  afterCommit?(raw: RawCallback, account: S, ctx: VerifyContext): Promise<void>;
}

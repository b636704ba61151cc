import type { RawCallback } from '../raw/types';
import type { Channel, ProviderReport } from '../status/types';

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
  /** Work after the commit, off the request path (SNS subscription confirmation). */
  afterCommit?(raw: RawCallback, account: S, ctx: VerifyContext): Promise<void>;
}

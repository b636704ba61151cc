import type { AccountConfig } from '../config/config';
import type { Channel, ProviderReport } from '../status/types';

/** A callback as it arrived: everything replay needs to run it again through today's code. */
export interface RawCallback {
  id: string;
  provider: string;
  account: string;
  method: string;
  /** Path and query exactly as received. */
  url: string;
  /** Header names lower-case. */
  headers: Record<string, string>;
  body: Buffer;
  /** The client's address (after the configured trusted proxies). */
  remoteAddr: string;
  receivedAt: Date;
}

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

export interface Verified {
  nonces?: Nonce[];
}

/**
 * One provider: a folder under src/providers/ and one line in src/providers/registry.ts.
 * `verify` works on the raw bytes and throws SignatureInvalid; `parse` throws PayloadInvalid.
 * Timestamps are checked against `raw.receivedAt`, so a stored request replays the same way.
 */
export interface Provider {
  name: string;
  channel: Channel;
  /** True when the provider signs nothing: a `default` account works without a config file. */
  unsigned: boolean;
  verify?(raw: RawCallback, account: AccountConfig, ctx: VerifyContext): Verified | void | Promise<Verified | void>;
  parse(raw: RawCallback, account: AccountConfig): ProviderReport[];
  ack(raw: RawCallback): Ack;
  /** Work after the commit, off the request path (SNS subscription confirmation). */
  afterCommit?(raw: RawCallback, account: AccountConfig, ctx: VerifyContext): Promise<void>;
}

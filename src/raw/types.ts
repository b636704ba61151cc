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

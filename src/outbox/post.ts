import http from 'node:http';
import https from 'node:https';
import { DestinationRefusedError, publicOnlyLookup, refusedAddressLiteral } from './destination';

export interface PostAnswer {
  status: number;
  retryAfter: string | null;
  /** The first `capture` bytes of the answer's body, as text. */
  body: string;
}

/**
 * Kept-alive connections to subscribers: a busy subscriber is not a new TCP (and TLS) handshake per
 * event. Unless private networks are allowed, every connection's own DNS answer goes through the
 * SSRF guard ({@link publicOnlyLookup}): a name whose DNS changed after the pre-delivery check (DNS
 * rebinding) is not connected to. The two kinds never share a connection.
 */
const agents: Record<'open' | 'guarded', Record<string, http.Agent>> = {
  open: {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  },
  guarded: {
    'http:': new http.Agent({ keepAlive: true, lookup: publicOnlyLookup }),
    'https:': new https.Agent({ keepAlive: true, lookup: publicOnlyLookup }),
  },
};

/**
 * POSTs a webhook. The answer's body is read to its end (so the connection can be reused) but only
 * its first `capture` bytes are kept; redirects are not followed (a 3xx is the subscriber's answer).
 * `signal` aborts it (the attempt's timeout, shutdown). Unless `allowPrivateNetworks`, the address
 * connected to must be public, or it fails with a {@link DestinationRefusedError} and sends nothing.
 */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  capture: number,
  allowPrivateNetworks: boolean,
): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const agent = agents[allowPrivateNetworks ? 'open' : 'guarded'][target.protocol];
    if (!agent) {
      reject(new Error(`unsupported protocol ${target.protocol}`));
      return;
    }
    // Node looks up no address for an address literal: the agent's lookup never sees it.
    const refused = allowPrivateNetworks ? null : refusedAddressLiteral(target.hostname);
    if (refused) {
      reject(new DestinationRefusedError(refused));
      return;
    }
    const request = target.protocol === 'https:' ? https.request : http.request;
    const req = request(target, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < capture) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
          body: Buffer.concat(chunks).subarray(0, capture).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

import http from 'node:http';
import https from 'node:https';

export interface PostAnswer {
  status: number;
  retryAfter: string | null;
  /** The first `capture` bytes of the answer's body, as text. */
  body: string;
}

/** Kept-alive connections to subscribers: a busy subscriber is not a new TCP (and TLS) handshake per event. */
const agents: Record<string, http.Agent> = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/**
 * POSTs a webhook. The answer's body is read to its end (so the connection can be reused) but only
 * its first `capture` bytes are kept; redirects are not followed (a 3xx is the subscriber's answer).
 * `signal` aborts it (the attempt's timeout, shutdown).
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, signal: AbortSignal, capture: number): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const agent = agents[target.protocol];
    if (!agent) {
      reject(new Error(`unsupported protocol ${target.protocol}`));
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
        resolve({ status: res.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : null, body: Buffer.concat(chunks).subarray(0, capture).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DestinationRefusedError } from '../../src/outbox/destination';
import { postWebhook } from '../../src/outbox/post';
import { startSubscriber, type Subscriber } from '../helpers/subscriber';

// Every request here goes to a subscriber on 127.0.0.1 (or is refused before it connects).
const post = (url: string, allowPrivateNetworks: boolean) =>
  postWebhook(url, { 'content-type': 'application/json' }, '{"n":1}', new AbortController().signal, 2048, allowPrivateNetworks);
const SETTING = /\(set delivery\.allowPrivateNetworks to allow it\)/;

/** A loopback server answering every request with `status` and `headers`; counts connections and requests. */
async function startServer(status: number, headers: Record<string, string> = {}) {
  const seen = { connections: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    seen.requests += 1;
    req.resume();
    req.on('end', () => res.writeHead(status, headers).end(`answer ${status}`));
  });
  server.on('connection', () => (seen.connections += 1));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    seen,
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('postWebhook: the address actually connected to', () => {
  let sub: Subscriber;
  let port: string;
  beforeEach(async () => {
    sub = await startSubscriber();
    port = new URL(sub.url).port;
  });
  afterEach(() => sub.close());

  it('refuses a name that resolves to loopback when connecting (whatever an earlier check said), unless private networks are allowed', async () => {
    const err = await post(`http://localhost:${port}/hook`, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DestinationRefusedError);
    expect((err as Error).message).toMatch(/^localhost resolved to (127\.0\.0\.1|::1) when connecting, a loopback, private or reserved address/);
    expect((err as Error).message).toMatch(SETTING);
    expect(sub.received).toHaveLength(0);

    expect((await post(`http://localhost:${port}/hook`, true)).status).toBe(200);
    expect(sub.received).toHaveLength(1);
  });

  it('refuses over https too, before any handshake', async () => {
    const err = await post(`https://localhost:${port}/hook`, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DestinationRefusedError);
    expect(sub.received).toHaveLength(0);
  });

  it.each(['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]'])('refuses the address literal %s (no lookup happens for a literal)', async (host) => {
    const err = await post(`http://${host}:${port}/hook`, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DestinationRefusedError);
    expect((err as Error).message).toMatch(SETTING);
    expect(sub.received).toHaveLength(0);
  });

  it('keeps connections alive between deliveries', async () => {
    const server = await startServer(204);
    try {
      for (let i = 0; i < 3; i++) expect((await post(`http://localhost:${server.port}/hook`, true)).status).toBe(204);
      expect(server.seen).toEqual({ connections: 1, requests: 3 });
    } finally {
      await server.close();
    }
  });

  it('does not follow a redirect: the 3xx is the answer', async () => {
    const redirecting = await startServer(302, { location: sub.url });
    try {
      const answer = await post(`http://127.0.0.1:${redirecting.port}/hook`, true);
      expect(answer).toMatchObject({ status: 302, body: 'answer 302' });
      expect(redirecting.seen.requests).toBe(1);
      expect(sub.received).toHaveLength(0);
    } finally {
      await redirecting.close();
    }
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Subscriber {
  url: string;
  received: Received[];
  /** What to answer next: a status code, 'hang' (never answer), or a function of the request number. */
  respond: (n: number) => number | 'hang';
  /** Answers every request left hanging so far with `status`. */
  release(status: number): void;
  close(): Promise<void>;
}

/** A real HTTP subscriber on loopback that records what it receives (on `port`, or any free one). */
export async function startSubscriber(respond: Subscriber['respond'] = () => 200, port = 0): Promise<Subscriber> {
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const sub: Subscriber = {
    url: '',
    received,
    respond,
    release(status) {
      for (const res of hanging) res.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}`);
      hanging.clear();
    },
    close: () => Promise.resolve(),
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body, at: Date.now() });
      const answer = sub.respond(received.length);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(`answer ${answer}`);
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  sub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  sub.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return sub;
}

export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

import { createServer, get, type Server } from 'node:http';
import net from 'node:net';
import { ACCEPT_SOCKETS, listenShared, type Listening } from '../../src/http/listen';
import { waitFor } from '../helpers/subscriber';

// node gained listen({ reusePort }) in 22.12 and 23.1; node 20 ignores the option
const [major, minor] = process.versions.node.split('.').map(Number);
const reusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

function answer(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('listening sockets sharing the port', () => {
  let server: Server;
  let listening: Listening;
  beforeEach(async () => {
    let n = 0;
    server = createServer((_req, res) => res.end(String(++n)));
    listening = await listenShared(server, { port: 0, host: '127.0.0.1', maxConnections: 1000 });
  });
  afterEach(async () => {
    server.closeAllConnections();
    await listening.close();
  });

  it(`binds ${ACCEPT_SOCKETS} sockets where node has reusePort (this one: ${reusePort}), 1 elsewhere, and serves through all of them`, async () => {
    expect(listening.sockets).toBe(reusePort ? ACCEPT_SOCKETS : 1);
    // 64 new connections at once: the kernel spreads them over the sockets; one handler answers all
    const answers = await Promise.all(Array.from({ length: 64 }, () => answer(listening.port)));
    expect(new Set(answers).size).toBe(64);
  });

  it('keeps the port to itself: a second process-like bind, with or without reusePort, fails with EADDRINUSE', async () => {
    const other = createServer();
    await expect(listenShared(other, { port: listening.port, host: '127.0.0.1', maxConnections: 10 })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const plain = net.createServer();
    await expect(
      new Promise((resolve, reject) => {
        plain.once('error', reject);
        plain.listen({ port: listening.port, host: '127.0.0.1' }, () => resolve(null));
      }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('close() stops accepting on every socket, waits for open connections, then frees the port', async () => {
    const held = net.connect(listening.port, '127.0.0.1');
    await new Promise((r) => held.once('connect', r));
    await answer(listening.port); // the handler runs: the server is up
    let done = false;
    const closing = listening.close().then(() => (done = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false); // the held connection is still open
    await expect(answer(listening.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    held.destroy();
    await closing;
    // the port is free again: a fresh bind takes it
    server = createServer((_req, res) => res.end('again'));
    listening = await listenShared(server, { port: listening.port, host: '127.0.0.1', maxConnections: 10 });
    await expect(answer(listening.port)).resolves.toBe('again');
  });
});

describe('maxConnections across the sockets', () => {
  it('counts the connections of every socket together: past the limit a new one is closed at once', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    let accepted = 0; // every socket's connections reach the server's 'connection' event
    server.on('connection', (s: net.Socket) => {
      if (!s.destroyed) accepted += 1;
    });
    const listening = await listenShared(server, { port: 0, host: '127.0.0.1', maxConnections: 5 });
    try {
      // 5 held connections (spread over the sockets where there are several) fill the limit
      const held = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const s = net.connect(listening.port, '127.0.0.1');
          await new Promise((r) => s.once('connect', r));
          return s;
        }),
      );
      await waitFor(() => accepted === 5, 'the five held connections accepted');
      const refused = await Promise.allSettled(Array.from({ length: 8 }, () => answer(listening.port)));
      expect(refused.every((r) => r.status === 'rejected')).toBe(true);
      expect(accepted).toBe(5);
      held[0].destroy();
      held[1].destroy();
      // a slot frees once the server has seen the close
      await waitFor(() => answer(listening.port).catch(() => false), 'a connection taken again');
      for (const s of held) s.destroy();
    } finally {
      server.closeAllConnections();
      await listening.close();
    }
  });
});

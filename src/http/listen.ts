import type { Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

/**
 * Listening sockets sharing the service's port (SO_REUSEPORT), where node offers it (22.12+, 23.1+).
 *
 * Why: libuv takes ONE new connection per turn of the event loop (libuv PR #3696, in every node
 * since 20). Under load a turn costs a few milliseconds, so a burst of new connections (senders
 * reconnecting after a restart, a pool growing while the first requests run cold) waits in the
 * kernel's accept queue: 200 connections × 5 ms = a second, while the requests on connections
 * already open are served in milliseconds. Measured on this service: requests on connections opened
 * in the first burst after a start waited 0.5–1.8 s before their `connection` event
 * (docs/performance.md, "The first seconds after a restart"). With several listening sockets the
 * kernel spreads new connections over them and each turn takes one from each.
 */
export const ACCEPT_SOCKETS = 8;

export interface Listening {
  port: number;
  /** Listening sockets on the port: `ACCEPT_SOCKETS`, or 1 where node has no `reusePort`. */
  sockets: number;
  /** Stops accepting on every socket; resolves when every connection they accepted has closed. */
  close(): Promise<void>;
}

export function listenOn(server: NetServer, options: { port: number; host: string; reusePort?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closed(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Binds `server` (and up to `ACCEPT_SOCKETS - 1` more sockets, whose connections it is handed) to
 * `host:port`. The port stays this process's alone: it is first bound without SO_REUSEPORT, so a
 * second instance started on it fails with EADDRINUSE as before instead of sharing the traffic.
 * `maxConnections` counts the connections of every socket together.
 */
export async function listenShared(server: Server, options: { port: number; host: string; maxConnections: number }): Promise<Listening> {
  let open = 0;
  // every socket's connections reach the server's 'connection' event (handed over by emitting it),
  // so this one check counts them all, where node's own maxConnections counts one socket's
  const admit = (socket: Socket) => {
    if (open >= options.maxConnections) {
      socket.destroy();
      return;
    }
    open += 1;
    socket.once('close', () => {
      open -= 1;
    });
  };
  for (let attempt = 1; ; attempt++) {
    const probe = createNetServer();
    await listenOn(probe, { port: options.port, host: options.host });
    const port = (probe.address() as { port: number }).port;
    await closed(probe);
    try {
      await listenOn(server, { port, host: options.host, reusePort: true });
    } catch (err) {
      // port 0: another process took the free port between the probe and this bind
      if (options.port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 3) continue;
      throw err;
    }
    server.prependListener('connection', admit);
    const extra: NetServer[] = [];
    while (extra.length < ACCEPT_SOCKETS - 1) {
      const more = createNetServer((socket) => server.emit('connection', socket));
      // EADDRINUSE here: this node ignores reusePort (node 20), so the port keeps one socket
      const bound = await listenOn(more, { port, host: options.host, reusePort: true }).then(
        () => true,
        () => false,
      );
      if (!bound) break;
      extra.push(more);
    }
    return {
      port,
      sockets: 1 + extra.length,
      close: async () => {
        await Promise.all([closed(server), ...extra.map(closed)]);
      },
    };
  }
}

import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Config } from './config/config';
import type { AppContext } from './context';
import { openDatabase } from './db/connect';
import { migrateToLatest } from './db/migrate';
import { createApp } from './http/app';
import { listenOn, listenShared } from './http/listen';
import { requestListener } from './http/callback-listener';
import { metricsListener } from './http/routes/ops';
import type { Logger } from './logger';
import { createMetrics } from './ops/metrics';
import { startStaleSweep } from './outbox/stale-sweep';
import { createWorker } from './outbox/worker';
import { startRetention } from './replay/retention';
import { startRollupFolding } from './status/rollups';
import { compileEventSchema } from './status/store';

/**
 * SIGTERM: stop accepting, finish in-flight requests and deliveries, exit within 10 s
 * (CONTRACT.md, Operations). Requests and deliveries drain side by side within this.
 */
export const SHUTDOWN_GRACE_MS = 8000;
/** Slow-loris protection: a request's whole body must arrive within this (headers: `server.headersTimeoutSeconds`). */
const REQUEST_TIMEOUT_MS = 30_000;
/** How often node checks the header and request timeouts (its default, 30 s, lets them overrun by that much). */
const TIMEOUT_CHECK_MS = 1000;
/** A malformed request (over-long URL or headers, bad syntax) is logged at most this often. */
const CLIENT_ERROR_LOG_MS = 1000;

/**
 * Requests node's parser refuses before any handler sees them (431 for headers or a URL over 16 KiB,
 * 400 for bad syntax): answered as node would, logged without the attacker's bytes, at most once a
 * second with a count of those not logged.
 */
function answerClientErrors(server: Server, logger: Logger): void {
  let lastLogged = 0;
  let unlogged = 0;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const now = Date.now();
    if (now - lastLogged >= CLIENT_ERROR_LOG_MS) {
      logger.info({ code: err.code, not_logged_before: unlogged, remote_addr: socket.remoteAddress }, 'malformed request refused by the HTTP parser');
      lastLogged = now;
      unlogged = 0;
    } else unlogged += 1;
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    const body = JSON.stringify({
      error: 'bad_request',
      detail: `the HTTP request could not be read (${status.slice(4)}); URL and headers together must stay under 16 KiB`,
    });
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
}

export interface RunningServer {
  ctx: AppContext;
  server: Server;
  port: number;
  /** The port of `metrics.port`, when configured. */
  metricsPort: number | null;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the database. */
  close(): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const dbh = openDatabase(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    backgroundCheckpoint: (failure) => logger.warn({ detail: failure }, 'background checkpoint failed; commits checkpoint again'),
    reads: { threads: config.server.readThreads, budgetMs: config.server.readTimeoutSeconds * 1000 },
  });
  // a failed migration closes the database: its read and checkpoint threads would keep the
  // process (or a test run) alive doing nothing
  const applied = await migrateToLatest(dbh).catch(async (err: unknown) => {
    await dbh.close().catch(() => undefined);
    throw err;
  });
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  compileEventSchema();
  const ctx: AppContext = { config, dbh, logger, metrics: createMetrics(dbh) };
  const worker = config.worker ? createWorker(ctx) : null;
  if (worker) ctx.wakeWorker = () => worker.poke();
  let draining = false;
  const app = createApp(ctx, () => draining);

  const server = createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_MS }, requestListener(ctx, app));
  server.headersTimeout = config.server.headersTimeoutSeconds * 1000;
  server.requestTimeout = Math.max(REQUEST_TIMEOUT_MS, server.headersTimeout);
  answerClientErrors(server, logger);
  const listening = await listenShared(server, { port: config.port, host: config.host, maxConnections: config.server.maxConnections });
  const port = listening.port;
  let metricsServer: Server | null = null;
  let metricsPort: number | null = null;
  if (config.metrics.port !== null) {
    metricsServer = createServer(metricsListener(ctx));
    await listenOn(metricsServer, { port: config.metrics.port, host: config.metrics.host ?? config.host });
    metricsPort = (metricsServer.address() as AddressInfo).port;
  }
  logger.info(
    {
      port,
      accept_sockets: listening.sockets,
      metrics_port: metricsPort ?? undefined,
      host: config.host,
      database: dbh.describe,
      config: config.source,
      worker: worker !== null,
    },
    'dlr-receiver listening',
  );
  // where each configured account takes its callbacks (the URL to paste into the provider's console)
  const callbacks = Object.entries(config.providers).flatMap(([provider, p]) =>
    Object.keys(p.accounts).map((account) => (account === 'default' ? `/v1/callbacks/${provider}` : `/v1/callbacks/${provider}/${account}`)),
  );
  logger.info({ callbacks }, callbacks.length > 0 ? 'callback routes' : 'no provider account is configured: every callback answers 404');
  worker?.start();
  const stopRetention = config.worker ? startRetention(ctx) : () => Promise.resolve();
  const stopSweep = config.worker ? startStaleSweep(ctx) : () => Promise.resolve();
  const stopFolding =
    config.worker && dbh.dialect === 'postgres'
      ? startRollupFolding(dbh.db, (err) => logger.warn({ err }, 'folding stats rollup deltas failed; retrying'))
      : () => Promise.resolve();

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      const retentionStopped = stopRetention(); // a running purge ends after its current batch
      const closed = listening.close();
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await Promise.all([closed, worker?.stop(SHUTDOWN_GRACE_MS), retentionStopped, stopSweep(), stopFolding()]);
      clearTimeout(timer);
      await dbh.close();
    })();
    return closing;
  };
  return { ctx, server, port, metricsPort, close };
}

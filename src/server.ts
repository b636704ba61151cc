import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/config';
import type { AppContext } from './context';
import { openDatabase } from './db/connect';
import { migrateToLatest } from './db/migrate';
import { createApp } from './http/app';
import { requestListener } from './http/callback-listener';
import type { Logger } from './logger';
import { createMetrics } from './ops/metrics';
import { createWorker } from './outbox/worker';
import { startRetention } from './replay/retention';

/**
 * SIGTERM: stop accepting, finish in-flight requests and deliveries, exit within 10 s
 * (CONTRACT.md, Operations). Requests and deliveries drain side by side within this.
 */
export const SHUTDOWN_GRACE_MS = 8000;
/** Slow-loris protection: a request's headers and whole body must arrive within these. */
const HEADERS_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface RunningServer {
  ctx: AppContext;
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the database. */
  close(): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const dbh = openDatabase(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    backgroundCheckpoint: (failure) => logger.warn({ detail: failure }, 'background checkpoint failed; commits checkpoint again'),
  });
  const applied = await migrateToLatest(dbh);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  const ctx: AppContext = { config, dbh, logger, metrics: createMetrics(dbh) };
  const worker = config.worker ? createWorker(ctx) : null;
  if (worker) ctx.wakeWorker = () => worker.poke();
  let draining = false;
  const app = createApp(ctx, () => draining);

  const server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(requestListener(ctx, app));
    s.once('error', reject);
    s.listen(config.port, config.host, () => resolve(s));
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, host: config.host, database: dbh.describe, config: config.source, worker: worker !== null }, 'dlr-receiver listening');
  worker?.start();
  const stopRetention = config.worker ? startRetention(ctx) : () => undefined;

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      stopRetention();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await Promise.all([closed, worker?.stop(SHUTDOWN_GRACE_MS)]);
      clearTimeout(timer);
      await dbh.close();
    })();
    return closing;
  };
  return { ctx, server, port, close };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import { sql } from 'kysely';
import type { AppContext } from '../../context';
import { migrationsApplied } from '../../db/migrate';
import { matchesSecret } from '../../util/safe-equal';
import { bearerToken } from '../auth';

function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * GET /metrics on plain node objects: the main port's route and the metrics port
 * (`metrics.port`) share it. With `metrics.token` it needs `Authorization: Bearer <token>`.
 */
export function metricsHandler(ctx: AppContext) {
  const { token } = ctx.config.metrics;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (token !== null) {
      const given = bearerToken(req.headers.authorization);
      if (given === null || !matchesSecret(given, token)) {
        sendJson(res, 401, { error: 'unauthorized', detail: 'GET /metrics needs "Authorization: Bearer <metrics.token>"' }, { 'www-authenticate': 'Bearer' });
        return;
      }
    }
    const text = await ctx.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
}

/** The listener of the metrics port: GET /metrics, and 404 for anything else. */
export function metricsListener(ctx: AppContext) {
  const handle = metricsHandler(ctx);
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') {
      handle(req, res).catch((err: unknown) => {
        ctx.logger.error({ err }, 'metrics failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal', detail: 'metrics failed; see the logs' });
      });
      return;
    }
    sendJson(res, 404, { error: 'not_found', detail: 'this port serves GET /metrics only' });
  };
}

/**
 * Health, readiness and (unless it has a port of its own) Prometheus metrics; no API token.
 * Readiness answers a short reason only: the database's own error text goes to the log.
 */
export function opsRouter(ctx: AppContext, isDraining: () => boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    if (isDraining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    try {
      await sql`select 1`.execute(ctx.dbh.db);
      if (!(await migrationsApplied(ctx.dbh))) {
        res.status(503).json({ status: 'migrations_pending' });
        return;
      }
      res.json({ status: 'ready', database: ctx.dbh.dialect });
    } catch (err) {
      req.log.warn({ err }, 'readiness check: database unreachable');
      res.status(503).json({ status: 'database_unreachable', detail: 'the database cannot be reached; see the service log' });
    }
  });
  if (ctx.config.metrics.port === null) {
    const handle = metricsHandler(ctx);
    router.get('/metrics', (req, res, next) => {
      handle(req, res).catch(next);
    });
  }
  return router;
}

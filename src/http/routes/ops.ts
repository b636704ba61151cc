import { Router } from 'express';
import { sql } from 'kysely';
import type { AppContext } from '../../context';
import { migrationsApplied } from '../../db/migrate';

/** Health, readiness and Prometheus metrics; no token (keep them off the public internet). */
export function opsRouter(ctx: AppContext, isDraining: () => boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
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
      res.status(503).json({ status: 'database_unreachable', detail: (err as Error).message });
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  return router;
}

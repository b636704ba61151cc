import { Router } from 'express';
import type { AppContext } from '../../context';
import { eventDeliveries, outboxSummary } from '../../outbox/overview';
import { searchMessages } from '../../status/search';
import { timeseries, type Group, type Interval } from '../../status/timeseries';
import { identify, requireScope } from '../auth';
import { queryParams } from '../query-params';

const searchQuery = queryParams<'q'>('search');
const timeseriesQuery = queryParams<'interval' | 'since' | 'until' | 'group_by' | 'provider' | 'account' | 'channel'>('timeseries');
const noQuery = queryParams('none');

/**
 * What the support console (console/, issue #15) reads besides the read API: who the token is,
 * a search across message ids, recipients and references, an event's deliveries, the outbox
 * backlog and delivery health over time. Read-side queries, within server.readTimeoutSeconds.
 */
export function supportRouter(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.dbh.read;
  const read = requireScope(ctx.config.tokens, 'read');

  // any valid token: its name and scopes (admin implies the others), so a client shows what it may do
  router.get('/whoami', identify(ctx.config.tokens), (req, res) => {
    noQuery(req.query);
    res.json({ name: req.actor, scopes: req.scopes });
  });

  router.get('/search', read, async (req, res) => {
    res.json({ items: await searchMessages(db, searchQuery(req.query).q ?? '') });
  });

  router.get('/stats/timeseries', read, async (req, res) => {
    const q = timeseriesQuery(req.query);
    res.json(
      await timeseries(db, {
        ...q,
        interval: (q.interval ?? '1h') as Interval,
        group_by: (q.group_by || undefined) as Group | undefined,
      }),
    );
  });

  router.get('/events/:id/deliveries', read, async (req, res) => {
    noQuery(req.query);
    res.json(await eventDeliveries(db, req.params.id as string));
  });

  router.get('/outbox', read, async (req, res) => {
    noQuery(req.query);
    res.json(await outboxSummary(db, new Date()));
  });

  return router;
}

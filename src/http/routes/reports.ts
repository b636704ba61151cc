import { Router } from 'express';
import { DEFAULTS } from '../../config/config';
import type { AppContext } from '../../context';
import { accountZones, dailyCsv, dailyReport, parseBy, parseDay, parseZone, type Zones } from '../../status/daily';
import { requireScope } from '../auth';
import { queryParams } from '../query-params';

const dailyQuery = queryParams<'since' | 'until' | 'by' | 'tz' | 'provider' | 'account' | 'channel'>('daily');

/**
 * Reports for finance (scope `read`, issue #16): GET /v1/reports/daily, message counts per local
 * day, provider, account, status and error code (src/status/daily.ts), as JSON or, with
 * `Accept: text/csv`, as CSV. Summed from the rollups, on the read threads.
 */
export function reportsRouter(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.dbh.read;
  const read = requireScope(ctx.config.tokens, 'read');
  const accounts = accountZones(ctx.config.providers);

  router.get('/reports/daily', read, async (req, res) => {
    const q = dailyQuery(req.query);
    // The checker has made since/until ISO times; the schema let only dates through: read them as given.
    const given = req.query as Partial<Record<'since' | 'until', string>>;
    const since = parseDay('since', given.since ?? '');
    const until = parseDay('until', given.until ?? '');
    const zones: Zones = q.tz ? { zone: parseZone('tz', q.tz) } : { accounts, fallback: DEFAULTS.timeZone };
    const report = await dailyReport(db, { since, until, by: parseBy('by', q.by), zones, provider: q.provider, account: q.account, channel: q.channel });
    res.vary('Accept');
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      res.set('content-type', 'text/csv; charset=utf-8');
      res.set('content-disposition', `attachment; filename="dlr-daily-${since}-${until}.csv"`);
      res.send(dailyCsv(report));
      return;
    }
    res.json(report);
  });

  return router;
}

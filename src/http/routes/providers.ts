import { Router } from 'express';
import type { AppContext } from '../../context';
import { providerCatalogue } from '../../providers/catalogue';
import { requireScope } from '../auth';
import { queryParams } from '../query-params';

const noQuery = queryParams('none');

/**
 * GET /v1/providers (scope `read`): the provider catalogue — every built-in provider and preset with
 * its channel, signature scheme, account settings, acknowledgement and status table
 * (src/providers/catalogue.ts; docs/providers.md renders the same entries). Built once per process.
 */
export function providersRouter(ctx: AppContext): Router {
  const router = Router();
  let body: string | undefined;
  router.get('/providers', requireScope(ctx.config.tokens, 'read'), (req, res) => {
    noQuery(req.query);
    body ??= JSON.stringify({ providers: providerCatalogue() });
    res.type('json').send(body);
  });
  return router;
}

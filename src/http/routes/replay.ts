import { Router } from 'express';
import type { AppContext } from '../../context';
import { BadRequest } from '../../errors';
import { listAudit } from '../../replay/audit';
import type { RawFilter } from '../../raw/filter';
import { replayMany, replayOne } from '../../replay/replay';
import { describeErrors, schemaValidator } from '../../util/schemas';
import { requireScope } from '../auth';
import { idempotent } from '../idempotency';
import { queryParams } from '../query-params';

interface ReplayBody {
  dry_run: boolean;
  limit?: number;
  filter?: RawFilter;
}

const validateBody = schemaValidator<ReplayBody>('replay.schema.json');
const auditQuery = queryParams<'action' | 'cursor' | 'limit'>('audit');
const noQuery = queryParams('none');
/** A bulk replay without `limit` replays at most this many requests. */
const DEFAULT_REPLAY_LIMIT = 1000;

/**
 * A replay over HTTP names `dry_run` (issue #18): a body that forgot it, or a client whose default
 * was the other one, must not apply a replay meant as a look (or the reverse).
 */
const NAME_DRY_RUN = 'dry_run is required: send {"dry_run": true} to see what the replay would change (nothing is written), or {"dry_run": false} to apply it';

function body(value: unknown): ReplayBody {
  const b = value ?? {};
  if (typeof b === 'object' && !Array.isArray(b) && !Object.hasOwn(b, 'dry_run')) throw new BadRequest(NAME_DRY_RUN);
  if (!validateBody(b)) throw new BadRequest(`invalid replay request: ${describeErrors().join('; ')}`);
  return b;
}

/** Replay (scope `replay`) and the audit of support actions (scope `read`). */
export function replayRouter(ctx: AppContext): Router {
  const router = Router();
  const replayScope = requireScope(ctx.config.tokens, 'replay');
  const once = idempotent(ctx);

  router.post('/raw/:id/replay', replayScope, once, async (req, res) => {
    noQuery(req.query);
    const { dry_run: dryRun } = body(req.body);
    const result = await replayOne(ctx, (req.params as { id: string }).id, dryRun, req.actor ?? 'unknown');
    res.json({ dry_run: dryRun, ...result });
  });

  router.post('/replay', replayScope, once, async (req, res) => {
    noQuery(req.query);
    const b = body(req.body);
    const filter = { ...(b.filter ?? {}) };
    if (filter.since) filter.since = new Date(filter.since).toISOString();
    if (filter.until) filter.until = new Date(filter.until).toISOString();
    const summary = await replayMany(ctx, filter, { dryRun: b.dry_run, max: b.limit ?? DEFAULT_REPLAY_LIMIT, actor: req.actor ?? 'unknown' });
    res.json(summary);
  });

  // An entry's size: see MAX_PAGE in db/paging.ts.
  router.get('/audit', requireScope(ctx.config.tokens, 'read'), async (req, res) => {
    res.json(await listAudit(ctx.dbh.read, auditQuery(req.query)));
  });

  return router;
}

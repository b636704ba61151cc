import { Router } from 'express';
import type { AppContext } from '../../context';
import { BadRequest, VERDICTS } from '../../errors';
import { getRaw, listRaw } from '../../replay/raw-log';
import { getMessage, listMessages, stats } from '../../status/queries';
import { STATUSES } from '../../status/types';
import { decodeCursor, oneParam, pageLimit, timeParam } from '../../util/paging';
import { requireScope } from '../auth';

function oneOf(name: string, value: string | undefined, allowed: readonly string[]): string | undefined {
  if (value !== undefined && value !== '' && !allowed.includes(value)) throw new BadRequest(`${name} must be one of ${allowed.join(', ')}`);
  return value || undefined;
}

/** The read API (scope `read`): messages, statistics, the raw log. */
export function queriesRouter(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.dbh.db;
  const read = requireScope(ctx.config.tokens, 'read');

  router.get('/messages/:provider/:message_id', read, async (req, res) => {
    const q = req.query;
    res.json(
      await getMessage(db, {
        provider: req.params.provider as string,
        messageId: req.params.message_id as string,
        account: oneParam(q.account),
        recipient: oneParam(q.recipient),
      }),
    );
  });

  router.get('/messages', read, async (req, res) => {
    const q = req.query;
    res.json(
      await listMessages(db, {
        provider: oneParam(q.provider),
        account: oneParam(q.account),
        status: oneOf('status', oneParam(q.status), STATUSES),
        recipient: oneParam(q.recipient),
        since: timeParam('since', oneParam(q.since)),
        until: timeParam('until', oneParam(q.until)),
        cursor: decodeCursor(oneParam(q.cursor)),
        limit: pageLimit(oneParam(q.limit)),
      }),
    );
  });

  router.get('/stats', read, async (req, res) => {
    const q = req.query;
    res.json(
      await stats(db, {
        provider: oneParam(q.provider),
        account: oneParam(q.account),
        channel: oneParam(q.channel),
        since: timeParam('since', oneParam(q.since)),
        until: timeParam('until', oneParam(q.until)),
      }),
    );
  });

  router.get('/raw', read, async (req, res) => {
    const q = req.query;
    res.json(
      await listRaw(db, {
        provider: oneParam(q.provider),
        account: oneParam(q.account),
        verdict: oneOf('verdict', oneParam(q.verdict), VERDICTS),
        since: timeParam('since', oneParam(q.since)),
        until: timeParam('until', oneParam(q.until)),
        q: oneParam(q.q) || undefined,
        cursor: decodeCursor(oneParam(q.cursor)),
        limit: pageLimit(oneParam(q.limit)),
      }),
    );
  });

  router.get('/raw/:id', read, async (req, res) => {
    res.json(await getRaw(db, req.params.id as string));
  });

  return router;
}

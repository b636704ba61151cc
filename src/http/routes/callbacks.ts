import type { IncomingHttpHeaders } from 'node:http';
import { Router, type Request, type Response } from 'express';
import getRawBody from 'raw-body';
import type { AppContext } from '../../context';
import { BadRequest, PayloadTooLarge } from '../../errors';
import { ingest, recordRefusal, resolveTarget } from '../../ingest/ingest';
import type { RawCallback } from '../../providers/types';
import { newId } from '../../util/ids';

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

interface RawBodyError {
  type?: string;
}

/**
 * `POST /v1/callbacks/:provider[/:account]`. Translates HTTP to the ingest domain and back: reads
 * the raw bytes (size-limited), hands them to `ingest`, answers with the provider's ack.
 */
export function callbacksRouter(ctx: AppContext): Router {
  const router = Router();
  const limit = ctx.config.server.bodyLimitBytes;

  router.post('/:provider{/:account}', async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    const params = req.params as { provider: string; account?: string };
    const target = resolveTarget(ctx, params.provider, params.account ?? 'default');
    const raw: RawCallback = {
      id: newId('raw'),
      provider: target.provider.name,
      account: target.accountName,
      method: req.method,
      url: req.originalUrl,
      headers: flattenHeaders(req.headers),
      body: Buffer.alloc(0),
      remoteAddr: req.ip ?? req.socket.remoteAddress ?? '',
      receivedAt: new Date(),
    };
    const observe = (verdict: string) => {
      ctx.metrics.callbacks.inc({ provider: raw.provider, verdict });
      ctx.metrics.ingestSeconds.observe({ provider: raw.provider }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    try {
      raw.body = await getRawBody(req, { limit });
    } catch (err) {
      if ((err as RawBodyError).type === 'entity.too.large') {
        const refusal = new PayloadTooLarge(limit);
        await recordRefusal(ctx, raw, refusal);
        observe(refusal.verdict);
        res.setHeader('connection', 'close');
        throw refusal;
      }
      throw new BadRequest(`could not read the request body: ${(err as Error).message}`);
    }
    try {
      const outcome = await ingest(ctx, target, raw);
      observe(outcome.verdict);
      req.log.info(
        { provider: raw.provider, account: raw.account, raw_id: raw.id, verdict: outcome.verdict, reports: outcome.applied.length },
        'callback',
      );
      res.status(outcome.ack.status);
      if (outcome.ack.contentType) res.type(outcome.ack.contentType);
      res.send(outcome.ack.body);
    } catch (err) {
      const verdict = (err as { verdict?: string }).verdict;
      if (verdict) {
        observe(verdict);
        req.log.info({ provider: raw.provider, account: raw.account, raw_id: raw.id, verdict, detail: (err as Error).message }, 'callback refused');
      }
      throw err;
    }
  });
  return router;
}

import type { IncomingHttpHeaders } from 'node:http';
import { Router, type Request, type Response } from 'express';
import getRawBody from 'raw-body';
import type { AppContext } from '../../context';
import { BadRequest, BodyTimeout, PayloadTooLarge, UnknownProvider, type CallbackRefusal } from '../../errors';
import { ingest, recordRefusal, resolveTarget, type Target } from '../../ingest/ingest';
import type { RawCallback } from '../../providers/types';
import type { LogLine } from '../request-context';
import { newId } from '../../util/ids';

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

interface RawBodyError {
  type?: string;
}

/** The request's one log line names the callback, its raw id and its verdict. */
function logLine(res: Response, msg: string, raw: RawCallback, verdict: string, extra: Record<string, unknown>): void {
  const line: LogLine = { msg, fields: { provider: raw.provider, account: raw.account, raw_id: raw.id, verdict, ...extra } };
  res.locals.logLine = line;
}

/** A provider or account name from the URL as the raw log keeps it: no control characters, at most 64. */
function loggableName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f]/g, '\ufffd').slice(0, 64);
}

/** The raw bytes, size-limited, within `seconds` of the headers (slow-loris senders get a 408). */
function readBody(req: Request, limit: number, seconds: number): Promise<Buffer> {
  let received = 0;
  const count = (chunk: Buffer) => (received += chunk.length);
  req.on('data', count);
  const body = getRawBody(req, { limit });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new BodyTimeout(seconds, received)), seconds * 1000);
  });
  body.catch(() => undefined); // after a timeout nobody waits for it
  return Promise.race([body, timeout]).finally(() => {
    clearTimeout(timer);
    req.off('data', count);
  });
}

/**
 * `POST /v1/callbacks/:provider[/:account]`. Translates HTTP to the ingest domain and back: reads
 * the raw bytes (size-limited), hands them to `ingest`, answers with the provider's ack.
 */
export function callbacksRouter(ctx: AppContext): Router {
  const router = Router();
  const limit = ctx.config.server.bodyLimitBytes;
  const { bodyTimeoutSeconds } = ctx.config.server;

  router.post('/:provider{/:account}', async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    const params = req.params as { provider: string; account?: string };
    let target: Target | null = null;
    let unknown: UnknownProvider | null = null;
    try {
      target = resolveTarget(ctx, params.provider, params.account ?? 'default');
    } catch (err) {
      if (!(err instanceof UnknownProvider)) throw err;
      unknown = err; // still logged, so that it can be replayed once the provider or account is configured
    }
    const raw: RawCallback = {
      id: newId('raw'),
      provider: target?.provider.name ?? loggableName(params.provider),
      account: target?.accountName ?? loggableName(params.account ?? 'default'),
      method: req.method,
      url: req.originalUrl,
      headers: flattenHeaders(req.headers),
      body: Buffer.alloc(0),
      remoteAddr: req.ip ?? req.socket.remoteAddress ?? '',
      receivedAt: new Date(),
    };
    // Metric labels only name configured providers: a scanner must not mint label values.
    const label = target ? raw.provider : 'unknown';
    const observe = (verdict: string) => {
      ctx.metrics.callbacks.inc({ provider: label, verdict });
      ctx.metrics.ingestSeconds.observe({ provider: label }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    const noteRefusal = (verdict: string, err: Error) => {
      observe(verdict);
      logLine(res, 'callback refused', raw, verdict, { detail: err.message });
    };
    /** A refusal decided here (not by ingest): into the raw log first, then counted and logged. */
    const refuse = async (refusal: CallbackRefusal) => {
      await recordRefusal(ctx, raw, refusal);
      noteRefusal(refusal.verdict, refusal);
      return refusal;
    };
    try {
      raw.body = await readBody(req, limit, bodyTimeoutSeconds);
    } catch (err) {
      if (err instanceof BodyTimeout) {
        res.setHeader('connection', 'close');
        res.on('finish', () => req.socket.destroy());
        throw await refuse(err);
      }
      if ((err as RawBodyError).type === 'entity.too.large') {
        res.setHeader('connection', 'close');
        throw await refuse(new PayloadTooLarge(limit));
      }
      throw new BadRequest(`could not read the request body: ${(err as Error).message}`);
    }
    if (!target) throw await refuse(unknown!);
    try {
      const outcome = await ingest(ctx, target, raw);
      observe(outcome.verdict);
      logLine(res, 'callback', raw, outcome.verdict, { reports: outcome.applied.length });
      res.status(outcome.ack.status);
      if (outcome.ack.contentType) res.type(outcome.ack.contentType);
      res.send(outcome.ack.body);
    } catch (err) {
      const verdict = (err as { verdict?: string }).verdict;
      if (verdict) noteRefusal(verdict, err as Error); // ingest recorded it in the raw log
      throw err;
    }
  });
  return router;
}

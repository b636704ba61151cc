import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Router, type Request, type Response } from 'express';
import getRawBody from 'raw-body';
import type { AppContext } from '../../context';
import { AppError, BadRequest, BodyTimeout, Overloaded, PayloadTooLarge, UnknownProvider, type CallbackRefusal } from '../../errors';
import { ingest, recordRefusal, resolveTarget, type Target } from '../../ingest/ingest';
import type { Ack } from '../../providers/types';
import type { RawCallback } from '../../raw/types';
import { bodyBudgetOf, type BodyBudget } from '../body-budget';
import { errorBody } from '../error-handler';
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

/** A provider or account name from the URL as the raw log keeps it: no control characters, at most 64. */
function loggableName(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f]/g, '\ufffd').slice(0, 64);
}

/** How long a sender refused for the body budget is asked to wait. */
const OVERLOADED_RETRY_AFTER_SECONDS = 2;

function declaredLength(req: IncomingMessage): number | null {
  const value = req.headers['content-length'];
  const n = value === undefined ? NaN : Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** What one request holds of the process's body budget, given back once it is answered. */
interface Holding {
  bytes: number;
}

/**
 * The raw bytes, size-limited, within `seconds` of the headers (slow-loris senders get a 408),
 * within the process's body budget: a declared length is taken whole before a byte is read, a
 * chunked body takes its bytes as they arrive; either way, past the budget it is `Overloaded`.
 */
function readBody(req: IncomingMessage, limit: number, seconds: number, budget: BodyBudget, holding: Holding): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== null && declared <= limit) {
    if (!budget.take(declared)) return Promise.reject(new Overloaded(budget.limit, OVERLOADED_RETRY_AFTER_SECONDS));
    holding.bytes = declared;
  }
  let received = 0;
  let overloaded: (err: Overloaded) => void = () => undefined;
  const over = new Promise<never>((_resolve, reject) => (overloaded = reject));
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (declared !== null) return;
    if (budget.take(chunk.length)) holding.bytes += chunk.length;
    else overloaded(new Overloaded(budget.limit, OVERLOADED_RETRY_AFTER_SECONDS));
  };
  req.on('data', count);
  const body = getRawBody(req, { limit });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new BodyTimeout(seconds, received)), seconds * 1000);
  });
  body.catch(() => undefined); // after a timeout nobody waits for it
  return Promise.race([body, timeout, over]).finally(() => {
    clearTimeout(timer);
    req.off('data', count);
  });
}

/** An answer after which the connection is closed: the rest of an unread body is not wanted. */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('connection', 'close');
  res.on('finish', () => req.socket.destroy());
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendAck(res: ServerResponse, ack: Ack): void {
  send(res, ack.status, ack.contentType ?? 'text/plain; charset=utf-8', ack.body);
}

export interface CallbackRequest {
  provider: string;
  account?: string;
  /** The client's address, after the configured trusted proxies. */
  remoteAddr: string;
  /** Path and query as received. */
  url: string;
  /** Where the request's one log line gets its message and fields. */
  note(line: LogLine): void;
  /** The request's id, named in a 500's answer. */
  requestId: string;
}

/**
 * `POST /v1/callbacks/:provider[/:account]` on plain node objects, for the fast path of
 * src/http/callback-listener.ts and for express when callbacks are rate-limited. Translates HTTP to
 * the ingest domain and back: reads the raw bytes (size-limited), hands them to `ingest`, answers
 * with the provider's ack or a JSON refusal. It answers every outcome itself and never rejects.
 */
export function callbackHandler(ctx: AppContext) {
  const limit = ctx.config.server.bodyLimitBytes;
  const { bodyTimeoutSeconds } = ctx.config.server;
  const budget = bodyBudgetOf(ctx);

  return async (req: IncomingMessage, res: ServerResponse, call: CallbackRequest): Promise<void> => {
    const started = process.hrtime.bigint();
    /** A bug, not a refusal: logged, answered 500 (or the connection dropped when an answer had begun). */
    const failed = (err: unknown, rawId?: string) => {
      ctx.logger.error({ err, req_id: call.requestId, raw_id: rawId }, 'unhandled error');
      if (res.headersSent) res.destroy();
      else send(res, 500, 'application/json; charset=utf-8', JSON.stringify({ error: 'internal', detail: `request ${call.requestId} failed; see the logs` }));
    };
    let target: Target | null = null;
    let unknown: UnknownProvider | null = null;
    try {
      target = resolveTarget(ctx, call.provider, call.account ?? 'default');
    } catch (err) {
      if (!(err instanceof UnknownProvider)) return failed(err);
      unknown = err; // still logged, so that it can be replayed once the provider or account is configured
    }
    const raw: RawCallback = {
      id: newId('raw'),
      provider: target?.provider.name ?? loggableName(call.provider),
      account: target?.accountName ?? loggableName(call.account ?? 'default'),
      method: req.method ?? 'POST',
      url: call.url,
      headers: flattenHeaders(req.headers),
      body: Buffer.alloc(0),
      remoteAddr: call.remoteAddr,
      receivedAt: new Date(),
    };
    // Metric labels only name configured providers: a scanner must not mint label values.
    const label = target ? raw.provider : 'unknown';
    const observe = (verdict: string) => {
      ctx.metrics.callbacks.inc({ provider: label, verdict });
      ctx.metrics.ingestSeconds.observe({ provider: label }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    const line = (msg: string, verdict: string, extra: Record<string, unknown>) =>
      call.note({ msg, fields: { provider: raw.provider, account: raw.account, raw_id: raw.id, verdict, ...extra } });
    const refused = (err: AppError) => {
      if (err.status >= 500) ctx.logger.warn({ req_id: call.requestId, err_code: err.code, detail: err.message }, 'request failed');
      const verdict = (err as Partial<CallbackRefusal>).verdict;
      if (verdict) {
        observe(verdict);
        line('callback refused', verdict, { detail: err.message });
      }
      send(res, err.status, 'application/json; charset=utf-8', JSON.stringify(errorBody(err)));
    };

    const holding: Holding = { bytes: 0 };
    try {
      try {
        raw.body = await readBody(req, limit, bodyTimeoutSeconds, budget, holding);
      } catch (err) {
        if (err instanceof BodyTimeout || err instanceof Overloaded) {
          closeAfterAnswer(req, res);
          if (err instanceof Overloaded) res.setHeader('retry-after', String(err.retryAfterSeconds));
          await recordRefusal(ctx, raw, err);
          return refused(err);
        }
        if ((err as RawBodyError).type === 'entity.too.large') {
          closeAfterAnswer(req, res);
          const tooLarge = new PayloadTooLarge(limit);
          await recordRefusal(ctx, raw, tooLarge);
          return refused(tooLarge);
        }
        return refused(new BadRequest(`could not read the request body: ${(err as Error).message}`));
      }
      if (!target) {
        await recordRefusal(ctx, raw, unknown!);
        return refused(unknown!);
      }
      const outcome = await ingest(ctx, target, raw); // a refusal is in the raw log when this throws
      observe(outcome.verdict);
      line('callback', outcome.verdict, { reports: outcome.applied.length });
      sendAck(res, outcome.ack);
    } catch (err) {
      if (err instanceof AppError && !res.headersSent) return refused(err);
      failed(err, raw.id);
    } finally {
      budget.give(holding.bytes);
    }
  };
}

/** The express route, used when a callback rate limit is configured (the limiter is express middleware). */
export function callbacksRouter(ctx: AppContext): Router {
  const router = Router();
  const handle = callbackHandler(ctx);
  router.post('/:provider{/:account}', async (req: Request, res: Response) => {
    const params = req.params as { provider: string; account?: string };
    await handle(req, res, { ...params, remoteAddr: req.ip ?? req.socket.remoteAddress ?? '', url: req.originalUrl, note: res.locals.note as (line: LogLine) => void, requestId: req.id });
  });
  return router;
}

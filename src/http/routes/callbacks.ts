import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Router, type NextFunction, type Request, type Response } from 'express';
import getRawBody from 'raw-body';
import type { AppContext } from '../../context';
import { AppError, BadRequest, BodyTimeout, isCallbackRefusal, Overloaded, PayloadTooLarge, UnknownProvider } from '../../errors';
import { ingest, recordRefusal, resolveTarget, type Target } from '../../ingest/ingest';
import { findProvider } from '../../providers/registry';
import type { Ack } from '../../providers/types';
import type { RawCallback } from '../../raw/types';
import { bodyBudgetOf, type BodyBudget } from '../body-budget';
import { answerError } from '../error-handler';
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
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return name.replace(/[\u0000-\u001f\u007f]/g, '\ufffd').slice(0, 64);
}

/** How long a sender refused for the body budget is asked to wait. */
const OVERLOADED_RETRY_AFTER_SECONDS = 2;

function declaredLength(req: IncomingMessage): number | null {
  const value = req.headers['content-length'];
  const n = value === undefined ? NaN : Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * Whether this provider calls with this method besides POST: only a provider defined by
 * configuration whose definition says so (`format.methods`: GET with the report in the query
 * string, HEAD to check the URL exists), never a built-in one.
 */
export function takesMethod(ctx: AppContext, provider: string, method: string | undefined): boolean {
  if (findProvider(provider) || !Object.hasOwn(ctx.config.providers, provider)) return false;
  const methods: readonly string[] = ctx.config.providers[provider].generic?.format.methods ?? [];
  return method !== undefined && methods.includes(method);
}

/** A GET callback's report is its query string: the raw log keeps it as the body (bytes as received). */
function queryOf(url: string): Buffer {
  const at = url.indexOf('?');
  return Buffer.from(at < 0 ? '' : url.slice(at + 1), 'latin1');
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

/** The request as the raw log keeps it, its body still to be read; named by the target when there is one. */
function rawOf(req: IncomingMessage, call: CallbackRequest, target: Target | null): RawCallback {
  // the id names the receive time: a history row need not repeat it (src/status/stored-form.ts)
  const receivedAt = new Date();
  return {
    id: newId('raw', receivedAt.getTime()),
    provider: target?.provider.name ?? loggableName(call.provider),
    account: target?.accountName ?? loggableName(call.account ?? 'default'),
    method: req.method ?? 'POST',
    url: call.url,
    headers: flattenHeaders(req.headers),
    body: Buffer.alloc(0),
    remoteAddr: call.remoteAddr,
    receivedAt,
  };
}

/** What became of a callback: the provider's acknowledgement, or the error to answer. */
type Outcome = { ack: Ack; verdict: string; reports: number } | { error: unknown };

/**
 * Reads the body and runs ingest. A refusal is in the raw log before this returns it (ingest writes
 * its own; the ones decided here — body too slow, too large, over the budget, unknown provider — are
 * written here); only a bug comes back unrecorded.
 */
async function receive(
  ctx: AppContext,
  req: IncomingMessage,
  res: ServerResponse,
  raw: RawCallback,
  target: Target | UnknownProvider,
  budget: BodyBudget,
  holding: Holding,
): Promise<Outcome> {
  const { bodyLimitBytes: limit, bodyTimeoutSeconds } = ctx.config.server;
  try {
    try {
      raw.body = req.method === 'GET' ? queryOf(raw.url) : await readBody(req, limit, bodyTimeoutSeconds, budget, holding);
    } catch (err) {
      const refusal =
        err instanceof BodyTimeout || err instanceof Overloaded ? err : (err as RawBodyError).type === 'entity.too.large' ? new PayloadTooLarge(limit) : null;
      if (!refusal) return { error: new BadRequest(`could not read the request body: ${(err as Error).message}`) };
      closeAfterAnswer(req, res);
      if (refusal instanceof Overloaded) res.setHeader('retry-after', String(refusal.retryAfterSeconds));
      await recordRefusal(ctx, raw, refusal);
      return { error: refusal };
    }
    if (target instanceof UnknownProvider) {
      await recordRefusal(ctx, raw, target);
      return { error: target };
    }
    const outcome = await ingest(ctx, target, raw); // a refusal is in the raw log when this throws
    return { ack: outcome.ack, verdict: outcome.verdict, reports: outcome.applied.length };
  } catch (err) {
    return { error: err };
  }
}

/** The request's metrics and its one log line (a bug is logged where it is answered). */
function observe(ctx: AppContext, call: CallbackRequest, raw: RawCallback, known: boolean, started: bigint, outcome: Outcome): void {
  const verdict = 'error' in outcome ? (isCallbackRefusal(outcome.error) ? outcome.error.verdict : null) : outcome.verdict;
  if (verdict === null) return;
  // Metric labels only name configured providers: a scanner must not mint label values.
  const label = known ? raw.provider : 'unknown';
  ctx.metrics.callbacks.inc({ provider: label, verdict });
  ctx.metrics.ingestSeconds.observe({ provider: label }, Number(process.hrtime.bigint() - started) / 1e9);
  // Accepted or duplicate: the provider calls and its callbacks pass; raw.account is a configured account's name.
  if (known && !('error' in outcome)) ctx.metrics.lastCallback.set({ provider: raw.provider, account: raw.account }, Date.now() / 1000);
  const fields = { provider: raw.provider, account: raw.account, raw_id: raw.id, verdict };
  if ('error' in outcome) call.note({ msg: 'callback refused', fields: { ...fields, detail: (outcome.error as AppError).message } });
  else call.note({ msg: 'callback', fields: { ...fields, reports: outcome.reports } });
}

/**
 * The provider's acknowledgement, or the error's answer (src/http/error-handler.ts); a bug after the
 * answer began drops the connection. `raw`: the request as the raw log may hold it (null: never stored).
 */
function answer(ctx: AppContext, res: ServerResponse, call: CallbackRequest, raw: RawCallback | null, outcome: Outcome): void {
  if (!('error' in outcome)) {
    send(res, outcome.ack.status, outcome.ack.contentType ?? 'text/plain; charset=utf-8', outcome.ack.body);
    return;
  }
  const log = ctx.logger.child(raw ? { req_id: call.requestId, raw_id: raw.id } : { req_id: call.requestId });
  const { status, body } = answerError(outcome.error, call.requestId, log);
  if (res.headersSent) res.destroy();
  else send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/**
 * `POST /v1/callbacks/:provider[/:account]` on plain node objects, for the fast path of
 * src/http/callback-listener.ts and for express when callbacks are rate-limited. Translates HTTP to
 * the ingest domain and back: resolve the target, read and record (receive), count and log
 * (observe), answer with the provider's ack or a JSON refusal (answer). It answers every outcome
 * itself and never rejects.
 */
export function callbackHandler(ctx: AppContext) {
  const budget = bodyBudgetOf(ctx);
  return async (req: IncomingMessage, res: ServerResponse, call: CallbackRequest): Promise<void> => {
    const started = process.hrtime.bigint();
    let target: Target | UnknownProvider;
    try {
      target = resolveTarget(ctx, call.provider, call.account ?? 'default');
    } catch (err) {
      // an unknown provider or account is still logged, so that it can be replayed once configured
      if (!(err instanceof UnknownProvider)) return answer(ctx, res, call, null, { error: err });
      target = err;
    }
    if (req.method === 'HEAD') {
      // a provider checking that its URL exists before it posts (Mandrill): nothing to record
      res.writeHead(target instanceof UnknownProvider ? 404 : 200, { 'content-length': 0 });
      res.end();
      return;
    }
    const raw = rawOf(req, call, target instanceof UnknownProvider ? null : target);
    const holding: Holding = { bytes: 0 };
    try {
      const outcome = await receive(ctx, req, res, raw, target, budget, holding);
      observe(ctx, call, raw, !(target instanceof UnknownProvider), started, outcome);
      answer(ctx, res, call, raw, outcome);
    } finally {
      budget.give(holding.bytes);
    }
  };
}

/** The express route, used when a callback rate limit is configured (the limiter is express middleware). */
export function callbacksRouter(ctx: AppContext): Router {
  const router = Router();
  const handle = callbackHandler(ctx);
  const route = async (req: Request, res: Response) => {
    const params = req.params as { provider: string; account?: string };
    await handle(req, res, {
      ...params,
      remoteAddr: req.ip ?? req.socket.remoteAddress ?? '',
      url: req.originalUrl,
      note: res.locals.note as (line: LogLine) => void,
      requestId: req.id,
    });
  };
  router.post('/:provider{/:account}', route);
  // HEAD before GET: express would otherwise route a HEAD to the GET handler
  for (const method of ['head', 'get'] as const) {
    router[method]('/:provider{/:account}', async (req: Request, res: Response, next: NextFunction) => {
      if (takesMethod(ctx, (req.params as { provider: string }).provider, req.method)) await route(req, res);
      else next();
    });
  }
  return router;
}

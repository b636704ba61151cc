import type { NextFunction, Request, Response } from 'express';
import { PG_POOL_TIMEOUT, PG_QUERY_CANCELED } from '../db/connect';
import { AppError, Conflict, MAX_DETAIL_CHARS, ReadTimeout } from '../errors';
import type { Logger } from '../logger';
import { truncateText } from '../util/mask';

interface HttpishError {
  code?: string;
  status?: number;
  type?: string;
  message?: string;
  /** body-parser's limit, on `entity.too.large` */
  limit?: number;
}

/** What a JSON API body must be, as the refusals of a body say it. */
export const SEND_JSON = 'send a JSON object with Content-Type: application/json';

/** A refusal of body-parser (express.json, before any route) as an answer that says what to send instead. */
function parserAnswer(h: HttpishError): ErrorAnswer | undefined {
  const said = truncateText(h.message ?? '', MAX_DETAIL_CHARS / 2);
  switch (h.type) {
    case 'entity.too.large':
      return { status: 413, body: { error: 'payload_too_large', detail: `the JSON body is over the limit of ${h.limit ?? '?'} bytes; send a smaller one` } };
    case 'entity.parse.failed':
      return { status: 400, body: { error: 'bad_request', detail: `the body is not valid JSON (${said}); ${SEND_JSON}` } };
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return { status: 400, body: { error: 'bad_request', detail: `${said}; ${SEND_JSON} in UTF-8, without Content-Encoding` } };
    default:
      return undefined;
  }
}

/** An error's HTTP answer: status and `{ error, detail }` JSON body. */
export interface ErrorAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** `{ error, detail }`: the JSON body of every refusal. */
function errorBody(err: AppError): Record<string, unknown> {
  const body: Record<string, unknown> = { error: err.code };
  if (err.detail !== undefined) body.detail = err.detail;
  if (err instanceof Conflict) Object.assign(body, err.extra);
  return body;
}

/**
 * The one mapping from errors to HTTP, for the callback path (src/http/routes/callbacks.ts) and
 * express alike: an AppError answers its status and code; a parser's 4xx a `bad_request`; anything
 * else is a bug, answered 500 with the request id to find it in the logs. What a 5xx is, is logged
 * here, on `log` (which carries the request's id): a refusal at warn, a bug at error with its stack. With
 * `readBudgetMs` (server.readTimeoutSeconds: express, where the API reads) a read PostgreSQL cancelled
 * is a 503 that names it.
 */
export function answerError(err: unknown, requestId: string, log: Logger, readBudgetMs?: number): ErrorAnswer {
  // PostgreSQL cancelled a read at its budget, or a read waited that long for one of the read
  // pool's connections (only that pool sets statement_timeout and a connection timeout: the API's reads)
  if (readBudgetMs !== undefined && (err as HttpishError | null)?.code === PG_QUERY_CANCELED) err = new ReadTimeout(readBudgetMs, 'running');
  if (readBudgetMs !== undefined && (err as Error | null)?.message === PG_POOL_TIMEOUT) err = new ReadTimeout(readBudgetMs, 'queued');
  if (err instanceof AppError) {
    if (err.status >= 500) log.warn({ err_code: err.code, detail: err.message }, 'request failed');
    return { status: err.status, body: errorBody(err) };
  }
  const h = err as HttpishError | null;
  const parsed = h ? parserAnswer(h) : undefined;
  if (parsed) return parsed;
  if (typeof h?.status === 'number' && h.status >= 400 && h.status < 500) {
    // (a parser's message can quote the input: cut like every AppError's)
    return { status: h.status, body: { error: 'bad_request', detail: truncateText(h.message ?? 'bad request', MAX_DETAIL_CHARS) } };
  }
  log.error({ err }, 'unhandled error');
  return { status: 500, body: { error: 'internal', detail: `request ${requestId} failed; see the logs` } };
}

/** express's error middleware: answerError's answer as JSON. */
export function errorHandler(readBudgetMs: number) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const answer = answerError(err, req.id, req.log, readBudgetMs);
    res.status(answer.status).json(answer.body);
  };
}

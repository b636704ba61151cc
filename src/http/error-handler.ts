import type { NextFunction, Request, Response } from 'express';
import { PG_QUERY_CANCELED } from '../db/connect';
import { AppError, Conflict, MAX_DETAIL_CHARS, ReadTimeout } from '../errors';
import { truncateText } from '../util/mask';

interface HttpishError {
  code?: string;
  status?: number;
  type?: string;
  message?: string;
}

/** `{ error, detail }`: the JSON body of every refusal. */
export function errorBody(err: AppError): Record<string, unknown> {
  const body: Record<string, unknown> = { error: err.code };
  if (err.detail !== undefined) body.detail = err.detail;
  if (err instanceof Conflict) Object.assign(body, err.extra);
  return body;
}

/**
 * The one mapping from errors to HTTP: `{ error, detail }` JSON for every failure. `readBudgetMs`
 * (server.readTimeoutSeconds) is named in the answer to a read PostgreSQL cancelled.
 */
export function errorHandler(readBudgetMs: number) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    // PostgreSQL cancelled a read at its budget (only the read pool sets statement_timeout)
    if ((err as HttpishError)?.code === PG_QUERY_CANCELED) err = new ReadTimeout(readBudgetMs, 'running');
    if (err instanceof AppError) {
      if (err.status >= 500) req.log.warn({ err_code: err.code, detail: err.message }, 'request failed');
      res.status(err.status).json(errorBody(err));
      return;
    }
    const h = err as HttpishError;
    if (h?.type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large' });
      return;
    }
    if (typeof h?.status === 'number' && h.status >= 400 && h.status < 500) {
      // (a parser's message can quote the input: cut like every AppError's)
      res.status(h.status).json({ error: 'bad_request', detail: truncateText(h.message ?? 'bad request', MAX_DETAIL_CHARS) });
      return;
    }
    req.log.error({ err }, 'unhandled error');
    res.status(500).json({ error: 'internal', detail: `request ${req.id} failed; see the logs` });
  };
}

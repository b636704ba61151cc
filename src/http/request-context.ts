import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import { newId } from '../util/ids';
import { redactUrl } from '../util/mask';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
    /** Who is calling: the bearer token's name (set by requireScope). */
    actor?: string;
  }
}

const INCOMING_ID = /^[\w.-]{1,64}$/;

/** Gives each request an id (or keeps a sane incoming X-Request-Id) and logs it when it ends. */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    req.id = incoming && INCOMING_ID.test(incoming) ? incoming : newId('req');
    req.log = logger.child({ req_id: req.id });
    res.setHeader('x-request-id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      req.log.info({ method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms: Math.round(ms * 100) / 100 }, 'request');
    });
    next();
  };
}

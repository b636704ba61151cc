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

/**
 * What a route adds to its request's one log line: `res.locals.logLine = { msg, fields }` (the
 * callback route names it `callback` / `callback refused` and adds the raw id and verdict).
 */
export interface LogLine {
  msg: string;
  fields: Record<string, unknown>;
}

/** Gives each request an id (or keeps a sane incoming X-Request-Id) and logs one line when it ends. */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const id = incoming && INCOMING_ID.test(incoming) ? incoming : newId('req');
    req.id = id;
    // The child logger is made only when something logs besides the request line.
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', {
      get: () => (child ??= logger.child({ req_id: id })),
      set: (value: Logger) => (child = value), // auth narrows it to the token's name
      configurable: true,
    });
    res.setHeader('x-request-id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
      const line = res.locals.logLine as LogLine | undefined;
      // The child (with req_id and, after auth, the token's name) if one was made; else req_id here.
      const fields = { method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms, ...line?.fields };
      if (child) child.info(fields, line?.msg ?? 'request');
      else logger.info({ req_id: id, ...fields }, line?.msg ?? 'request');
    });
    next();
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Scope } from '../config/config';
import type { Logger } from '../logger';
import { newId } from '../util/ids';
import { redactUrl, truncateText } from '../util/mask';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
    /** Who is calling: the bearer token's name (set by requireScope). */
    actor?: string;
    /** The scopes of that token (src/http/auth.ts; `admin` lists all three). */
    scopes?: Scope[];
  }
}

const INCOMING_ID = /^[\w.-]{1,64}$/;

/**
 * A search term in a URL (`?q=` of /v1/search and /v1/raw): a phone number or an address support typed, in
 * any spacing the log's masking would not recognize (`138 0013 8000`), so the access log never shows it.
 */
const SEARCH_TERM = /([?&]q=)[^&]*/g;

/** The most characters of a URL in a log line (node lets ~16 KB through): the rest is counted, not shown. */
export const MAX_LOGGED_URL_CHARS = 1024;

/**
 * What a route adds to its request's one log line (the callback route names it `callback` /
 * `callback refused` and adds the raw id and verdict).
 */
export interface LogLine {
  msg: string;
  fields: Record<string, unknown>;
}

export interface TrackedRequest {
  id: string;
  /** A child logger with the request id, made on first use. */
  log: Logger;
  /** Sets the message and fields of the request's log line. */
  note: (line: LogLine) => void;
}

/**
 * Gives a request an id (or keeps a sane incoming X-Request-Id), answers it in X-Request-Id, and
 * logs one line when the response is finished. Works on plain node objects: the callback fast path
 * (src/http/callback-listener.ts) and the express middleware below share it.
 */
export function trackRequest(logger: Logger, req: IncomingMessage, res: ServerResponse): TrackedRequest {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : newId('req');
  const url = req.url ?? '';
  // The child logger is made only when something logs besides the request line.
  let child: Logger | undefined;
  let line: LogLine | undefined;
  res.setHeader('x-request-id', id);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
    // The child (with req_id and, after auth, the token's name) if one was made; else req_id here.
    const fields = {
      method: req.method,
      url: truncateText(redactUrl(url).replace(SEARCH_TERM, '$1[redacted]'), MAX_LOGGED_URL_CHARS),
      status: res.statusCode,
      ms,
      ...line?.fields,
    };
    if (child) child.info(fields, line?.msg ?? 'request');
    else logger.info({ req_id: id, ...fields }, line?.msg ?? 'request');
  });
  return {
    id,
    get log() {
      return (child ??= logger.child({ req_id: id }));
    },
    set log(value: Logger) {
      child = value; // auth narrows it to the token's name
    },
    note: (value) => {
      line = value;
    },
  };
}

/** The express side: `req.id`, `req.log` and `res.locals.note(line)` for the one log line. */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const tracked = trackRequest(logger, req, res);
    req.id = tracked.id;
    Object.defineProperty(req, 'log', {
      get: () => tracked.log,
      set: (value: Logger) => (tracked.log = value),
      configurable: true,
    });
    res.locals.note = tracked.note;
    next();
  };
}

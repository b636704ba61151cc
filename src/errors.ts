import { truncateText } from './util/mask';

/**
 * One error type per refusal; `src/http/error-handler.ts` is the one place that maps them to HTTP.
 * `verdict` is what the raw log records for a refused callback.
 */
export const VERDICTS = ['accepted', 'duplicate', 'signature_invalid', 'payload_invalid', 'too_large', 'unknown_provider', 'overloaded'] as const;
export type Verdict = (typeof VERDICTS)[number];

/**
 * The most characters of an error's message or (text) detail. Details repeat input (a provider's
 * field, a URL, a parser's complaint about the body), and each goes to the answer, the raw log and
 * a log line: cut here, once, wherever the error was made (issue #14: a 1 MiB body of unclosed XML
 * tags made a 3.5 MB answer and log line).
 */
export const MAX_DETAIL_CHARS = 300;

export class AppError extends Error {
  readonly detail?: unknown;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    detail?: unknown,
  ) {
    super(truncateText(message, MAX_DETAIL_CHARS));
    this.name = new.target.name;
    this.detail = typeof detail === 'string' ? truncateText(detail, MAX_DETAIL_CHARS) : detail;
  }
}

export class SignatureInvalid extends AppError {
  readonly verdict = 'signature_invalid' as const;
  constructor(detail: string) {
    super(401, 'signature_invalid', detail, detail);
  }
}

export class PayloadInvalid extends AppError {
  readonly verdict = 'payload_invalid' as const;
  constructor(detail: string) {
    super(400, 'payload_invalid', detail, detail);
  }
}

/** The body did not arrive in time (a slow or stalled sender): 408, logged as `payload_invalid`. */
export class BodyTimeout extends AppError {
  readonly verdict = 'payload_invalid' as const;
  constructor(seconds: number, received: number) {
    const detail = `the body did not arrive within ${seconds} s (${received} bytes received)`;
    super(408, 'request_timeout', detail, detail);
  }
}

export class PayloadTooLarge extends AppError {
  readonly verdict = 'too_large' as const;
  constructor(limit: number) {
    const detail = `the body is over the limit of ${limit} bytes; send a smaller one`;
    super(413, 'payload_too_large', detail, detail);
  }
}

export class UnknownProvider extends AppError {
  readonly verdict = 'unknown_provider' as const;
  constructor(detail: string) {
    super(404, 'unknown_provider', detail, detail);
  }
}

/** The most characters of a name from the request (an id, a path) that a refusal repeats. */
export const MAX_QUOTED_CHARS = 64;

/** A name from the request as a refusal repeats it: JSON-quoted, at most MAX_QUOTED_CHARS characters (attacker text stays small). */
export function quoted(name: string): string {
  if (name.length <= MAX_QUOTED_CHARS) return JSON.stringify(name);
  // not inside a surrogate pair
  const cut = /[\ud800-\udbff]/.test(name[MAX_QUOTED_CHARS - 1]) ? MAX_QUOTED_CHARS - 1 : MAX_QUOTED_CHARS;
  return JSON.stringify(`${name.slice(0, cut)}…`);
}

/**
 * 404: names what was not found — `what` (e.g. `subscription`), the id the request gave (quoted,
 * bounded) and, in `hint`, where to find the ones that exist.
 */
export class NotFound extends AppError {
  constructor(what: string, id?: string, hint?: string) {
    const detail = `no ${what}${id === undefined ? '' : ` ${quoted(id)}`}${hint ? `; ${hint}` : ''}`;
    super(404, 'not_found', detail, detail);
  }
}

export class TooManyRequests extends AppError {
  constructor(limit: { windowSeconds: number; max: number }) {
    const detail = `more than ${limit.max} requests in ${limit.windowSeconds} s from this address; see the RateLimit and Retry-After headers`;
    super(429, 'rate_limited', detail, detail);
  }
}

export class BadRequest extends AppError {
  constructor(detail: string) {
    super(400, 'bad_request', detail, detail);
  }
}

/** A body that is not JSON (a form, text) sent to the management API, which reads only JSON. */
/** A body that is not JSON on a route that reads JSON: a 400 like any bad body (CONTRACT: 400 for bad input), saying what to send. */
export class JsonExpected extends BadRequest {
  constructor(contentType: string | undefined) {
    const came = contentType === undefined ? 'without a Content-Type' : `as ${quoted(contentType)}`;
    super(`this route reads a JSON body, and this one came ${came}: send it with Content-Type: application/json`);
  }
}

export class Unauthorized extends AppError {
  constructor(detail = 'a bearer token is required: send Authorization: Bearer <token> (DLR_ADMIN_TOKEN, or a token of the config\'s "tokens")') {
    super(401, 'unauthorized', detail, detail);
  }
}

export class Forbidden extends AppError {
  constructor(scope: string, held: readonly string[] = []) {
    const has = held.length > 0 ? `it holds ${held.map((s) => `"${s}"`).join(', ')}` : 'it holds no scope';
    const detail = `this route needs a token with the "${scope}" scope (or "admin"); ${has}: use DLR_ADMIN_TOKEN or a token of the config's "tokens" with "${scope}" in its scopes`;
    super(403, 'forbidden', `this token lacks the "${scope}" scope`, detail);
  }
}

export class Conflict extends AppError {
  constructor(
    code: string,
    message: string,
    readonly extra: Record<string, unknown>,
  ) {
    super(409, code, message, message);
  }
}

/** The database could not be reached or refused the write: the provider should retry. */
export class Unavailable extends AppError {
  constructor(detail: string) {
    super(503, 'unavailable', detail, 'storage unavailable, retry later');
  }
}

/**
 * A read (list, search, statistics) did not finish within `server.readTimeoutSeconds`: 503 rather
 * than a connection held for seconds. Reads run beside ingest (src/db/read-pool.ts), so this never
 * slows callbacks; narrowing the filter or the window makes the query cheaper.
 */
export class ReadTimeout extends AppError {
  constructor(budgetMs: number, phase: 'queued' | 'yielding' | 'running') {
    const detail =
      phase === 'queued'
        ? `every read thread (on PostgreSQL: read connection) is busy and this query waited ${budgetMs / 1000} s (server.readTimeoutSeconds); retry later`
        : phase === 'yielding'
          ? `ingest is busy, so reads take turns, and this query waited ${budgetMs / 1000} s for its turn (server.readTimeoutSeconds); retry later`
          : `the query ran longer than ${budgetMs / 1000} s (server.readTimeoutSeconds); narrow it (provider, account, since/until) or retry later`;
    super(503, 'read_timeout', detail, detail);
  }
}

/**
 * The process holds as many callback bodies as `server.bodyBudgetBytes` allows: 503 with
 * Retry-After before this body is read (raw-logged as `overloaded`, without a body).
 */
export class Overloaded extends AppError {
  readonly verdict = 'overloaded' as const;
  constructor(
    budget: number,
    readonly retryAfterSeconds: number,
  ) {
    const detail = `this server holds its limit of callback bodies in memory (server.bodyBudgetBytes = ${budget}); retry after ${retryAfterSeconds} s`;
    super(503, 'overloaded', detail, detail);
  }
}

/** A refusal of a callback that the raw log records with its verdict. */
export type CallbackRefusal = SignatureInvalid | PayloadInvalid | PayloadTooLarge | BodyTimeout | UnknownProvider | Overloaded;

export function isCallbackRefusal(err: unknown): err is CallbackRefusal {
  return (
    err instanceof SignatureInvalid ||
    err instanceof PayloadInvalid ||
    err instanceof PayloadTooLarge ||
    err instanceof BodyTimeout ||
    err instanceof UnknownProvider ||
    err instanceof Overloaded
  );
}

/** A configuration problem: start-up stops with this message, which names the bad field. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

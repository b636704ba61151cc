import express, { type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { RateLimit } from '../config/config';
import type { AppContext } from '../context';
import { BadRequest, JsonExpected, NotFound, TooManyRequests } from '../errors';
import { containsNul, nestingExceeds } from '../util/mask';
import { errorHandler } from './error-handler';
import { adminRouter } from './routes/admin';
import { requestContext } from './request-context';
import { callbacksRouter } from './routes/callbacks';
import { consoleRouter } from './routes/console';
import { contractRouter } from './routes/contract';
import { opsRouter } from './routes/ops';
import { providersRouter } from './routes/providers';
import { queriesRouter } from './routes/queries';
import { replayRouter } from './routes/replay';
import { reportsRouter } from './routes/reports';
import { supportRouter } from './routes/support';

/** JSON bodies of the management API; callbacks read their own raw bytes and never see this. */
const API_JSON_LIMIT = '256kb';

/** Per client address (after `trust proxy`), in this process's memory: 429 JSON past the limit. */
function limiter(limit: RateLimit | null): RequestHandler[] {
  if (!limit) return [];
  return [
    rateLimit({
      windowMs: limit.windowSeconds * 1000,
      limit: limit.max,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      handler: (_req, _res, next) => next(new TooManyRequests(limit)),
    }),
  ];
}

/** Deeper JSON than this is no API request (JSON.stringify and the schema validators recurse over it). */
const API_JSON_DEPTH = 32;

/** Too deep a JSON body, or NUL characters in a path, query or JSON body: 400 (PostgreSQL text cannot hold NUL). */
const refuseNul: RequestHandler = (req, _res, next) => {
  if (nestingExceeds(req.body, API_JSON_DEPTH)) return next(new BadRequest(`the JSON body is nested deeper than ${API_JSON_DEPTH} levels`));
  next(
    req.url.includes('%00') || req.url.includes('\u0000') || containsNul(req.body)
      ? new BadRequest('NUL characters are not allowed in paths, queries or bodies')
      : undefined,
  );
};

/**
 * A body that is not JSON (a form from `curl -d`, text) would reach a route as no body at all and be
 * refused for what it lacks: a 400 that says JSON is expected instead (issue #18).
 */
const jsonBodiesOnly: RequestHandler = (req, _res, next) => {
  const length = req.get('content-length');
  const hasBody = req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
  next(hasBody && !req.is('application/json') ? new JsonExpected(req.get('content-type')) : undefined);
};

export function createApp(ctx: AppContext, isDraining: () => boolean = () => false): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // answers are small and never cached: no hash per response
  app.set('trust proxy', ctx.config.server.trustProxy);
  app.set('query parser', 'simple');
  app.use(requestContext(ctx.logger));
  app.use(opsRouter(ctx, isDraining));
  app.use(consoleRouter());
  const { rateLimit: limits } = ctx.config.server;
  app.use('/v1/callbacks', ...limiter(limits.callbacks), callbacksRouter(ctx));
  app.use(
    '/v1',
    ...limiter(limits.api),
    jsonBodiesOnly,
    express.json({ limit: API_JSON_LIMIT }),
    refuseNul,
    supportRouter(ctx),
    queriesRouter(ctx),
    reportsRouter(ctx),
    replayRouter(ctx),
    adminRouter(ctx),
    contractRouter(ctx),
    providersRouter(ctx),
  );
  app.use((req) => {
    throw new NotFound('route', `${req.method} ${req.path}`, 'GET /v1/openapi.json lists every route');
  });
  app.use(errorHandler(ctx.config.server.readTimeoutSeconds * 1000));
  return app;
}

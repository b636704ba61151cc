import express from 'express';
import type { AppContext } from '../context';
import { NotFound } from '../errors';
import { errorHandler } from './error-handler';
import { adminRouter } from './routes/admin';
import { requestContext } from './request-context';
import { callbacksRouter } from './routes/callbacks';
import { opsRouter } from './routes/ops';
import { queriesRouter } from './routes/queries';
import { replayRouter } from './routes/replay';

/** JSON bodies of the management API; callbacks read their own raw bytes and never see this. */
const API_JSON_LIMIT = '256kb';

export function createApp(ctx: AppContext, isDraining: () => boolean = () => false): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.server.trustProxy);
  app.set('query parser', 'simple');
  app.use(requestContext(ctx.logger));
  app.use(opsRouter(ctx, isDraining));
  app.use('/v1/callbacks', callbacksRouter(ctx));
  app.use('/v1', express.json({ limit: API_JSON_LIMIT }), queriesRouter(ctx), replayRouter(ctx), adminRouter(ctx));
  app.use(() => {
    throw new NotFound('route');
  });
  app.use(errorHandler());
  return app;
}

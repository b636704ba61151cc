import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { AppContext } from '../context';
import { trackRequest } from './request-context';
import { callbackHandler, takesMethod } from './routes/callbacks';

/** `/v1/callbacks/:provider[/:account]` with an optional trailing slash, any case (as express routes it). */
const CALLBACK_PATH = /^\/v1\/callbacks\/([^/?#]+)(?:\/([^/?#]+))?\/?(?:\?|$)/i;

function decode(part: string | undefined): string | undefined | null {
  if (part === undefined) return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/**
 * The HTTP server's request listener: provider callbacks are answered here, before express — the
 * ingest path's whole per-request budget is smaller than express's routing (docs/performance.md) — and
 * everything else (the API, ops routes, any path or param this does not take) goes to `app`.
 * With a callback rate limit configured, express (which runs the limiter) takes callbacks too.
 */
export function requestListener(ctx: AppContext, app: Express): RequestListener {
  if (ctx.config.server.rateLimit.callbacks) return app;
  const handle = callbackHandler(ctx);
  return (req: IncomingMessage, res: ServerResponse) => {
    const m = req.method === 'POST' || req.method === 'GET' || req.method === 'HEAD' ? CALLBACK_PATH.exec(req.url ?? '') : null;
    const provider = m ? decode(m[1]) : null;
    const account = m ? decode(m[2]) : null;
    // GET and HEAD only for a provider whose definition says it calls that way (format.methods)
    if (!provider || account === null || (req.method !== 'POST' && !takesMethod(ctx, provider, req.method))) {
      app(req, res);
      return;
    }
    // express's request prototype gives `ip` under the app's "trust proxy" setting
    Object.setPrototypeOf(req, app.request);
    const tracked = trackRequest(ctx.logger, req, res);
    const remoteAddr = (req as unknown as { ip?: string }).ip ?? req.socket.remoteAddress ?? '';
    void handle(req, res, { provider, account, remoteAddr, url: req.url ?? '', note: tracked.note, requestId: tracked.id });
  };
}

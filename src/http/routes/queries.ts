import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Router } from 'express';
import type { AppContext } from '../../context';
import { getRaw, listRaw, openRawBody } from '../../raw/queries';
import { getMessage, listMessages, stats } from '../../status/queries';
import { requireScope } from '../auth';
import { queryParams } from '../query-params';

const messageQuery = queryParams<'account' | 'recipient'>('message');
const messagesQuery = queryParams<'provider' | 'account' | 'status' | 'recipient' | 'stale' | 'since' | 'until' | 'cursor' | 'limit'>('messages');
const statsQuery = queryParams<'provider' | 'account' | 'channel' | 'since' | 'until'>('stats');
const rawListQuery = queryParams<'provider' | 'account' | 'verdict' | 'since' | 'until' | 'q' | 'cursor' | 'limit'>('raw-list');
const noQuery = queryParams('none');

/** A stored Content-Type that can be sent back as it is (printable ASCII); anything else is served as bytes. */
function servableType(value: string | undefined): string {
  return value !== undefined && /^[\x20-\x7e]{1,256}$/.test(value) ? value : 'application/octet-stream';
}

/** The read API (scope `read`): messages, statistics, the raw log. */
export function queriesRouter(ctx: AppContext): Router {
  const router = Router();
  // every query here runs beside ingest, within server.readTimeoutSeconds (src/db/read-pool.ts)
  const db = ctx.dbh.read;
  const read = requireScope(ctx.config.tokens, 'read');

  router.get('/messages/:provider/:message_id', read, async (req, res) => {
    const q = messageQuery(req.query);
    res.json(await getMessage(db, { provider: req.params.provider as string, messageId: req.params.message_id as string, ...q }));
  });

  router.get('/messages', read, async (req, res) => {
    res.json(await listMessages(db, messagesQuery(req.query)));
  });

  router.get('/stats', read, async (req, res) => {
    res.json(await stats(db, statsQuery(req.query)));
  });

  // Items carry a preview of each body (listRaw): the answer stays small whatever the bodies' size.
  router.get('/raw', read, async (req, res) => {
    res.json(await listRaw(db, rawListQuery(req.query)));
  });

  // One row, its whole body (at most server.bodyLimitBytes) in the JSON.
  router.get('/raw/:id', read, async (req, res) => {
    noQuery(req.query);
    res.json(await getRaw(db, req.params.id as string));
  });

  /**
   * The exact stored bytes with the request's own Content-Type, streamed a chunk at a time. The
   * bytes are an attacker's as often as a provider's: always a download (`attachment`, `nosniff`,
   * a sandbox CSP), never a page a browser renders in this origin.
   */
  router.get('/raw/:id/body', read, async (req, res) => {
    noQuery(req.query);
    const id = req.params.id as string;
    const body = await openRawBody(db, id);
    // writeHead, not res.set: express would add a charset to the stored type
    res.writeHead(200, {
      'content-type': servableType(body.contentType),
      'content-length': String(body.size),
      'content-disposition': `attachment; filename="${id}.body"`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'no-store',
    });
    try {
      await pipeline(Readable.from(body.chunks), res);
    } catch (err) {
      // the client went away, or the row was purged mid-body: the answer is cut, nothing to send
      if (!res.destroyed) res.destroy();
      if ((err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') req.log.warn({ err, raw_id: id }, 'raw body stream ended early');
    }
  });

  return router;
}

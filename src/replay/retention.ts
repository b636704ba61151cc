import type { AppContext } from '../context';
import { audit } from './audit';

/** How often a server purges raw requests older than `retention.rawDays`. */
export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Deleted per statement, so a large purge never holds the database for long. */
const PURGE_BATCH = 1000;

/** Deletes raw requests received before `before`, and the nonces only they could carry; message status and history stay. */
export async function purgeRaw(ctx: AppContext, before: Date, actor: string): Promise<{ purged: number; before: string }> {
  const cutoff = before.toISOString();
  let purged = 0;
  for (;;) {
    const ids = (await ctx.dbh.db.selectFrom('raw_requests').select('id').where('received_at', '<', cutoff).limit(PURGE_BATCH).execute()).map((r) => r.id);
    if (ids.length === 0) break;
    await ctx.dbh.db.deleteFrom('raw_requests').where('id', 'in', ids).execute();
    purged += ids.length;
  }
  // A nonce row goes with the raw requests that could carry its value. A request reusing a nonce
  // passes the timestamp check only if received before the row's expires_at (twice the tolerance
  // after the first use), so once expires_at is before the cutoff, every such request is purged
  // here too; until then the row stays, for replay (src/ingest/nonces.ts claimNonces) to refuse.
  const nonceCutoff = Math.min(before.getTime(), Date.now());
  await ctx.dbh.db.deleteFrom('nonces').where('expires_at', '<', new Date(nonceCutoff).toISOString()).execute();
  const result = { purged, before: cutoff };
  if (purged > 0) await audit(ctx.dbh.db, actor, 'purge', { before: cutoff }, result);
  return result;
}

/** The periodic job: every hour, purge what is older than the retention. Returns a stop function. */
export function startRetention(ctx: AppContext): () => void {
  const run = () => {
    purgeRaw(ctx, new Date(Date.now() - ctx.config.retention.rawDays * DAY_MS), 'retention')
      .then((r) => r.purged > 0 && ctx.logger.info(r, 'purged old raw requests'))
      .catch((err: unknown) => ctx.logger.error({ err }, 'retention purge failed'));
  };
  const timer = setInterval(run, RETENTION_INTERVAL_MS);
  timer.unref();
  run();
  return () => clearInterval(timer);
}

import type { AppContext } from '../context';
import { audit } from './audit';

/** How often a server purges raw requests older than `retention.rawDays`. */
export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Deleted per statement, so a large purge never holds the database for long. */
const PURGE_BATCH = 1000;

/** Deletes raw requests received before `before`; message status and history stay. */
export async function purgeRaw(ctx: AppContext, before: Date, actor: string): Promise<{ purged: number; before: string }> {
  const cutoff = before.toISOString();
  let purged = 0;
  for (;;) {
    const ids = (await ctx.dbh.db.selectFrom('raw_requests').select('id').where('received_at', '<', cutoff).limit(PURGE_BATCH).execute()).map((r) => r.id);
    if (ids.length === 0) break;
    await ctx.dbh.db.deleteFrom('raw_requests').where('id', 'in', ids).execute();
    purged += ids.length;
  }
  await ctx.dbh.db.deleteFrom('nonces').where('expires_at', '<', new Date().toISOString()).execute();
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

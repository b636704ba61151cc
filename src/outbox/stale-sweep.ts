import type { AppContext } from '../context';
import { findProvider } from '../providers/registry';
import { sweepStale } from '../status/stale';
import { startPeriodic } from '../util/periodic';
import { createOutbox } from './enqueue';

/** The sweep runs at least this often (CONTRACT: every min(finalAfterSeconds, 60) seconds). */
const MAX_SWEEP_INTERVAL_MS = 60_000;

/** How often to sweep: the smallest configured finalAfterSeconds, at most a minute. */
export function sweepIntervalMs(ctx: AppContext): number {
  let ms = MAX_SWEEP_INTERVAL_MS;
  for (const p of Object.values(ctx.config.providers)) for (const a of Object.values(p.accounts)) ms = Math.min(ms, a.finalAfterSeconds * 1000);
  return ms;
}

/** One sweep now: marks what is past due stale, queues its events, counts and logs them. */
export async function sweepOnce(ctx: AppContext, now: Date = new Date(), signal?: AbortSignal): Promise<number> {
  const found = await sweepStale(
    ctx.dbh.db,
    {
      dialect: ctx.dbh.dialect,
      now,
      outboxOf: (trx) => createOutbox(trx, new Date()), // deliveries are due on the clock, whatever time is swept
      channelOf: (name) => {
        const provider = findProvider(name, ctx.config.providers);
        return provider && ctx.config.providers[provider.name] ? provider.channel : null;
      },
    },
    signal,
  );
  if (found.length === 0) return 0;
  const byAccount = new Map<string, { provider: string; account: string; count: number }>();
  for (const f of found) {
    const key = `${f.provider}\u0000${f.account}`;
    const entry = byAccount.get(key) ?? { provider: f.provider, account: f.account, count: 0 };
    entry.count += 1;
    byAccount.set(key, entry);
  }
  for (const { provider, account, count } of byAccount.values()) {
    ctx.metrics.staleMessages.inc({ provider, account }, count);
    ctx.logger.info({ provider, account, stale: count }, 'messages with no final report in time marked stale');
  }
  if (found.some((f) => f.queued > 0)) ctx.wakeWorker?.();
  return found.length;
}

/**
 * The server's periodic sweep for stale messages (src/status/stale.ts), in the background beside
 * the outbox worker: the first a second after start-up, then every sweepIntervalMs after each ends.
 * Every replica may run it: a message is claimed by one. Returns a stop function that cancels the
 * next run and ends a running one after its current batch.
 */
export function startStaleSweep(ctx: AppContext): () => Promise<void> {
  const interval = sweepIntervalMs(ctx);
  return startPeriodic((signal) => sweepOnce(ctx, new Date(), signal), {
    firstMs: Math.min(1000, interval),
    intervalMs: interval,
    onError: (err) => ctx.logger.error({ err }, 'stale-message sweep failed; retrying at the next interval'),
  });
}

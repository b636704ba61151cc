/**
 * A background job of the server (retention purge, stale-message sweep): first `firstMs` after
 * start, then `intervalMs` after each run ends, so runs never overlap. `run` gets a signal that
 * aborts at stop and should end at its next batch; its failures go to `onError` and the next run
 * is scheduled as usual. Returns a stop function that cancels the next run and resolves when a
 * running one has ended.
 */
export function startPeriodic(
  run: (signal: AbortSignal) => Promise<unknown>,
  { firstMs, intervalMs, onError }: { firstMs: number; intervalMs: number; onError: (err: unknown) => void },
): () => Promise<void> {
  const stopping = new AbortController();
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const schedule = (ms: number) => {
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  const tick = () => {
    timer = null;
    running = run(stopping.signal)
      .then(() => undefined, onError)
      .finally(() => {
        running = null;
        if (!stopping.signal.aborted) schedule(intervalMs);
      });
  };
  schedule(firstMs);
  return async () => {
    stopping.abort();
    if (timer) clearTimeout(timer);
    await running;
  };
}

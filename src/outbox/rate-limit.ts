/**
 * Per-subscription delivery rate limits (`rateLimitPerSecond`), as token buckets held by one worker
 * process: a subscription may start `rate` attempts a second, with a burst of at most `rate` after a
 * quiet second. Each worker process keeps its own buckets, so with several workers (replicas, or
 * `dlr worker` beside the server) a subscriber can receive up to `rate` × workers a second; the
 * limit is per process by design (a shared one would be a database write per attempt).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { rate: number; tokens: number; at: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  private refill(id: string): { rate: number; tokens: number; at: number } | undefined {
    const b = this.buckets.get(id);
    if (!b) return undefined;
    const now = this.clock();
    b.tokens = Math.min(b.rate, b.tokens + ((now - b.at) / 1000) * b.rate);
    b.at = now;
    return b;
  }

  /**
   * Takes one start for subscription `id` whose limit is `rate` (null: none). False when its bucket
   * is empty: the delivery must wait. A changed limit takes effect here.
   */
  take(id: string, rate: number | null): boolean {
    if (rate === null) {
      this.buckets.delete(id);
      return true;
    }
    let b = this.refill(id);
    if (!b) {
      b = { rate, tokens: rate, at: this.clock() };
      this.buckets.set(id, b);
    }
    if (b.rate !== rate) {
      b.rate = rate;
      b.tokens = Math.min(b.tokens, rate);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Subscriptions with no start left now (left out of the next claim). Full buckets are forgotten. */
  exhausted(): string[] {
    const out: string[] = [];
    for (const id of [...this.buckets.keys()]) {
      const b = this.refill(id)!;
      if (b.tokens < 1) out.push(id);
      else if (b.tokens >= b.rate) this.buckets.delete(id);
    }
    return out;
  }
}

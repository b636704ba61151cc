import type { AppContext } from '../context';

/**
 * The bytes of callback bodies this process holds at once, over all requests
 * (`server.bodyBudgetBytes`). Without it, N senders holding bodies open pin N × bodyLimitBytes
 * of memory (800 held 1 MiB bodies: ~1 GB of RSS, never given back).
 */
export class BodyBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  /** Takes `bytes` of the budget, or nothing and false when they do not fit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  get inUse(): number {
    return this.used;
  }
}

const budgets = new WeakMap<AppContext, BodyBudget>();

/** The process's one budget (the callback fast path and the express route share it). */
export function bodyBudgetOf(ctx: AppContext): BodyBudget {
  let budget = budgets.get(ctx);
  if (!budget) {
    budget = new BodyBudget(ctx.config.server.bodyBudgetBytes);
    budgets.set(ctx, budget);
  }
  return budget;
}

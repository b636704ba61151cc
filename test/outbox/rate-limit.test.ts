import { RateLimiter } from '../../src/outbox/rate-limit';

describe('RateLimiter (rateLimitPerSecond, per worker process)', () => {
  function limiter() {
    let now = 1_000_000;
    return { rl: new RateLimiter(() => now), advance: (ms: number) => (now += ms) };
  }

  it('allows a burst of `rate`, then `rate` a second', () => {
    const { rl, advance } = limiter();
    expect([rl.take('a', 2), rl.take('a', 2), rl.take('a', 2)]).toEqual([true, true, false]);
    expect(rl.exhausted()).toEqual(['a']);
    advance(499);
    expect(rl.take('a', 2)).toBe(false);
    advance(1);
    expect(rl.take('a', 2)).toBe(true);
    expect(rl.take('a', 2)).toBe(false);
  });

  it('limits nothing without a rate, and keeps subscriptions apart', () => {
    const { rl } = limiter();
    for (let i = 0; i < 100; i += 1) expect(rl.take('free', null)).toBe(true);
    expect(rl.take('a', 1)).toBe(true);
    expect(rl.take('b', 1)).toBe(true);
    expect(rl.take('a', 1)).toBe(false);
    expect(rl.exhausted().sort()).toEqual(['a', 'b']);
  });

  it('takes a lower limit at once and forgets full buckets', () => {
    const { rl, advance } = limiter();
    expect(rl.take('a', 10)).toBe(true); // 9 left
    expect(rl.take('a', 1)).toBe(true); // capped to 1, then taken
    expect(rl.take('a', 1)).toBe(false);
    advance(5_000);
    expect(rl.exhausted()).toEqual([]); // full again: forgotten
    expect(rl.take('a', 1)).toBe(true);
  });
});

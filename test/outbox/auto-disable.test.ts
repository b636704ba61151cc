import { failingChanges } from '../../src/outbox/auto-disable';

describe('failingChanges: how a batch of attempts moves failing_since', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

  it('starts failing at the first failure, keeps the earliest, and resets on a success', () => {
    const changes = failingChanges([
      { subscriptionId: 'a', succeeded: false, startedAt: at(3) },
      { subscriptionId: 'a', succeeded: false, startedAt: at(1) },
      { subscriptionId: 'b', succeeded: false, startedAt: at(1) },
      { subscriptionId: 'b', succeeded: true, startedAt: at(2) },
      { subscriptionId: 'c', succeeded: true, startedAt: at(1) },
      { subscriptionId: 'c', succeeded: false, startedAt: at(4) },
    ]);
    expect(Object.fromEntries(changes)).toEqual({
      a: { reset: false, since: at(1) },
      b: { reset: true, since: null },
      c: { reset: true, since: at(4) },
    });
  });
});

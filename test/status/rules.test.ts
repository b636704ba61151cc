import fc from 'fast-check';
import { decide, RANK, type StatusFacts } from '../../src/status/rules';
import { STATUSES, type Status } from '../../src/status/types';

const at = (minute: number) => `2024-05-06T10:${String(minute).padStart(2, '0')}:00.000Z`;
const facts = (status: Status, minute = 0, errorCode: string | null = null): StatusFacts => ({ status, occurredAt: at(minute), errorCode });

describe('state rules', () => {
  it('applies the first report of a message', () => {
    expect(decide(null, facts('sent'), false)).toEqual({ change: true });
  });

  it('calls the same report twice a duplicate, whatever its rank', () => {
    expect(decide(facts('sent'), facts('delivered'), true)).toEqual({ change: false, reason: 'duplicate' });
  });

  it('moves up the ranks: queued → sent → deferred → failed → delivered', () => {
    const order: Status[] = ['queued', 'sent', 'deferred', 'failed', 'delivered'];
    for (let i = 1; i < order.length; i++) expect(decide(facts(order[i - 1]), facts(order[i]), false)).toEqual({ change: true });
  });

  it('never lets a terminal status go back', () => {
    for (const s of ['queued', 'sent', 'deferred'] as Status[]) {
      expect(decide(facts('delivered'), facts(s, 59), false)).toEqual({ change: false, reason: 'lower_rank' });
      expect(decide(facts('failed'), facts(s, 59), false)).toEqual({ change: false, reason: 'lower_rank' });
    }
  });

  it('lets delivered override an earlier failure (a retry succeeded), never the reverse', () => {
    expect(decide(facts('failed', 5, 'UNDELIV'), facts('delivered', 1), false)).toEqual({ change: true });
    expect(decide(facts('delivered', 1), facts('failed', 5, 'UNDELIV'), false)).toEqual({ change: false, reason: 'lower_rank' });
  });

  it('between two failures keeps the one that happened first', () => {
    expect(decide(facts('failed', 5, 'B'), facts('expired', 3, 'A'), false)).toEqual({ change: true });
    expect(decide(facts('failed', 3, 'B'), facts('expired', 5, 'A'), false)).toEqual({ change: false, reason: 'later_failure' });
  });

  it('breaks a tie between failures by status, then error code, alphabetically', () => {
    expect(decide(facts('rejected', 3, 'A'), facts('expired', 3, 'Z'), false)).toEqual({ change: true });
    expect(decide(facts('failed', 3, 'B'), facts('failed', 3, 'A'), false)).toEqual({ change: true });
    expect(decide(facts('failed', 3, 'A'), facts('failed', 3, 'B'), false)).toEqual({ change: false, reason: 'later_failure' });
  });

  it('does not change on a second report of the same non-failure rank', () => {
    expect(decide(facts('sent', 1), facts('sent', 2), false)).toEqual({ change: false, reason: 'lower_rank' });
  });

  it('ranks every status', () => {
    expect(Object.keys(RANK).sort()).toEqual([...STATUSES].sort());
  });

  /** Failures carry an error code; the other statuses here carry none. */
  const report = fc
    .record({ status: fc.constantFrom(...STATUSES), minute: fc.integer({ min: 0, max: 5 }), code: fc.constantFrom('A', 'B', 'C') })
    .map(({ status, minute, code }) => facts(status, minute, RANK[status] === 3 ? code : null));

  function replay(reports: StatusFacts[]): { status: Status; errorCode: string | null } | null {
    let current: StatusFacts | null = null;
    const seen = new Set<string>();
    for (const r of reports) {
      const key = JSON.stringify(r);
      if (decide(current, r, seen.has(key)).change) current = r;
      seen.add(key);
    }
    return current && { status: current.status, errorCode: current.errorCode };
  }

  it('ends in the same status and error whatever order the same reports arrive in (property)', () => {
    fc.assert(
      fc.property(
        fc
          .array(report, { minLength: 1, maxLength: 8 })
          .chain((reports) => fc.tuple(fc.constant(reports), fc.shuffledSubarray(reports, { minLength: reports.length, maxLength: reports.length }))),
        ([reports, shuffled]) => {
          expect(replay(shuffled)).toEqual(replay(reports));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

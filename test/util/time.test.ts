import fc from 'fast-check';
import { DateTime } from 'luxon';
import { parseLocalTime } from '../../src/util/time';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

describe('parseLocalTime fast path', () => {
  // Zones with DST, half-hour and 45-minute offsets, and none.
  const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Asia/Kolkata', 'Asia/Kathmandu', 'UTC'];

  it('agrees with luxon fromFormat for every existing local time', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.record({
          y: fc.integer({ min: 1990, max: 2040 }),
          mo: fc.integer({ min: 1, max: 12 }),
          d: fc.integer({ min: 1, max: 31 }),
          h: fc.integer({ min: 0, max: 23 }),
          mi: fc.integer({ min: 0, max: 59 }),
          s: fc.integer({ min: 0, max: 59 }),
        }),
        (zone, t) => {
          const dashed = `${t.y}-${pad(t.mo)}-${pad(t.d)} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}`;
          const compact = `${t.y}${pad(t.mo)}${pad(t.d)}${pad(t.h)}${pad(t.mi)}${pad(t.s)}`;
          const expected = DateTime.fromFormat(dashed, 'yyyy-MM-dd HH:mm:ss', { zone });
          // A local time that falls in a DST gap does not exist; luxon and we may place it differently.
          if (expected.isValid && expected.toFormat('yyyy-MM-dd HH:mm:ss') !== dashed) return;
          const want = expected.isValid ? expected.toJSDate().toISOString() : null;
          expect(parseLocalTime(dashed, 'yyyy-MM-dd HH:mm:ss', zone)?.toISOString() ?? null).toBe(want);
          expect(parseLocalTime(compact, 'yyyyMMddHHmmss', zone)?.toISOString() ?? null).toBe(want);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it.each(['2024-05-06 23:60:00', '2024-02-30 10:00:00', '2024-5-06 10:15:09', '2024-05-06T10:15:09', ''])('refuses %j', (text) => {
    expect(parseLocalTime(text, 'yyyy-MM-dd HH:mm:ss', 'Asia/Shanghai')).toBeNull();
  });
});

import fc from 'fast-check';
import { STATUSES, type ProviderReport } from '../../src/status/types';

/**
 * A report to one of a few messages (m1–m3, one recipient): statuses, engagements and unmapped
 * codes, some identical, at one of four minutes; failures carry a code, odd minutes a message too.
 * Attributes: `m` (the minute, which a later report overwrites) and one of the minute's own, which
 * a merge of several reports' attributes keeps.
 */
export const reportArbitrary = fc
  .record({
    message: fc.constantFrom('m1', 'm2', 'm3'),
    kind: fc.constantFrom('status', 'status', 'status', 'engagement', 'unmapped'),
    status: fc.constantFrom(...STATUSES),
    minute: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ message, kind, status, minute }): ProviderReport => {
    const base = {
      messageId: message,
      recipient: '+8613800000000',
      occurredAt: new Date(Date.UTC(2026, 10, 26, 8, minute)),
      attributes: { m: minute, [`at${minute}`]: kind },
    };
    if (kind === 'engagement') return { ...base, type: 'message.engagement', action: 'clicked' };
    const st = kind === 'unmapped' ? null : status;
    return {
      ...base,
      type: 'message.status',
      status: st,
      error: st === 'delivered' || st === 'sent' || st === 'queued' ? null : { code: `E${minute}`, message: minute % 2 ? 'why' : null },
    };
  });

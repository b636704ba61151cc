import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { openDatabase } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import { createOutbox } from '../../src/outbox/enqueue';
import { getRaw } from '../../src/raw/queries';
import { register } from '../../src/status/registrations';
import { RollupDeltas } from '../../src/status/rollups';
import { applyAll } from '../../src/status/store';
import type { ProviderReport } from '../../src/status/types';
import { reportArbitrary } from '../helpers/reports';
import { storedRaw } from '../helpers/raw';
import { newId } from '../../src/util/ids';

/**
 * Events no subscription takes are not stored, and GET /v1/raw/:id rebuilds them from the history
 * (src/status/event-history.ts): the same events, field for field, as a subscription would have
 * been sent, over any sequence of requests (status changes, duplicates, out-of-order reports,
 * engagements, unmapped codes) and with a send registration on some messages.
 */
const report = reportArbitrary;

describe('events nobody subscribed to are rebuilt from the history, equal to the stored ones', () => {
  let dir: string;
  let n = 0;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-events-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The events of each request, as GET /v1/raw/:id answers them, with or without a subscription. */
  async function eventsOf(requests: ProviderReport[][], subscribed: boolean) {
    const dbh = openDatabase(`sqlite:${path.join(dir, `db-${(n += 1)}.sqlite`)}`);
    try {
      await migrateToLatest(dbh);
      if (subscribed)
        await dbh.db
          .insertInto('subscriptions')
          .values({ id: 'sub_1', url: 'http://127.0.0.1:9/hook', secret: 'whsec_x', filter: '{}', enabled: 1, created_at: '', updated_at: '' })
          .execute();
      await register(
        dbh.db,
        { provider: 'aliyun', account: 'default', messageId: 'm2', recipient: '' },
        { reference: 'order-2', metadata: { shop: 7 } },
        new Date(),
        259_200,
      );
      const out: unknown[] = [];
      for (const [i, reports] of requests.entries()) {
        const rawId = newId('raw');
        const receivedAt = new Date(Date.UTC(2026, 10, 26, 9, i));
        await dbh.db.insertInto('raw_requests').values(storedRaw(rawId, receivedAt.toISOString())).execute();
        await dbh.transact((trx) =>
          applyAll(
            trx,
            {
              provider: 'aliyun',
              account: 'default',
              channel: 'sms',
              rawId,
              receivedAt,
              lockRows: false,
              finalAfterSeconds: 259200,
              replay: false,
              outbox: createOutbox(trx, receivedAt),
              rollup: new RollupDeltas(),
            },
            reports,
          ),
        );
        out.push((await getRaw(dbh.db, rawId)).events);
      }
      const stored = Number(
        (
          await dbh.db
            .selectFrom('events')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
      return { out, stored };
    } finally {
      await dbh.close();
    }
  }

  /** Event and raw ids are new per run; everything else must agree. */
  const withoutIds = (perRequest: unknown[]) =>
    perRequest.map((events) => (events as { id: string; raw_id: string }[]).map(({ id: _id, raw_id: _raw, ...rest }) => rest));

  it('for any sequence of requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(report, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }), async (requests) => {
        const sent = await eventsOf(requests, true);
        const rebuilt = await eventsOf(requests, false);
        expect(rebuilt.stored).toBe(0);
        expect(withoutIds(rebuilt.out)).toEqual(withoutIds(sent.out));
      }),
      { numRuns: 60 },
    );
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { openDatabase, type Db } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import { createOutbox } from '../../src/outbox/enqueue';
import { countByScan, countMessages, RollupDeltas, type CountRow } from '../../src/status/rollups';
import { applyAll, applyReport, type ApplyContext } from '../../src/status/store';
import type { ProviderReport } from '../../src/status/types';
import { reportArbitrary } from '../helpers/reports';
import { newId } from '../../src/util/ids';

/** A report to one of a few messages: statuses, engagements and unmapped codes, some identical. */
const report = reportArbitrary;

describe('applyAll (a request’s reports in bulk) against one report at a time, on a real SQLite file', () => {
  let dir: string;
  let n = 0;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-apply-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Applies `before` one by one, then `batch` (in one call of `apply`); returns what the database holds. */
  async function run(before: ProviderReport[], batch: ProviderReport[], bulk: boolean) {
    const dbh: Db = openDatabase(`sqlite:${path.join(dir, `db-${(n += 1)}.sqlite`)}`);
    try {
      await migrateToLatest(dbh);
      await dbh.db
        .insertInto('subscriptions')
        .values({ id: 'sub_1', url: 'https://example.com/hook', secret: 'whsec_x', filter: '{}', enabled: 1, created_at: '', updated_at: '' })
        .execute();
      const ctxFor = (trx: Parameters<typeof applyReport>[0], rawId: string): ApplyContext => ({
        provider: 'aliyun',
        account: 'default',
        channel: 'sms',
        rawId,
        receivedAt: new Date('2026-11-26T09:00:00Z'),
        lockRows: false,
        finalAfterSeconds: 259200,
        rollup: new RollupDeltas(),
        replay: false,
        outbox: createOutbox(trx, new Date('2026-11-26T09:00:00Z')),
      });
      for (const r of before) {
        await dbh.transact(async (trx) => {
          const ctx = ctxFor(trx, newId('raw'));
          await applyReport(trx, ctx, r);
          await ctx.rollup.flush(trx);
        });
      }
      const batchRaw = newId('raw');
      const applied = await dbh.transact(async (trx) => {
        const ctx = ctxFor(trx, batchRaw);
        if (bulk) return applyAll(trx, ctx, batch);
        const out = [];
        for (const r of batch) out.push(await applyReport(trx, ctx, r));
        await ctx.rollup.flush(trx);
        return out;
      });
      const messages = await dbh.db
        .selectFrom('messages')
        .select(['message_id', 'status', 'error_code', 'occurred_at', 'version', 'attributes'])
        .orderBy('message_id')
        .execute();
      const history = await dbh.db
        .selectFrom('reports')
        .innerJoin('messages', 'messages.id', 'reports.message_pk')
        .select(['message_id', 'reports.status', 'action', 'changed', 'reason'])
        .where('raw_id', '=', batchRaw)
        .orderBy('reports.id')
        .execute();
      const events = await dbh.db.selectFrom('events').select('payload').where('raw_id', '=', batchRaw).orderBy('id').execute();
      const deliveries = await dbh.db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      // the rollups count what the messages hold, whichever way the reports went in
      const byKey = (rows: CountRow[]) => [...rows].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
      const counted = byKey(await countMessages(dbh.db, {}));
      expect(counted).toEqual(byKey(await countByScan(dbh.db, {})));
      expect(counted.length).toBeGreaterThan(0);
      return {
        applied: applied.map((a) => ({
          decision: a.decision,
          duplicate: a.duplicate,
          previous: a.previousStatus,
          queued: a.queued,
          event: a.event && { status: a.event.status, version: a.event.version, previous: a.event.previous_status },
        })),
        messages,
        history,
        events: events.map((e) => {
          const { id: _id, raw_id: _raw, ...rest } = JSON.parse(e.payload) as Record<string, unknown>;
          return rest;
        }),
        deliveries: Number(deliveries.n),
        rollup: await dbh.db
          .selectFrom('stats_rollup')
          .selectAll()
          .where('n', '!=', 0)
          .orderBy('period')
          .orderBy('bucket')
          .orderBy('status')
          .orderBy('error_code')
          .execute(),
      };
    } finally {
      await dbh.close();
    }
  }

  it('gives the same states, history, events and deliveries, in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(report, { maxLength: 3 }), fc.array(report, { minLength: 2, maxLength: 8 }), async (before, batch) => {
        expect(await run(before, batch, true)).toEqual(await run(before, batch, false));
      }),
      { numRuns: 60 },
    );
  });
});

import fc from 'fast-check';
import type { Db } from '../../src/db/connect';
import { createOutbox } from '../../src/outbox/enqueue';
import { countByScan, countMessages, RollupDeltas, type CountRow } from '../../src/status/rollups';
import { applyAll, applyReport, type ApplyContext } from '../../src/status/store';
import { STATUSES, type ProviderReport } from '../../src/status/types';
import { newId } from '../../src/util/ids';
import { readMessageRows } from '../../src/status/stored-form';
import { openTestDatabase, testDialect } from '../helpers/db';

/**
 * A request's reports applied together (applyAll) and one at a time (applyReport) with rows locked
 * as on PostgreSQL (src/status/store.ts applyLocked; on the sqlite project the
 * SQLite bulk path), against the same reports one at a time without locks (insert, select, update):
 * messages, history, events, deliveries, rollups and what each call answers must be the same. Each
 * case runs under accounts of its own in one database.
 */
const AT = new Date('2026-11-26T09:00:00Z');
const RECIPIENTS = ['+8613800000000', '+8613900000000', ''] as const;

/**
 * A report to one of a few messages (three recipients, '' included): statuses, engagements, unmapped
 * codes, some identical. Attributes: `m`, which a later report overwrites, and one of the minute's
 * own, which a merge keeps.
 */
const report = fc
  .record({
    message: fc.constantFrom('m1', 'm2', 'm3'),
    recipient: fc.constantFrom(...RECIPIENTS, RECIPIENTS[0]),
    kind: fc.constantFrom('status', 'status', 'status', 'engagement', 'unmapped'),
    status: fc.constantFrom(...STATUSES),
    minute: fc.integer({ min: 0, max: 2 }),
  })
  .map(({ message, recipient, kind, status, minute }): ProviderReport => {
    const base = { messageId: message, recipient, occurredAt: new Date(Date.UTC(2026, 10, 26, 8, minute)), attributes: { m: minute, [`at${minute}`]: kind } };
    if (kind === 'engagement') return { ...base, type: 'message.engagement', action: 'clicked' };
    const st = kind === 'unmapped' ? null : status;
    return {
      ...base,
      type: 'message.status',
      status: st,
      error: st === 'delivered' || st === 'sent' || st === 'queued' ? null : { code: `E${minute}`, message: minute % 2 ? 'why' : null },
    };
  });

/** What a case starts from: reports applied one by one before, and maybe a registration of m1 for all recipients that the sweep made stale. */
const setup = fc.record({ before: fc.array(report, { maxLength: 3 }), staleRegistration: fc.boolean(), registered: fc.boolean() });

const lockRows = testDialect === 'postgres';

describe(`applyAll with locked rows equals one report at a time (${testDialect})`, () => {
  let dbh: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ dbh, close } = await openTestDatabase('dlr-pg-batch-'));
    await dbh.db
      .insertInto('subscriptions')
      .values({ id: 'sub_1', url: 'https://example.com/hook', secret: 'whsec_x', filter: '{}', enabled: 1, created_at: '', updated_at: '' })
      .execute();
  });
  afterAll(() => close());

  const ctxFor = (trx: Parameters<typeof applyReport>[0], account: string, rawId: string, replay: boolean, locked = lockRows): ApplyContext => ({
    provider: 'aliyun',
    account,
    channel: 'sms',
    rawId,
    receivedAt: AT,
    lockRows: locked,
    finalAfterSeconds: 259200,
    rollup: new RollupDeltas(),
    replay,
    outbox: createOutbox(trx, AT),
  });

  let n = 0;
  /**
   * Applies the setup under a new account, then `batch`: together, one by one, or one by one on the
   * path without row locks (the reference: insert, select, update, as SQLite does); what the
   * database and the calls give.
   */
  async function run(
    s: { before: ProviderReport[]; staleRegistration: boolean; registered: boolean },
    batch: ProviderReport[],
    how: 'together' | 'one by one' | 'unlocked',
    replay: boolean,
  ) {
    const together = how === 'together';
    const locked = how !== 'unlocked' && lockRows;
    const account = `acct_${process.pid}_${(n += 1)}`;
    if (s.registered || s.staleRegistration) {
      const staleAt = s.staleRegistration ? '2026-11-25T09:00:00.000Z' : null;
      await dbh.db
        .insertInto('registrations')
        .values({
          provider: 'aliyun',
          account,
          message_id: 'm1',
          recipient: '',
          reference: 'ref-1',
          metadata: '{"k":1}',
          created_at: '2026-11-22T09:00:00.000Z',
          updated_at: '2026-11-22T09:00:00.000Z',
          final_due_at: null,
          stale_at: staleAt,
        })
        .execute();
      if (staleAt) {
        // the message the sweep made of the registration (src/status/stale.ts), counted in the rollups
        const row = {
          id: newId('msg'),
          provider: 'aliyun',
          account,
          message_id: 'm1',
          recipient: '',
          channel: 'sms',
          status: null,
          error_code: null,
          error_message: null,
          occurred_at: null,
          version: 0,
          attributes: '{}',
          created_at: '2026-11-22T09:00:00.000Z',
          updated_at: staleAt,
          final_due_at: null,
          stale_at: staleAt,
        };
        await dbh.transact(async (trx) => {
          await trx.insertInto('messages').values(row).execute();
          const rollup = new RollupDeltas();
          rollup.add(row, 1);
          await rollup.flush(trx);
        });
      }
    }
    for (const r of s.before) {
      await dbh.transact(async (trx) => {
        const ctx = ctxFor(trx, account, newId('raw'), false, locked);
        await applyReport(trx, ctx, r);
        await ctx.rollup.flush(trx);
      });
    }
    const rawId = newId('raw');
    const applied = await dbh.transact(async (trx) => {
      const ctx = ctxFor(trx, account, rawId, replay, locked);
      if (together) return applyAll(trx, ctx, batch);
      const out = [];
      for (const r of batch) out.push(await applyReport(trx, ctx, r));
      await ctx.rollup.flush(trx);
      return out;
    });
    const messages = await dbh.db
      .selectFrom('messages')
      .select(['message_id', 'recipient', 'status', 'error_code', 'error_message', 'occurred_at', 'version', 'attributes', 'final_due_at', 'stale_at'])
      .where('account', '=', account)
      .orderBy('message_id')
      .orderBy('recipient')
      .execute();
    if (!replay) await expectAttributesFromHistory(account);
    const history = await dbh.db
      .selectFrom('reports')
      .innerJoin('messages', 'messages.id', 'reports.message_pk')
      .select(['message_id', 'recipient', 'reports.status', 'action', 'changed', 'reason', 'dedupe_key'])
      .where('raw_id', '=', rawId)
      .orderBy('reports.id')
      .execute();
    const historyIds = new Set((await dbh.db.selectFrom('reports').select('id').where('raw_id', '=', rawId).execute()).map((r) => r.id));
    const events = await dbh.db.selectFrom('events').select(['id', 'payload']).where('raw_id', '=', rawId).orderBy('id').execute();
    const deliveries = events.length
      ? await dbh.db
          .selectFrom('deliveries')
          .select(['event_id'])
          .where(
            'event_id',
            'in',
            events.map((e) => e.id),
          )
          .orderBy('id')
          .execute()
      : [];
    const registration = await dbh.db.selectFrom('registrations').select('stale_at').where('account', '=', account).executeTakeFirst();
    const byKey = (rows: CountRow[]) => [...rows].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
    const counted = byKey(await countMessages(dbh.db, { provider: 'aliyun', account }));
    expect(counted).toEqual(byKey(await countByScan(dbh.db, { provider: 'aliyun', account })));
    return {
      applied: applied.map((a) => ({
        decision: a.decision,
        duplicate: a.duplicate,
        previous: a.previousStatus,
        queued: a.queued,
        reported: a.reported,
        delay: a.delaySeconds,
        // a replayed duplicate answers with the id it had before; otherwise the id written now
        reportOfThisRequest: historyIds.has(a.reportId),
        event: a.event && {
          type: a.event.type,
          status: a.event.status,
          version: a.event.version,
          previous: a.event.previous_status,
          reference: a.event.reference,
        },
      })),
      messages,
      history,
      events: events.map((e) => {
        const { id: _id, raw_id: _raw, account: _account, ...rest } = JSON.parse(e.payload) as Record<string, unknown>;
        return rest;
      }),
      deliveries: deliveries.map((d) => events.findIndex((e) => e.id === d.event_id)),
      registration: registration ?? null,
      counted,
    };
  }

  /**
   * A message's attributes as read (a row stores '' for its first report's: stored-form.ts) are
   * those of the reports that changed it, merged in order, whichever way the reports went in.
   */
  async function expectAttributesFromHistory(account: string) {
    const rows = await readMessageRows(dbh.db, await dbh.db.selectFrom('messages').select(['id', 'attributes']).where('account', '=', account).execute());
    for (const m of rows) {
      const changes = await dbh.db.selectFrom('reports').select('attributes').where('message_pk', '=', m.id).where('changed', '=', 1).orderBy('id').execute();
      expect(JSON.parse(m.attributes)).toEqual(Object.assign({}, ...changes.map((c) => JSON.parse(c.attributes) as object)));
    }
  }

  it('gives the same states, history, events, deliveries and rollups, in the same order (one by one too)', async () => {
    await fc.assert(
      fc.asyncProperty(setup, fc.array(report, { minLength: 2, maxLength: 10 }), fc.boolean(), async (s, batch, replay) => {
        const reference = await run(s, batch, 'unlocked', replay);
        expect(await run(s, batch, 'together', replay)).toEqual(reference);
        if (lockRows) expect(await run(s, batch, 'one by one', replay)).toEqual(reference);
      }),
      { numRuns: testDialect === 'postgres' ? 80 : 40 },
    );
  });

  it('a replayed batch writes nothing twice', async () => {
    const batch: ProviderReport[] = ['m1', 'm2', 'm1'].map((m, i) => ({
      type: 'message.status',
      messageId: m,
      recipient: RECIPIENTS[0],
      status: i === 2 ? 'delivered' : 'sent',
      error: null,
      occurredAt: new Date(Date.UTC(2026, 10, 26, 8, i)),
      attributes: {},
    }));
    const account = `acct_replay_${process.pid}`;
    const once = async (replay: boolean) => {
      const rawId = newId('raw');
      const applied = await dbh.transact(async (trx) => applyAll(trx, ctxFor(trx, account, rawId, replay), batch));
      return { applied, written: (await dbh.db.selectFrom('reports').select('id').where('raw_id', '=', rawId).execute()).length };
    };
    const first = await once(false);
    expect(first.written).toBe(3);
    const again = await once(true);
    expect(again.written).toBe(0);
    expect(again.applied.map((a) => a.reportId)).toEqual(first.applied.map((a) => a.reportId));
    expect(again.applied.every((a) => a.duplicate && a.event === null)).toBe(true);
  });

  it('concurrent batches over the same messages, in opposite orders, all commit (no deadlock) and count every report', async () => {
    const account = `acct_race_${process.pid}`;
    const ids = Array.from({ length: 40 }, (_, i) => `r${String(i).padStart(2, '0')}`);
    const batchOf = (k: number): ProviderReport[] => {
      const order = k % 2 ? [...ids].reverse() : ids;
      return order.map((m, i) => ({
        type: 'message.status',
        messageId: m,
        recipient: RECIPIENTS[0],
        status: 'sent',
        error: null,
        occurredAt: new Date(Date.UTC(2026, 10, 26, 8, 0, k, i)),
        attributes: { k },
      }));
    };
    const raws = Array.from({ length: 8 }, () => newId('raw'));
    await Promise.all(
      raws.map((rawId, k) =>
        dbh.transact(async (trx) => {
          const ctx = ctxFor(trx, account, rawId, false);
          return applyAll(trx, ctx, batchOf(k));
        }),
      ),
    );
    const messages = await dbh.db.selectFrom('messages').select(['message_id', 'status', 'version']).where('account', '=', account).execute();
    expect(messages).toHaveLength(ids.length);
    // the first report made each message 'sent' (version 1); the 7 later ones are the same status, no change
    expect(messages.every((m) => m.status === 'sent' && m.version === 1)).toBe(true);
    const history = await dbh.db
      .selectFrom('reports')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('raw_id', 'in', raws)
      .executeTakeFirstOrThrow();
    expect(Number(history.n)).toBe(8 * ids.length);
    const counted = await countMessages(dbh.db, { provider: 'aliyun', account });
    expect(counted.reduce((a, r) => a + r.n, 0)).toBe(ids.length);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { openDatabase, type Db } from '../../src/db/connect';
import { migrateTo, migrateToLatest } from '../../src/db/migrate';
import { createOutbox } from '../../src/outbox/enqueue';
import { countByScan, countMessages, foldRollupDeltas, RollupDeltas, type CountRow } from '../../src/status/rollups';
import { stats } from '../../src/status/queries';
import { applyAll } from '../../src/status/store';
import { STATUSES, type ProviderReport } from '../../src/status/types';
import { countryOf } from '../../src/util/country';
import { newId } from '../../src/util/ids';
import { databaseUrlFor, dropDatabaseFor, testDialect } from '../helpers/db';

/**
 * The stats rollups (src/status/rollups.ts) against a full recount of the messages: requests at
 * times spread over minutes and hours, reports that create messages and change their status, and
 * windows whose ends fall anywhere (on a bucket boundary, inside a minute or a second, open).
 */
const T0 = Date.UTC(2026, 10, 30, 22, 58, 30);
/** Offsets in ms from T0: inside a minute, across minute and hour boundaries, and a day later. */
const OFFSETS = [0, 500, 29_999, 30_000, 90_000, 61 * 60_000, 61 * 60_000 + 1, 62 * 60_000 + 30_000, 125 * 60_000, 24 * 3600_000 + 7];

const report = fc
  .record({
    message: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5'),
    provider: fc.constantFrom('aliyun', 'tencent'),
    status: fc.constantFrom(...STATUSES, null),
    code: fc.constantFrom('E1', 'E2', null),
    minute: fc.integer({ min: 0, max: 5 }),
  })
  .map(({ message, provider, status, code, minute }) => ({
    provider,
    report: {
      type: 'message.status',
      messageId: message,
      recipient: RECIPIENTS[message],
      status,
      error: code === null || status === 'delivered' ? null : { code, message: null },
      occurredAt: new Date(T0 + minute * 60_000),
      attributes: {},
    } satisfies ProviderReport,
  }));

/** One per message, of several destinations (the rollups count by country): China, US, UK, a national number, an unknown one. */
const RECIPIENTS: Record<string, string> = { m1: '+8613800000000', m2: '+12025550123', m3: '+447400123456', m4: '13800138000', m5: '+999123' };

const request = fc.record({ at: fc.constantFrom(...OFFSETS), reports: fc.array(report, { minLength: 1, maxLength: 4 }) });
// ends inside a second too (250, 90_000 + 400): only what does not fill a second is counted from the messages
const end = fc.option(fc.constantFrom(...OFFSETS, -1000, 250, 90_000 + 400, 60 * 60_000 - 30_000, 3 * 3600_000), { nil: undefined });

const sorted = (rows: CountRow[]) => [...rows].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));

/** One callback's reports applied as the ingest transaction applies them (rollups included). */
async function ingest(dbh: Db, provider: string, receivedAt: Date, reports: ProviderReport[]): Promise<void> {
  await dbh.transact(async (trx) => {
    const ctx = {
      provider,
      account: 'default',
      channel: 'sms' as const,
      rawId: newId('raw'),
      receivedAt,
      lockRows: dbh.dialect === 'postgres',
      finalAfterSeconds: 259200,
      replay: false,
      outbox: createOutbox(trx, receivedAt),
      rollup: new RollupDeltas(),
    };
    await applyAll(trx, ctx, reports);
  });
}

describe(`stats rollups equal a full recount (${testDialect})`, () => {
  it('after migration 0003 fills them from the messages written before it', async () => {
    const sub = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-rollups-0003-'));
    const dbh = openDatabase(await databaseUrlFor(sub));
    try {
      await migrateTo(dbh, '0002-nonce-users');
      const at = (ms: number) => new Date(T0 + ms).toISOString();
      const rows = OFFSETS.flatMap((o, i) =>
        ['delivered', 'failed', null].map((status, j) => ({
          id: `msg_${i}_${j}`,
          provider: j === 2 ? 'tencent' : 'aliyun',
          account: 'default',
          message_id: `m${i}-${j}`,
          recipient: '+8613800000000',
          channel: 'sms',
          status,
          error_code: status === 'failed' ? `E${i % 3}` : null,
          error_message: null,
          occurred_at: null,
          version: status ? 1 : 0,
          attributes: '{}',
          created_at: at(o),
          updated_at: at(o),
        })),
      );
      await dbh.db.insertInto('messages').values(rows).execute();
      await migrateToLatest(dbh);
      for (const f of [{}, { provider: 'aliyun' }, { since: at(500), until: at(62 * 60_000 + 30_000) }]) {
        const counted = await countMessages(dbh.db, f);
        expect(sorted(counted)).toEqual(sorted(await countByScan(dbh.db, f)));
        expect(counted.length).toBeGreaterThan(0);
      }
    } finally {
      await dbh.close();
      await dropDatabaseFor(sub);
      fs.rmSync(sub, { recursive: true, force: true });
    }
  });

  it('reads from the messages only the parts of a window that fill no second', async () => {
    const sub = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-rollups-seconds-'));
    const db2 = openDatabase(await databaseUrlFor(sub));
    try {
      await migrateToLatest(db2);
      // one message every 250 ms over 40 s of one minute, half of them failed
      for (let i = 0; i < 160; i += 1) {
        const at = new Date(T0 + i * 250);
        await ingest(db2, 'aliyun', at, [
          {
            type: 'message.status',
            messageId: `s${i}`,
            recipient: '+8613800000000',
            status: i % 2 ? 'failed' : 'delivered',
            error: i % 2 ? { code: 'E1', message: null } : null,
            occurredAt: at,
            attributes: {},
          },
        ]);
      }
      const f = { since: new Date(T0 + 600).toISOString(), until: new Date(T0 + 30_300).toISOString() };
      const before = sorted(await countMessages(db2.db, f));
      expect(before).toEqual(sorted(await countByScan(db2.db, f)));
      expect(before.reduce((n, r) => n + r.n, 0)).toBe(119); // 750 ms … 30,250 ms
      // the messages of the window's whole seconds [1 s, 30 s) moved out of it behind the rollups'
      // back: the count stays, so they were never read (before the second rollups, the whole window was)
      await db2.db
        .updateTable('messages')
        .set({ created_at: '2000-01-01T00:00:00.000Z' })
        .where('created_at', '>=', new Date(T0 + 1000).toISOString())
        .where('created_at', '<', new Date(T0 + 30_000).toISOString())
        .execute();
      expect(sorted(await countMessages(db2.db, f))).toEqual(before);
    } finally {
      await db2.close();
      await dropDatabaseFor(sub);
      fs.rmSync(sub, { recursive: true, force: true });
    }
  });

  let dir: string;
  let dbh: Db;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-rollups-'));
  });
  afterAll(async () => {
    await dropDatabaseFor(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('for every window, filter and history of requests', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(end, end, fc.constantFrom(undefined, 'aliyun')), { minLength: 3, maxLength: 6 }),
        async (requests, windows) => {
          const sub = path.join(dir, String((run += 1)));
          fs.mkdirSync(sub);
          dbh = openDatabase(await databaseUrlFor(sub));
          try {
            await migrateToLatest(dbh);
            for (const r of requests) {
              const receivedAt = new Date(T0 + r.at);
              for (const provider of ['aliyun', 'tencent']) {
                const reports = r.reports.filter((x) => x.provider === provider).map((x) => x.report);
                if (reports.length === 0) continue;
                await ingest(dbh, provider, receivedAt, reports);
              }
            }
            for (const [a, b, provider] of windows) {
              const f = {
                provider,
                since: a === undefined ? undefined : new Date(T0 + a).toISOString(),
                until: b === undefined ? undefined : new Date(T0 + b).toISOString(),
              };
              const rolled = await countMessages(dbh.db, f);
              const scanned = await countByScan(dbh.db, f);
              expect(sorted(rolled)).toEqual(sorted(scanned));
            }
            if (dbh.dialect === 'postgres') {
              // the deltas ingest appended, folded into the rollups by the background job: same counts
              expect(
                Number(
                  (
                    await dbh.db
                      .selectFrom('stats_rollup_delta')
                      .select((eb) => eb.fn.countAll<string>().as('n'))
                      .executeTakeFirstOrThrow()
                  ).n,
                ),
              ).toBeGreaterThan(0);
              await foldRollupDeltas(dbh.db);
              expect(
                Number(
                  (
                    await dbh.db
                      .selectFrom('stats_rollup_delta')
                      .select((eb) => eb.fn.countAll<string>().as('n'))
                      .executeTakeFirstOrThrow()
                  ).n,
                ),
              ).toBe(0);
              expect(sorted(await countMessages(dbh.db, windows[0][2] ? { provider: windows[0][2] } : {}))).toEqual(
                sorted(await countByScan(dbh.db, windows[0][2] ? { provider: windows[0][2] } : {})),
              );
            }
            // by destination: the rollups' countries are the recipients' (src/util/country.ts), counted once per message
            if (dbh.dialect === 'postgres') await foldRollupDeltas(dbh.db);
            const byCountry = new Map<string, number>();
            for (const r of await dbh.db.selectFrom('stats_rollup').select(['country', 'n']).where('period', '=', 'h').execute()) {
              byCountry.set(r.country, (byCountry.get(r.country) ?? 0) + Number(r.n));
            }
            const recount = new Map<string, number>();
            for (const m of await dbh.db.selectFrom('messages').select('recipient').execute())
              recount.set(countryOf(m.recipient), (recount.get(countryOf(m.recipient)) ?? 0) + 1);
            expect(new Map([...byCountry].filter(([, n]) => n !== 0))).toEqual(recount);
            // and GET /v1/stats's answer over the whole range is the recount's
            const all = await stats(dbh.db, {});
            expect(all.total).toBe((await countByScan(dbh.db, {})).reduce((s, r) => s + r.n, 0));
            expect(all.total).toBeGreaterThan(0);
          } finally {
            await dbh.close();
            if (testDialect === 'postgres') await dropDatabaseFor(sub);
          }
        },
      ),
      { numRuns: testDialect === 'postgres' ? 15 : 40 },
    );
  });
});

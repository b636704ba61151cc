import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../../src/db/connect';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { databaseUrlFor, testDialect } from '../helpers/db';
import { FIXTURES_DIR } from '../helpers/fixtures';
import { mailgunSigned } from '../helpers/sign';
import { expandFanout } from '../../src/outbox/expand';

/**
 * Concurrent callbacks share commits: on PostgreSQL a group's requests are applied together as one
 * batch in one transaction (src/ingest/ingest.ts groupedIngest, src/db/group-commit.ts
 * batchCommit), on SQLite each in a savepoint of one transaction (groupCommit). Either way the
 * result must be the result of the same requests one at a time in the order they were applied, a
 * request that fails inside a group must fail alone, and no request may be answered before the
 * transaction holding it committed (checked from a connection of the test's own).
 */
const TOKEN = 'group-commit-token';
const MAILGUN_KEY = 'key-group-commit-mailgun-0123456789';

/** An Aliyun SmsReport push of one report, shaped as fixtures/aliyun/smsreport-batch.json. */
function aliyun(bizId: string, phone: string, delivered: boolean, second: number, outId: string): string {
  return JSON.stringify([
    {
      phone_number: phone,
      send_time: '2026-11-26 10:15:02',
      report_time: `2026-11-26 10:15:${String(second).padStart(2, '0')}`,
      success: delivered,
      err_code: delivered ? 'DELIVERED' : 'MK:0001',
      err_msg: delivered ? '用户接收成功' : '号码状态异常',
      sms_size: '1',
      biz_id: bizId,
      out_id: outId,
    },
  ]);
}

/** A seeded shuffle (the same order on every run). */
function shuffled<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i -= 1) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * 60 single-report bodies: eight messages that get three reports each (two of them for a second
 * recipient), delivered and failed at different times, four sent twice byte for byte (duplicates),
 * and 32 messages seen once.
 */
function bodies(): string[] {
  const out: string[] = [];
  for (let m = 0; m < 8; m += 1) {
    const phone = m % 4 === 0 ? '13900139000' : '13800138000';
    out.push(aliyun(`shared-${m}`, '13800138000', true, 10 + m, 'order-1'));
    out.push(aliyun(`shared-${m}`, phone, m % 3 === 0, 20 + m, 'order-2'));
    out.push(aliyun(`shared-${m}`, '13800138000', false, 5 + m, 'order-3'));
    if (m % 2 === 0) out.push(aliyun(`shared-${m}`, '13800138000', true, 10 + m, 'order-1'));
  }
  while (out.length < 60) out.push(aliyun(`single-${out.length}`, '13800138000', out.length % 3 !== 0, 30, 'order-9'));
  return shuffled(out);
}

describe(`concurrent callbacks in shared commits (${testDialect})`, () => {
  let app: TestApp;
  /** A connection of the test's own: it sees only what the server committed. */
  let own: Db;

  beforeAll(async () => {
    const account = { token: TOKEN };
    app = await startTestApp(
      {
        providers: {
          aliyun: { accounts: { seq: account, conc: account, mixed: account } },
          mailgun: { accounts: { default: { signingKey: MAILGUN_KEY } } },
        },
        delivery: { allowPrivateNetworks: true },
      },
      { DLR_WORKER: 'off' },
    );
    own = openDatabase(await databaseUrlFor(app.dir));
    // deliveries stay pending (no worker): one per event the subscription takes
    const created = await fetch(`${app.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }),
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await own?.close();
    await app?.close();
  });

  const post = (account: string, n: number, body: string) =>
    fetch(`${app.url}/v1/callbacks/aliyun/${account}?token=${TOKEN}&n=${n}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  /** The request's raw row as the test's own connection sees it now (committed only). */
  const committedVerdict = async (account: string, n: number) =>
    (await own.db.selectFrom('raw_requests').select('verdict').where('url', '=', `/v1/callbacks/aliyun/${account}?token=${TOKEN}&n=${n}`).executeTakeFirst())
      ?.verdict;

  /** What an account's requests left, without ids and receive times: per message, its row, its history and its events with their deliveries. */
  async function stateOf(account: string) {
    await expandFanout(own); // the worker's step: each event's deliveries (src/outbox/expand.ts)
    const messages = await own.db
      .selectFrom('messages')
      .select(['id', 'message_id', 'recipient', 'status', 'error_code', 'error_message', 'occurred_at', 'version', 'attributes', 'final_due_at', 'stale_at'])
      .where('provider', '=', 'aliyun')
      .where('account', '=', account)
      .orderBy('message_id')
      .orderBy('recipient')
      .execute();
    const out = [];
    for (const { id, final_due_at, ...m } of messages) {
      const history = await own.db
        .selectFrom('reports')
        .innerJoin('raw_requests', 'raw_requests.id', 'reports.raw_id')
        .select([
          'reports.dedupe_key',
          'reports.type',
          'reports.status',
          'reports.error_code',
          'reports.occurred_at',
          'reports.changed',
          'reports.reason',
          'reports.event_id',
        ])
        .select('raw_requests.verdict')
        .where('reports.message_pk', '=', id)
        .orderBy('reports.id')
        .execute();
      const events = await own.db.selectFrom('events').select(['id', 'payload']).where('message_pk', '=', id).orderBy('id').execute();
      const withDeliveries = [];
      for (const e of events) {
        const deliveries = await own.db.selectFrom('deliveries').select(['state']).where('event_id', '=', e.id).execute();
        const { id: _id, raw_id: _raw, received_at: _at, account: _account, ...payload } = JSON.parse(e.payload) as Record<string, unknown>;
        withDeliveries.push({ payload, deliveries: deliveries.map((d) => d.state) });
      }
      out.push({
        ...m,
        due: final_due_at !== null,
        history: history.map(({ event_id, ...h }) => ({ ...h, event: event_id !== null, changed: Number(h.changed) })),
        events: withDeliveries,
      });
    }
    return out;
  }

  it('60 concurrent single-report callbacks leave what the same requests one at a time leave, each answered after its commit', async () => {
    const all = bodies();
    const answers = await Promise.all(
      all.map(async (body, n) => {
        const res = await post('conc', n, body);
        // answered: the request's transaction committed, so another connection sees its row now
        const verdict = await committedVerdict('conc', n);
        return { status: res.status, ack: await res.json(), verdict };
      }),
    );
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.ack).toEqual({ code: 0, msg: '接收成功' });
      expect(['accepted', 'duplicate']).toContain(a.verdict);
    }
    expect(answers.filter((a) => a.verdict === 'duplicate')).toHaveLength(4);

    if (testDialect === 'postgres') {
      // requests shared commits: rows written by one transaction carry its id (xmin)
      const groups = await sql<{ n: string }>`SELECT count(DISTINCT xmin::text) AS n FROM raw_requests WHERE account = 'conc'`.execute(own.db);
      expect(Number(groups.rows[0].n)).toBeLessThan(all.length);
    }

    // the order the server applied them in: history ids are made in that order (monotonic ULIDs)
    const order = await own.db
      .selectFrom('reports')
      .innerJoin('raw_requests', 'raw_requests.id', 'reports.raw_id')
      .select('raw_requests.url')
      .where('raw_requests.account', '=', 'conc')
      .orderBy('reports.id')
      .execute();
    expect(order).toHaveLength(all.length);
    for (const { url } of order) {
      const n = Number(/&n=(\d+)$/.exec(url)![1]);
      const res = await post('seq', n, all[n]);
      expect(res.status).toBe(200);
      expect(await committedVerdict('seq', n)).toBe(answers[n].verdict);
    }

    const concurrent = await stateOf('conc');
    expect(concurrent).toHaveLength(8 + 2 + 32);
    expect(concurrent).toEqual(await stateOf('seq'));
    // every event went to the subscription once
    expect(concurrent.flatMap((m) => m.events).every((e) => e.deliveries.length === 1 && e.deliveries[0] === 'pending')).toBe(true);
    if (testDialect === 'sqlite') {
      // message lists in rowid order (migration 0015) rely on it: shared commits insert messages in the order of their keys
      const keys = (await sql<{ id: string }>`SELECT id FROM messages ORDER BY rowid`.execute(own.db)).rows.map((r) => r.id);
      expect(keys).toHaveLength(2 * (8 + 2 + 32));
      expect(keys).toEqual([...keys].sort());
    }
  });

  it('a request that fails inside a group fails alone: the others in flight with it commit', async () => {
    // A database error on two messages' insert (a trigger), for requests in flight with 40 others;
    // and one Mailgun request sent twice at once with the same signature token (a replay: 401).
    if (testDialect === 'postgres') {
      await sql`CREATE FUNCTION dlr_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.message_id LIKE 'poison%' THEN RAISE EXCEPTION 'poisoned message'; END IF; RETURN NEW; END $$`.execute(
        own.db,
      );
      await sql`CREATE TRIGGER dlr_test_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION dlr_test_poison()`.execute(own.db);
    } else {
      await sql`CREATE TRIGGER dlr_test_poison BEFORE INSERT ON messages WHEN NEW.message_id LIKE 'poison%' BEGIN SELECT RAISE(ABORT, 'poisoned message'); END`.execute(
        own.db,
      );
    }
    try {
      const mailgun = mailgunSigned(fs.readFileSync(path.join(FIXTURES_DIR, 'mailgun/failed-permanent.json')), MAILGUN_KEY);
      const sends = Array.from({ length: 42 }, (_, n) =>
        n === 13 || n === 29 ? aliyun(`poison-${n}`, '13800138000', true, 9, 'order-p') : aliyun(`mixed-${n}`, '13800138000', n % 2 === 0, 9, 'order-m'),
      );
      const [answers, mailgunAnswers] = await Promise.all([
        Promise.all(
          sends.map(async (body, n) => {
            const res = await post('mixed', n, body);
            return { status: res.status, verdict: await committedVerdict('mixed', n) };
          }),
        ),
        Promise.all(
          [0, 1].map(async () => {
            const res = await fetch(`${app.url}/v1/callbacks/mailgun`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: mailgun });
            return res.status;
          }),
        ),
      ]);
      answers.forEach((a, n) => {
        if (n === 13 || n === 29) {
          expect(a.status).toBe(503);
          expect(a.verdict).toBeUndefined(); // nothing of it stored
        } else {
          expect(a.status).toBe(200);
          expect(a.verdict).toBe('accepted');
        }
      });
      expect(mailgunAnswers.sort()).toEqual([200, 401]);
      const mailgunRaw = await own.db.selectFrom('raw_requests').select('verdict').where('provider', '=', 'mailgun').orderBy('verdict').execute();
      expect(mailgunRaw.map((r) => r.verdict)).toEqual(['accepted', 'signature_invalid']);

      const stored = await own.db.selectFrom('messages').select(['message_id', 'status']).where('account', '=', 'mixed').orderBy('message_id').execute();
      expect(stored).toHaveLength(40);
      for (const m of stored) expect(m.status).toBe(Number(m.message_id.slice('mixed-'.length)) % 2 === 0 ? 'delivered' : 'failed');
    } finally {
      await sql`DROP TRIGGER dlr_test_poison ${sql.raw(testDialect === 'postgres' ? 'ON messages' : '')}`.execute(own.db);
    }
  });
});

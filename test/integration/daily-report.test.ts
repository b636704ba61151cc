import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { DateTime } from 'luxon';
import { Pool } from 'pg';
import request from 'supertest';
import type { Database } from '../../src/db/types';
import { csvCell, dailyReport, type DailyRow } from '../../src/status/daily';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { dlr } from '../helpers/cli';
import { databaseUrlFor, testDialect } from '../helpers/db';
import { fixture } from '../helpers/fixtures';

const READ_TOKEN = 'read-only-token-0123456789';
const REPLAY_TOKEN = 'replay-only-token-0123456789';
const read = { authorization: `Bearer ${READ_TOKEN}` };

/**
 * GET /v1/reports/daily and `dlr report` (src/status/daily.ts): counts per local day from the stats
 * rollups. Rollup rows are written directly, as ingest writes them (a message in its minute and its
 * hour), at chosen times: each scenario has days of its own, so the scenarios do not see each other.
 */
interface Seeded {
  /** created_at, UTC, to the minute: `2026-06-01T15:30` */
  at: string;
  provider: string;
  account: string;
  status?: string;
  error_code?: string;
  channel?: string;
  n?: number;
}

async function seed(db: Kysely<Database>, messages: Seeded[], table: 'stats_rollup' | 'stats_rollup_delta' = 'stats_rollup'): Promise<void> {
  const rows = messages.flatMap((m) =>
    (['m', 'h'] as const).map((period) => ({
      period,
      bucket: m.at.slice(0, period === 'm' ? 16 : 13),
      provider: m.provider,
      account: m.account,
      channel: m.channel ?? 'sms',
      country: '',
      status: m.status ?? 'delivered',
      error_code: m.error_code ?? '',
      n: m.n ?? 1,
    })),
  );
  for (const row of rows) {
    if (table === 'stats_rollup_delta') {
      await db.insertInto('stats_rollup_delta').values(row).execute();
      continue;
    }
    await db
      .insertInto('stats_rollup')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['period', 'bucket', 'provider', 'account', 'channel', 'country', 'status', 'error_code'])
          .doUpdateSet((eb) => ({ n: eb('stats_rollup.n', '+', eb.ref('excluded.n')) })),
      )
      .execute();
  }
}

/** One message a UTC hour, at half past, from `from` (inclusive) to `to` (exclusive). */
function hourly(from: string, to: string, provider: string, account: string): Seeded[] {
  const out: Seeded[] = [];
  for (let t = Date.parse(`${from}:00:00Z`); t < Date.parse(`${to}:00:00Z`); t += 3_600_000) {
    out.push({ at: new Date(t + 30 * 60_000).toISOString().slice(0, 16), provider, account });
  }
  return out;
}

type Row = DailyRow;

/** The JSON answer, or a refusal. */
interface Answer {
  since: string;
  until: string;
  by: string[];
  time_zone: string | null;
  rows: Row[];
  error?: string;
  detail?: string;
}

describe(`GET /v1/reports/daily and dlr report (${testDialect})`, () => {
  let app: TestApp;
  let db: Kysely<Database>;
  const daily = async (query: string, expectStatus = 200) =>
    (await request(app.url).get(`/v1/reports/daily?${query}`).set(read).expect(expectStatus)).body as Answer;

  beforeAll(async () => {
    app = await startTestApp(
      {
        providers: {
          // default: Asia/Shanghai
          aliyun: { accounts: { default: {}, ny: { timeZone: 'America/New_York' } } },
          tencent: { accounts: { default: {}, in: { timeZone: 'Asia/Kolkata' } } },
        },
        tokens: [
          { token: READ_TOKEN, scopes: ['read'] },
          { name: 'support', token: REPLAY_TOKEN, scopes: ['replay'] },
        ],
      },
      // no fold on PostgreSQL: the callbacks' counts stay in stats_rollup_delta, which the report reads too
      { DLR_WORKER: 'off' },
    );
    db = app.running.ctx.dbh.db;
  });
  afterAll(() => app.close());

  it('counts a message on the local day of its zone: 23:30 in Shanghai is that day, 00:30 the next', async () => {
    await seed(db, [
      { at: '2026-05-31T16:00', provider: 'aliyun', account: 'default' }, // 06-01 00:00 local
      { at: '2026-06-01T15:30', provider: 'aliyun', account: 'default' }, // 06-01 23:30 local
      { at: '2026-06-01T15:59', provider: 'aliyun', account: 'default', status: 'failed', error_code: 'MK:0001' }, // 06-01 23:59
      { at: '2026-06-01T16:30', provider: 'aliyun', account: 'default' }, // 06-02 00:30
      { at: '2026-05-31T15:59', provider: 'aliyun', account: 'default' }, // 05-31 23:59: outside
      { at: '2026-06-02T16:00', provider: 'aliyun', account: 'default' }, // 06-03 00:00: outside
    ]);
    const body = await daily('since=2026-06-01&until=2026-06-03&provider=aliyun&account=default');
    expect(body).toEqual({
      since: '2026-06-01',
      until: '2026-06-03',
      by: ['day', 'provider', 'account', 'status'],
      time_zone: 'Asia/Shanghai',
      rows: [
        { day: '2026-06-01', time_zone: 'Asia/Shanghai', provider: 'aliyun', account: 'default', status: 'delivered', error_code: null, count: 2 },
        { day: '2026-06-01', time_zone: 'Asia/Shanghai', provider: 'aliyun', account: 'default', status: 'failed', error_code: 'MK:0001', count: 1 },
        { day: '2026-06-02', time_zone: 'Asia/Shanghai', provider: 'aliyun', account: 'default', status: 'delivered', error_code: null, count: 1 },
      ],
    });
    // tz= puts the same messages on UTC days (05-31T16:00Z is on 05-31 there)
    const utc = await daily('since=2026-06-01&until=2026-06-02&provider=aliyun&account=default&tz=UTC&by=day');
    expect(utc).toMatchObject({ time_zone: 'UTC', rows: [{ day: '2026-06-01', time_zone: 'UTC', count: 3 }] });
  });

  it('takes the minute rollups at the edges of a day in a :30 zone (Asia/Kolkata, +05:30)', async () => {
    // local midnight of 07-02 is 07-01T18:30Z, inside the UTC hour 18
    await seed(db, [
      { at: '2026-06-30T18:29', provider: 'tencent', account: 'in' }, // 06-30 23:59 local: outside
      { at: '2026-06-30T18:30', provider: 'tencent', account: 'in' }, // 07-01 00:00
      { at: '2026-07-01T12:00', provider: 'tencent', account: 'in' }, // 07-01 17:30
      { at: '2026-07-01T18:00', provider: 'tencent', account: 'in' }, // 07-01 23:30
      { at: '2026-07-01T18:29', provider: 'tencent', account: 'in' }, // 07-01 23:59
      { at: '2026-07-01T18:30', provider: 'tencent', account: 'in' }, // 07-02 00:00
      { at: '2026-07-01T18:59', provider: 'tencent', account: 'in' }, // 07-02 00:29
      { at: '2026-07-01T19:10', provider: 'tencent', account: 'in' }, // 07-02 00:40
      { at: '2026-07-02T18:29', provider: 'tencent', account: 'in' }, // 07-02 23:59
      { at: '2026-07-02T18:30', provider: 'tencent', account: 'in' }, // 07-03 00:00: outside
    ]);
    const body = await daily('since=2026-07-01&until=2026-07-03&provider=tencent&account=in&by=day,account');
    expect(body.time_zone).toBe('Asia/Kolkata');
    expect(body.rows).toEqual([
      { day: '2026-07-01', time_zone: 'Asia/Kolkata', account: 'in', count: 4 },
      { day: '2026-07-02', time_zone: 'Asia/Kolkata', account: 'in', count: 4 },
    ]);
    // the whole window, not by day (tencent's other account is in Shanghai: no single zone)
    expect(await daily('since=2026-07-01&until=2026-07-03&provider=tencent&by=provider')).toMatchObject({
      time_zone: null,
      rows: [{ time_zone: 'Asia/Kolkata', provider: 'tencent', count: 8 }],
    });
    // the same buckets in a whole-hour zone: the UTC hours 18 fall on one day each
    expect((await daily('since=2026-07-01&until=2026-07-03&provider=tencent&account=in&by=day&tz=Etc/UTC')).rows).toEqual([
      { day: '2026-07-01', time_zone: 'Etc/UTC', count: 6 },
      { day: '2026-07-02', time_zone: 'Etc/UTC', count: 2 },
    ]);
  });

  it('gives a DST day its 23 or 25 hours (America/New_York)', async () => {
    // one message every UTC hour around both changes
    await seed(db, [...hourly('2026-03-07T23', '2026-03-09T10', 'aliyun', 'ny'), ...hourly('2026-10-31T23', '2026-11-02T10', 'aliyun', 'ny')]);
    const spring = await daily('since=2026-03-08&until=2026-03-09&provider=aliyun&account=ny&by=day');
    expect(spring.rows).toEqual([{ day: '2026-03-08', time_zone: 'America/New_York', count: 23 }]);
    const fall = await daily('since=2026-11-01&until=2026-11-02&provider=aliyun&account=ny&by=day');
    expect(fall.rows).toEqual([{ day: '2026-11-01', time_zone: 'America/New_York', count: 25 }]);
    // the days around them: 03-07 from 23Z (18:00 EST) on, 03-09 up to 10Z (06:00 EDT)
    const around = await daily('since=2026-03-07&until=2026-03-10&provider=aliyun&account=ny&by=day');
    expect(around.rows.map((r: Row) => [r.day, r.count])).toEqual([
      ['2026-03-07', 6],
      ['2026-03-08', 23],
      ['2026-03-09', 6],
    ]);
    // in a :30 zone with DST (Newfoundland, -03:30 / -02:30): 23 and 25 hours as well
    expect((await daily('since=2026-11-01&until=2026-11-02&provider=aliyun&account=ny&by=day&tz=America/St_Johns')).rows[0]).toMatchObject({ count: 25 });
  });

  it("counts each account in its own zone, says which, and sums what PostgreSQL's deltas hold too", async () => {
    await seed(db, [
      { at: '2026-08-01T17:00', provider: 'aliyun', account: 'default' }, // Shanghai 08-02 01:00
      { at: '2026-08-01T17:00', provider: 'aliyun', account: 'ny' }, // New York 08-01 13:00
      { at: '2026-08-01T17:00', provider: 'tencent', account: 'in' }, // Kolkata 08-01 22:30
      { at: '2026-08-01T17:00', provider: 'aliyun', account: 'gone', status: 'sent' }, // not configured: Shanghai, 08-02
    ]);
    await seed(
      db,
      [{ at: '2026-08-01T19:00', provider: 'tencent', account: 'in', status: 'failed', error_code: 'E1', channel: 'email' }],
      testDialect === 'postgres' ? 'stats_rollup_delta' : 'stats_rollup',
    ); // Kolkata 08-02 00:30
    const body = await daily('since=2026-08-01&until=2026-08-03');
    expect(body.time_zone).toBeNull();
    expect(body.rows).toEqual([
      { day: '2026-08-01', time_zone: 'America/New_York', provider: 'aliyun', account: 'ny', status: 'delivered', error_code: null, count: 1 },
      { day: '2026-08-01', time_zone: 'Asia/Kolkata', provider: 'tencent', account: 'in', status: 'delivered', error_code: null, count: 1 },
      { day: '2026-08-02', time_zone: 'Asia/Shanghai', provider: 'aliyun', account: 'default', status: 'delivered', error_code: null, count: 1 },
      { day: '2026-08-02', time_zone: 'Asia/Shanghai', provider: 'aliyun', account: 'gone', status: 'sent', error_code: null, count: 1 },
      { day: '2026-08-02', time_zone: 'Asia/Kolkata', provider: 'tencent', account: 'in', status: 'failed', error_code: 'E1', count: 1 },
    ]);
    // by subsets: the columns not asked are left out, rows of different zones stay apart
    expect((await daily('since=2026-08-01&until=2026-08-03&by=provider')).rows).toEqual([
      { time_zone: 'America/New_York', provider: 'aliyun', count: 1 },
      { time_zone: 'Asia/Shanghai', provider: 'aliyun', count: 2 },
      { time_zone: 'Asia/Kolkata', provider: 'tencent', count: 2 },
    ]);
    expect((await daily('since=2026-08-01&until=2026-08-03&by=status,day&provider=aliyun')).rows).toEqual([
      { day: '2026-08-01', time_zone: 'America/New_York', status: 'delivered', error_code: null, count: 1 },
      { day: '2026-08-02', time_zone: 'Asia/Shanghai', status: 'delivered', error_code: null, count: 1 },
      { day: '2026-08-02', time_zone: 'Asia/Shanghai', status: 'sent', error_code: null, count: 1 },
    ]);
    // one zone for all: one row a day
    expect(await daily('since=2026-08-01&until=2026-08-03&by=day&tz=Asia/Shanghai')).toMatchObject({
      time_zone: 'Asia/Shanghai',
      rows: [{ day: '2026-08-02', time_zone: 'Asia/Shanghai', count: 5 }],
    });
    // filters
    expect((await daily('since=2026-08-01&until=2026-08-03&by=account&channel=email')).rows).toEqual([{ time_zone: 'Asia/Kolkata', account: 'in', count: 1 }]);
    expect((await daily('since=2026-08-01&until=2026-08-03&by=account&account=ny')).rows).toEqual([{ time_zone: 'America/New_York', account: 'ny', count: 1 }]);
  });

  it('answers CSV with Accept: text/csv, quoting what needs it and defusing formulas', async () => {
    const codes = ['=HYPERLINK("http://x.example/","click")', '+1', '-5', '@SUM(A1)', 'a,b', 'line\nbreak', 'OK'];
    await seed(
      db,
      codes.map((error_code) => ({ at: '2026-09-01T04:00', provider: 'aliyun', account: 'default', status: 'failed', error_code })),
    );
    const res = await request(app.url)
      .get('/v1/reports/daily?since=2026-09-01&until=2026-09-02&provider=aliyun')
      .set(read)
      .set('accept', 'text/csv')
      .expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="dlr-daily-2026-09-01-2026-09-02.csv"');
    expect(res.headers.vary).toMatch(/Accept/);
    expect(res.text).toBe(
      [
        'day,time_zone,provider,account,status,error_code,count',
        `2026-09-01,Asia/Shanghai,aliyun,default,failed,'+1,1`,
        `2026-09-01,Asia/Shanghai,aliyun,default,failed,'-5,1`,
        `2026-09-01,Asia/Shanghai,aliyun,default,failed,"'=HYPERLINK(""http://x.example/"",""click"")",1`,
        `2026-09-01,Asia/Shanghai,aliyun,default,failed,'@SUM(A1),1`,
        `2026-09-01,Asia/Shanghai,aliyun,default,failed,OK,1`,
        `2026-09-01,Asia/Shanghai,aliyun,default,failed,"a,b",1`,
        `2026-09-01,Asia/Shanghai,aliyun,default,failed,"line\nbreak",1`,
        '',
      ].join('\r\n'),
    );
    // a subset: its columns only; JSON when the client prefers it
    const subset = await request(app.url)
      .get('/v1/reports/daily?since=2026-09-01&until=2026-09-02&by=provider')
      .set(read)
      .set('accept', 'text/csv')
      .expect(200);
    expect(subset.text).toBe('time_zone,provider,count\r\nAsia/Shanghai,aliyun,7\r\n');
    const json = await request(app.url)
      .get('/v1/reports/daily?since=2026-09-01&until=2026-09-02&by=provider')
      .set(read)
      .set('accept', 'application/json, text/csv;q=0.5');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect([csvCell(null), csvCell(3), csvCell('\tx'), csvCell('say "hi"'), csvCell('plain')]).toEqual(['', '3', "'\tx", '"say ""hi"""', 'plain']);
  });

  it('counts what real callbacks left, as GET /v1/stats does', async () => {
    for (const [p, name] of [
      ['aliyun', 'smsreport-batch'],
      ['aliyun', 'seed-no-success'],
      ['tencent', 'status-array'],
    ] as const) {
      const fx = fixture(p, name);
      await request(app.url).post(`/v1/callbacks/${p}`).set('content-type', fx.contentType).send(fx.body.toString('utf8')).expect(200);
    }
    // the messages were created now: today in Shanghai, give or take a midnight
    const today = DateTime.now().setZone('Asia/Shanghai').startOf('day');
    const since = today.minus({ days: 1 });
    const until = today.plus({ days: 2 });
    const body = await daily(`since=${since.toISODate()}&until=${until.toISODate()}&by=provider,status&account=default`);
    const stats = (await request(app.url).get(`/v1/stats?account=default&since=${since.toUTC().toISO()}&until=${until.toUTC().toISO()}`).set(read).expect(200))
      .body;
    const byStatus: Record<string, number> = {};
    for (const r of body.rows) byStatus[r.status!] = (byStatus[r.status!] ?? 0) + r.count;
    expect(byStatus).toEqual(stats.by_status);
    expect(stats.total).toBe(6);
    expect(body.rows).toContainEqual({ time_zone: 'Asia/Shanghai', provider: 'tencent', status: 'failed', error_code: 'MN:0001', count: 1 });
  });

  it('takes at most 400 days, and reads the window of a :30 zone in several statements', async () => {
    await seed(db, [
      { at: '2025-01-01T00:00', provider: 'tencent', account: 'in' }, // 05:30 local on the first day
      { at: '2026-02-04T18:29', provider: 'tencent', account: 'in' }, // 23:59 local on the 400th day
      { at: '2026-02-04T18:30', provider: 'tencent', account: 'in' }, // the 401st day
    ]);
    const body = await daily('since=2025-01-01&until=2026-02-05&provider=tencent&account=in&by=day');
    expect(body.rows).toEqual([
      { day: '2025-01-01', time_zone: 'Asia/Kolkata', count: 1 },
      { day: '2026-02-04', time_zone: 'Asia/Kolkata', count: 1 },
    ]);
    expect(await daily('since=2025-01-01&until=2026-02-06&provider=tencent', 400)).toEqual({
      error: 'bad_request',
      detail: 'the report spans 401 days; at most 400 days per report: narrow since/until',
    });
  });

  it('reads the rollups by primary key, one bucket range after another, never a whole period', async () => {
    // as test/integration/query-plans.test.ts: the statements captured, explained by the database
    // (PostgreSQL with sequential scans priced out of reach: a Seq Scan then means no index serves)
    const captured: CompiledQuery[] = [];
    const log = (e: { level: string; query: CompiledQuery }) => void captured.push(e.query);
    const spy =
      testDialect === 'sqlite'
        ? new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path.join(app.dir, 'dlr.sqlite'), { readonly: true }) }), log })
        : new Kysely<Database>({
            dialect: new PostgresDialect({ pool: new Pool({ connectionString: await databaseUrlFor(app.dir), max: 1, options: '-c enable_seqscan=off' }) }),
            log,
          });
    try {
      // 400 days in a :30 zone: 400 hour ranges (2 statements) and 401 minute ranges (3) per table
      await dailyReport(spy, { since: '2025-01-01', until: '2026-02-05', by: ['day'], zones: { zone: 'Asia/Kolkata' }, provider: 'tencent' });
      // (PostgreSQL reads them on one snapshot: its BEGIN and COMMIT are not reads)
      const reads = captured.splice(0).filter((q) => /^\s*select/i.test(q.sql));
      expect(reads).toHaveLength(testDialect === 'sqlite' ? 5 : 10);
      for (const q of reads) {
        const plan = (
          await spy.executeQuery<Record<string, string>>(
            CompiledQuery.raw(`EXPLAIN ${testDialect === 'sqlite' ? 'QUERY PLAN ' : ''}${q.sql}`, [...q.parameters]),
          )
        ).rows
          .map((r) => r.detail ?? r['QUERY PLAN'])
          .join('\n');
        if (testDialect === 'sqlite') {
          expect(plan).toMatch(/SEARCH stats_rollup USING (INDEX \S+|PRIMARY KEY) \(period=\? AND bucket>\? AND bucket<\?\)/);
          expect(plan).not.toMatch(/SCAN stats_rollup|\(period=\?\)/);
        } else {
          expect(plan).toMatch(/Index/);
          expect(plan).not.toMatch(/Seq Scan/);
        }
      }
    } finally {
      await spy.destroy();
    }
  });

  it('refuses bad parameters with 400, and asks for the read scope', async () => {
    const refusal = async (query: string) => (await daily(query, 400)).detail!;
    expect(await refusal('since=2026-06-02&until=2026-06-02')).toBe('until must be later than since (until is exclusive: the day after the last one)');
    expect(await refusal('since=2026-06-01')).toMatch(/until/);
    expect(await refusal('since=2026-02-30&until=2026-03-02')).toMatch(/^invalid query: since: must match format "date" \(YYYY-MM-DD, e.g. \d{4}-\d\d-\d\d\)$/);
    expect(await refusal('since=2026-06-01T00:00:00Z&until=2026-06-02')).toMatch(/since/);
    expect(await refusal('since=2026-06-01&until=2026-06-02&by=day,week')).toBe('by is a comma list of day, provider, account, status; "week" is none of them');
    expect(await refusal('since=2026-06-01&until=2026-06-02&tz=Mars/Olympus_Mons')).toBe('tz must be an IANA time zone, e.g. Asia/Shanghai');
    expect(await refusal('since=2026-06-01&until=2026-06-02&channel=fax')).toBe('channel must be one of sms, email');
    expect(await refusal('since=2026-06-01&until=2026-06-02&status=failed')).toBe(
      'unknown query parameter "status"; this route takes since, until, by, tz, provider, account, channel',
    );
    await request(app.url).get('/v1/reports/daily?since=2026-06-01&until=2026-06-02').expect(401);
    await request(app.url).get('/v1/reports/daily?since=2026-06-01&until=2026-06-02').set('authorization', `Bearer ${REPLAY_TOKEN}`).expect(403);
    await request(app.url).get('/v1/reports/daily?since=2026-06-01&until=2026-06-02').set('authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
  });

  describe('dlr report (the built bin: npm run build)', () => {
    it('prints the same report as CSV (the default) and as JSON', async () => {
      const args = ['report', '--since', '2026-08-01', '--until', '2026-08-03', '--by', 'day,provider'];
      const csv = await dlr(app.dir, args);
      expect(csv).toMatchObject({ code: 0, stderr: '' });
      const http = await request(app.url)
        .get('/v1/reports/daily?since=2026-08-01&until=2026-08-03&by=day,provider')
        .set(read)
        .set('accept', 'text/csv')
        .expect(200);
      expect(csv.stdout).toBe(http.text);
      expect(csv.stdout.split('\r\n')[0]).toBe('day,time_zone,provider,count');

      const json = await dlr(app.dir, [...args, '--format', 'json', '--tz', 'Asia/Shanghai', '--provider', 'aliyun']);
      expect(json.code).toBe(0);
      expect(json.stdout.endsWith('}\n')).toBe(true);
      expect(JSON.parse(json.stdout)).toEqual(await daily('since=2026-08-01&until=2026-08-03&by=day,provider&tz=Asia/Shanghai&provider=aliyun'));
      expect(JSON.parse(json.stdout).rows).toEqual([{ day: '2026-08-02', time_zone: 'Asia/Shanghai', provider: 'aliyun', count: 3 }]);
    });

    it.each([
      [['--since', '2026-06-01'], /required option '--until <date>' not specified/],
      [['--since', '2026-13-01', '--until', '2026-06-02'], /--since must be a date YYYY-MM-DD/],
      [['--since', '2025-01-01', '--until', '2026-02-06'], /the report spans 401 days; at most 400 days per report/],
      [['--since', '2026-06-02', '--until', '2026-06-01'], /until must be later than since/],
      [['--since', '2026-06-01', '--until', '2026-06-02', '--by', 'week'], /--by is a comma list of day, provider, account, status/],
      [['--since', '2026-06-01', '--until', '2026-06-02', '--tz', 'Mars/Olympus_Mons'], /--tz must be an IANA time zone/],
      [['--since', '2026-06-01', '--until', '2026-06-02', '--format', 'xml'], /argument 'xml' is invalid. Allowed choices are csv, json/],
    ])('exits 2 on bad usage: %j', async (args, message) => {
      const r = await dlr(app.dir, ['report', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    });
  });
});

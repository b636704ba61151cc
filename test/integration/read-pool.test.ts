import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'kysely';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { testDialect } from '../helpers/db';

/**
 * Reads never stall ingest and never hold a client for long (issue #20): on SQLite the API's read
 * queries run on read threads (src/db/read-pool.ts), on PostgreSQL on a pool of their own whose
 * statements end at server.readTimeoutSeconds. A query that takes seconds is made with SQL itself
 * (a recursive count on SQLite, pg_sleep on PostgreSQL), run on the read side as a route would.
 */
const SLOW =
  testDialect === 'sqlite'
    ? sql`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) AS n FROM c`
    : sql`SELECT pg_sleep(5) AS n`;

const aliyun = (id: string) =>
  JSON.stringify([
    {
      phone_number: '13800138000',
      send_time: '2026-11-26 10:15:02',
      report_time: '2026-11-26 10:15:09',
      success: true,
      err_code: 'DELIVRD',
      err_msg: '用户接收成功',
      biz_id: id,
      out_id: 'x',
    },
  ]);

describe(`reads beside ingest, within a time budget (${testDialect})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, { server: { readTimeoutSeconds: 0.5, readThreads: 1 } }));
  });
  afterAll(() => app.close());

  const get = (path: string) => fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

  it('a read past the budget ends with 503 read_timeout, while callbacks go on undelayed', async () => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = Date.now();
    // the one read thread (SQLite) or a read connection (PostgreSQL) is now busy for seconds
    const slow = SLOW.execute(app.running.ctx.dbh.read).then(
      () => 'finished',
      (err: { code?: string; status?: number }) => err.code ?? String(err.status),
    );
    // callbacks are taken and committed meanwhile, one after another
    for (let i = 0; i < 20; i += 1) {
      const res = await fetch(`${app.url}/v1/callbacks/aliyun`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: aliyun(`rp-${i}`) });
      expect(res.status).toBe(200);
    }
    const ingestMs = Date.now() - started;
    expect(await slow).toBe(testDialect === 'sqlite' ? 'read_timeout' : '57014');
    const waited = Date.now() - started;
    delay.disable();
    expect(ingestMs).toBeLessThan(2000);
    expect(waited).toBeLessThan(3000);
    // the slow statement ran beside the event loop, not on it
    // (a statement of seconds on the event loop would stall it for seconds; a loaded CI machine adds its own hundreds of ms)
    expect(delay.max / 1e6).toBeLessThan(500);
    // and the read side serves again: the callbacks are there
    const list = await get('/v1/messages?provider=aliyun&limit=50');
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(20);
  });

  /**
   * The one read thread (SQLite) or read connection (PostgreSQL: readThreads bounds its pool) held
   * for over the budget: on PostgreSQL by statements each under it, in one transaction.
   */
  const holdTheReadSide = () =>
    testDialect === 'sqlite'
      ? SLOW.execute(app.running.ctx.dbh.read)
      : app.running.ctx.dbh.read.transaction().execute(async (trx) => {
          for (let i = 0; i < 3; i += 1) await sql`SELECT pg_sleep(0.4)`.execute(trx);
        });

  it('a route whose query waits past the budget answers 503 with what to do', async () => {
    const slow = holdTheReadSide().catch(() => undefined);
    const res = await get('/v1/stats');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: string; detail: string };
    expect(body.error).toBe('read_timeout');
    expect(body.detail).toMatch(/server\.readTimeoutSeconds/);
    // (SQLite: the held thread is replaced at the budget, and the waiting query may count as running by then)
    if (testDialect === 'postgres') expect(body.detail).toMatch(/read connection\) is busy and this query waited 0\.5 s/);
    await slow;
    // and serves again once the read side is free (SQLite: its replacement thread is up; a loaded machine may take a few tries)
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i += 1) status = (await get('/v1/stats')).status;
    expect(status).toBe(200);
  });

  /** The nice value of each thread of this process (Linux: field 19 of /proc/self/task/TID/stat). */
  const niceOfThreads = () =>
    fs.readdirSync('/proc/self/task').map((tid) => {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return { tid: Number(tid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
    });

  // (Linux only; PostgreSQL's reads run in the database's processes)
  (testDialect === 'sqlite' && process.platform === 'linux' ? it : it.skip)(
    'read threads run at a lower priority than the ingest thread (nice +10): a query handed to one does not take the core from ingest',
    async () => {
      await sql`SELECT 1 AS one`.execute(app.running.ctx.dbh.read);
      const threads = niceOfThreads();
      const own = threads.find((t) => t.tid === process.pid)!.nice; // 0 unless the tests run under nice
      const read = Math.min(19, own + 10);
      // the one read thread of this app (readThreads: 1); every other thread keeps the process's
      expect(threads.filter((t) => t.nice === read).length).toBeGreaterThanOrEqual(1);
      expect(threads.filter((t) => t.nice !== own && t.nice !== read)).toEqual([]);
    },
  );
});

/**
 * PostgreSQL runs reads in processes at ingest's priority, so while ingest is busy the reads take
 * turns and rest after each statement as long as it took (src/db/read-gate.ts); while it is quiet
 * they run side by side. Ingest is kept busy by real callbacks; each read is a statement that
 * sleeps in the server and says when it began and ended there.
 */
(testDialect === 'postgres' ? describe : describe.skip)('PostgreSQL reads yield to a busy ingest', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, { server: { readTimeoutSeconds: 0.5, readThreads: 2 } }));
  });
  afterAll(() => app.close());

  const timedRead = async (seconds: number) => {
    const { rows } = await sql<{ began: Date; ended: Date }>`SELECT statement_timestamp() AS began, pg_sleep(${seconds}), clock_timestamp() AS ended`.execute(
      app.running.ctx.dbh.read,
    );
    return { began: rows[0].began.getTime(), ended: rows[0].ended.getTime() };
  };

  /** Runs `during` while callbacks keep ingest busy, one after another. */
  const whileIngesting = async <T>(during: () => Promise<T>): Promise<T> => {
    let stop = false;
    let n = 0;
    const ingest = (async () => {
      while (!stop) {
        const res = await fetch(`${app.url}/v1/callbacks/aliyun`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: aliyun(`gate-${(n += 1)}`),
        });
        expect(res.status).toBe(200);
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 50));
      return await during();
    } finally {
      stop = true;
      await ingest;
    }
  };

  it('run side by side while ingest is quiet', async () => {
    const [a, b] = await Promise.all([timedRead(0.2), timedRead(0.2)]);
    // both connections at once: each began before the other ended
    expect(a.began).toBeLessThan(b.ended);
    expect(b.began).toBeLessThan(a.ended);
  });

  it('take turns and rest while ingest is busy, and a read whose turn does not come within its budget answers read_timeout', async () => {
    const outcomes = await whileIngesting(() => Promise.allSettled([timedRead(0.15), timedRead(0.15), timedRead(0.15), timedRead(0.15)]));
    const done = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])).sort((x, y) => x.began - y.began);
    // one at a time, each after the rest that followed the one before (as long as it ran, 150 ms; 10 ms of clock slack)
    expect(done.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < done.length; i += 1) expect(done[i].began - done[i - 1].ended).toBeGreaterThanOrEqual(140);
    // the third would begin at 600 ms at the earliest, the fourth at 900: past the 500 ms budget
    const late = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code?: string; status?: number; message: string }] : []));
    expect(late.length).toBeGreaterThanOrEqual(1);
    for (const err of late) {
      expect([err.status, err.code]).toEqual([503, 'read_timeout']);
      expect(err.message).toMatch(/ingest is busy, so reads take turns/);
    }
  });
});

#!/usr/bin/env node
/**
 * `npm run bench`: the built service against the machine's ceiling, over loopback.
 * Writes bench/report.json and prints a table. Each figure is the median of BENCH_RUNS runs (3).
 *
 *   BENCH_RUNS=3 BENCH_SECONDS=5   runs per figure, seconds per load run
 *   DLR_BENCH_PG_URL=postgres://…  an admin URL: adds the PostgreSQL runs (1 and 2 replicas);
 *                                  DLR_TEST_PG_URL is used when this is not set
 *   BENCH_ONLY=ingest_twilio,replay  only these figures (names as in the report); the report is
 *                                  then printed but bench/report.json is left as it was
 *   BENCH_MAIN=path/to/main.js     bench another build (a copy of dist/ made before a change)
 *   BENCH_ONLY=postgres            the PostgreSQL figures (1 and 2 replicas, 100-report batches, pgbench) alone;
 *                                  postgres_1_replica, postgres_2_replicas, postgres_batch, pgbench one by one
 *                                  (postgres_vs_pgbench is reported when postgres_1_replica and pgbench both ran)
 *   PGBENCH=/usr/bin/pgbench       the pgbench binary (default: pgbench on the PATH)
 *   BENCH_ONLY=growth              the growth scenario alone (bench/growth.js: a database of
 *                                  BENCH_GROWTH_MESSAGES, 2,000,000, messages); replaces the
 *                                  report's `growth` key and leaves the rest. Its figures one by
 *                                  one: growth_ingest, growth_reads, growth_mixed, growth_disk,
 *                                  growth_wal, growth_purge (printed only). A full run includes it.
 *   BENCH_ONLY=timeseries_10m      health over time on the rollups of 10 M messages (bench/timeseries.js);
 *                                  replaces results.timeseries_10m of bench/report.json. A full run includes it.
 *   BENCH_ONLY=fanout              single-report ingest with 0, 1, 5 and 20 subscriptions (bench/fanout.js)
 *   BENCH_ONLY=forwarding_lag      the oldest pending delivery at 1,000 reports/s with 5 subscriptions,
 *                                  worker in the service and in its own process (bench/forwarding-lag.js)
 */
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const twilio = require('twilio');

const ROOT = path.resolve(__dirname, '..');
/** BENCH_MAIN: another build's main.js (a copy of dist/ from before a change, for paired runs). */
const MAIN = process.env.BENCH_MAIN ? path.resolve(process.env.BENCH_MAIN) : path.join(ROOT, 'dist/main.js');
/** The service is started as `npm start` starts it: the same node flags (package.json). */
const NODE_FLAGS = require('../package.json')
  .scripts.start.split(' ')
  .filter((a) => a.startsWith('--'));
const BIN = path.join(ROOT, 'bin/dlr.js');
const RUNS = Number(process.env.BENCH_RUNS || 3);
const SECONDS = Number(process.env.BENCH_SECONDS || 5);
const CONNECTIONS = 50;
const FORWARD_EVENTS = 10_000;
const REPLAY_REQUESTS = 10_000;
const ADMIN = 'bench-admin-token-0123456789';
const TOKEN = 'bench-callback-token';
const TWILIO_TOKEN = 'bench-twilio-auth-token-0123456789';
const PUBLIC_URL = 'https://dlr.example.com';
const PG_URL = process.env.DLR_BENCH_PG_URL || process.env.DLR_TEST_PG_URL || '';
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim()) : null;
const wanted = (figure) => !ONLY || ONLY.includes(figure);

const TARGETS = {
  ingest_ratio: 0.25,
  ingest_p99_ms: 20,
  batch_reports_per_s: 30_000,
  forwarding_per_s: 2_000,
  replay_per_s: 5_000,
  peak_rss_mb: 200,
  /** GET /v1/stats/timeseries, a day by the hour, over 10 M messages (p95). */
  timeseries_10m_ms: 200,
  /** Single-report ingest with 20 subscriptions taking every event, against none (#21). */
  fanout_20_ratio: 0.9,
  /** The oldest pending delivery while 1,000 reports/s come in, 5 subscriptions (#21). */
  forwarding_lag_s: 5,
  /** PostgreSQL single reports, 1 replica, against pgbench running the same writes (#21). */
  postgres_vs_pgbench: 0.6,
  postgres_p99_ms: 30,
};

const log = (s) => process.stderr.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function config(extra = {}) {
  return {
    providers: {
      aliyun: { accounts: { default: { token: TOKEN } } },
      twilio: { accounts: { default: { authToken: TWILIO_TOKEN, publicUrl: PUBLIC_URL } } },
    },
    delivery: { allowPrivateNetworks: true, concurrency: 64, maxInFlightPerSubscription: 64 },
    ...extra,
  };
}

/** The built service as its own process (stdout, its JSON logs, discarded as a log shipper would). */
async function startService(dir, env = {}, cfg = config(), { readyTimeoutMs = 10_000, main = MAIN } = {}) {
  const port = await freePort();
  const file = path.join(dir, 'dlr.config.json');
  fs.writeFileSync(file, JSON.stringify(cfg));
  const child = spawn(process.execPath, [...NODE_FLAGS, main], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DLR_CONFIG: file,
      DLR_ADMIN_TOKEN: ADMIN,
      DATABASE_URL: `sqlite:${path.join(dir, 'dlr.sqlite')}`,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const spawned = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited: ${stderr}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() - spawned > readyTimeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`service did not become ready within ${readyTimeoutMs} ms`);
    }
    await sleep(25);
  }
  return {
    url,
    child,
    /** From spawning the process to the first 200 from /readyz, in ms. */
    readyMs: Date.now() - spawned,
    /** Peak resident set size so far, in MB (Linux VmHWM). */
    peakRssMb() {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) / 1024 : null;
      } catch {
        return null;
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The ceiling: a bare node:http server that reads the body and answers 200, in its own process. */
async function startCeiling() {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => { q.on('data', () => {}); q.on('end', () => s.end('ok')); }).listen(${port}, '127.0.0.1', () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.once('data', r));
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) };
}

let seq = 0;
const unique = () => `${process.pid}-${Date.now().toString(36)}-${(seq += 1)}`;

function aliyunBatch(n, tag = unique()) {
  return JSON.stringify(
    Array.from({ length: n }, (_, i) => ({
      phone_number: '13800138000',
      send_time: '2026-11-26 10:15:02',
      report_time: '2026-11-26 10:15:09',
      success: i % 5 !== 0,
      err_code: i % 5 !== 0 ? 'DELIVRD' : 'MK:0001',
      err_msg: i % 5 !== 0 ? '用户接收成功' : '号码状态异常',
      sms_size: '1',
      biz_id: `${tag}-${i}`,
      out_id: 'bench',
    })),
  );
}

function twilioPost() {
  const params = {
    AccountSid: 'ACbench',
    MessageSid: `SM${unique()}`,
    MessageStatus: 'delivered',
    To: '+14155550100',
    From: '+14155550199',
    ApiVersion: '2010-04-01',
  };
  const body = new URLSearchParams(params).toString();
  const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_URL}/v1/callbacks/twilio`, params);
  return { body, signature };
}

/** autocannon with a fresh request body each time; fails the run on any non-2xx answer. */
function cannon(url, { path: p, headers = {}, body, connections = CONNECTIONS, duration = SECONDS, amount, expectStatus = 200, countTimeouts = false }) {
  return new Promise((resolve, reject) => {
    const opts = {
      url,
      connections,
      pipelining: 1,
      ...(amount ? { amount } : { duration }),
      requests: [
        {
          method: 'POST',
          path: p,
          setupRequest(req) {
            const b = body();
            return { ...req, headers: { ...headers, ...(b.headers || {}) }, body: b.body };
          },
        },
      ],
    };
    autocannon(opts, (err, r) => {
      if (err) return reject(err);
      const good = expectStatus === 200 ? r['2xx'] : (r.statusCodeStats?.[expectStatus]?.count ?? 0);
      // countTimeouts: requests autocannon gave up on (10 s) are counted, not a failed run
      const timedOut = countTimeouts ? r.timeouts : 0;
      if (r.errors > timedOut || r.timeouts > timedOut || good !== r.requests.total) {
        return reject(new Error(`${p}: ${r.requests.total} requests, ${good} answered ${expectStatus}, ${r.errors} errors, ${r.timeouts} timeouts`));
      }
      resolve({ rps: good / (r.duration || duration), total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, timeouts: r.timeouts });
    });
  });
}

const aliyunLoad = (n) => ({
  path: `/v1/callbacks/aliyun?token=${TOKEN}`,
  headers: { 'content-type': 'application/json' },
  body: () => ({ body: aliyunBatch(n) }),
});
/**
 * Request bodies made before the clock starts: the load generator shares the cores with the
 * service, and signing a Twilio request costs it about as much as serving one costs the service.
 * Past the pool, bodies are made on the fly.
 */
function pooled(make, size = 12_000 * (SECONDS + 1)) {
  const pool = Array.from({ length: size }, make);
  let next = 0;
  return () => (next < pool.length ? pool[next++] : make());
}
const twilioLoad = () => ({
  path: '/v1/callbacks/twilio',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: pooled(() => {
    const t = twilioPost();
    return { body: t.body, headers: { 'x-twilio-signature': t.signature } };
  }),
});

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-bench-'));
}

async function withService(fn, env, cfg) {
  const dir = tmpdir();
  const svc = await startService(dir, env, cfg);
  try {
    return await fn(svc, dir);
  } finally {
    await svc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let peakRss = 0;
const notePeak = (svc) => {
  peakRss = Math.max(peakRss, svc.peakRssMb() ?? 0);
};

async function ceilingRun() {
  const c = await startCeiling();
  try {
    return await cannon(c.url, { path: '/', body: () => ({ body: aliyunBatch(1) }) });
  } finally {
    await c.stop();
  }
}

async function ingestRun(load) {
  return withService(async (svc) => {
    await cannon(svc.url, { ...load, duration: 1 }); // warm-up
    const r = await cannon(svc.url, load);
    notePeak(svc);
    return r;
  });
}

/** A loopback subscriber that counts deliveries and answers 204. */
async function startSubscriber() {
  let count = 0;
  let onCount = () => undefined;
  const server = http.createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      count += 1;
      res.statusCode = 204;
      res.end();
      onCount();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    count: () => count,
    waitFor(n, ms) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`subscriber got ${count} of ${n}`)), ms);
        onCount = () => {
          if (count >= n) {
            clearTimeout(timer);
            resolve();
          }
        };
        onCount();
      });
    },
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
}

/** 10,000 events queued with no worker running, then a server with its worker delivers them. */
async function forwardingRun() {
  const dir = tmpdir();
  const sub = await startSubscriber();
  try {
    const queue = await startService(dir, { DLR_WORKER: 'off' });
    const created = await fetch(`${queue.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: sub.url }),
    });
    if (created.status !== 201) throw new Error(`subscription: ${created.status}`);
    await cannon(queue.url, { ...aliyunLoad(100), amount: FORWARD_EVENTS / 100, connections: 10 });
    await queue.stop();
    const started = Date.now();
    const svc = await startService(dir, { DLR_WORKER: 'on' });
    await sub.waitFor(FORWARD_EVENTS, 120_000);
    const seconds = (Date.now() - started) / 1000;
    notePeak(svc);
    await svc.stop();
    return { per_s: FORWARD_EVENTS / seconds, seconds };
  } finally {
    await sub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** 10,000 requests refused under a wrong token, then replayed by `dlr replay` after the fix. */
async function replayRun() {
  const dir = tmpdir();
  try {
    const wrong = config();
    wrong.providers.aliyun.accounts.default.token = 'the-wrong-token';
    const svc = await startService(dir, { DLR_WORKER: 'off' }, wrong);
    await cannon(svc.url, { ...aliyunLoad(1), amount: REPLAY_REQUESTS, connections: 10, expectStatus: 401 });
    await svc.stop();
    fs.writeFileSync(path.join(dir, 'dlr.config.json'), JSON.stringify(config()));
    const started = Date.now();
    const out = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'replay', '--verdict', 'signature_invalid', '--limit', String(REPLAY_REQUESTS)], {
        cwd: dir,
        env: { PATH: process.env.PATH, DLR_CONFIG: path.join(dir, 'dlr.config.json'), DATABASE_URL: `sqlite:${path.join(dir, 'dlr.sqlite')}` },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let s = '';
      child.stdout.on('data', (d) => (s += d));
      child.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`dlr replay exited ${code}`))));
    });
    const seconds = (Date.now() - started) / 1000;
    if (!out.includes(`replayed ${REPLAY_REQUESTS}; verdicts {"accepted":${REPLAY_REQUESTS}}`)) throw new Error(`unexpected replay result: ${out}`);
    return { per_s: REPLAY_REQUESTS / seconds, seconds };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * PostgreSQL: ingest with 1 replica, then 2 replicas on one database (the load split between them);
 * `reports` per request (100: the batch figure, whose timed-out requests are counted, not fatal).
 */
async function postgresRun(replicas, reports = 1) {
  const { Client } = require('pg');
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  const { name, url: dbUrl } = await scratchDatabase(admin);
  const dirs = [];
  const services = [];
  try {
    for (let i = 0; i < replicas; i += 1) {
      const dir = tmpdir();
      dirs.push(dir);
      services.push(await startService(dir, { DATABASE_URL: dbUrl }));
    }
    const per = Math.floor(CONNECTIONS / replicas);
    const load = { ...aliyunLoad(reports), connections: per, countTimeouts: reports > 1 };
    await Promise.all(services.map((s) => cannon(s.url, { ...load, duration: 1 })));
    const results = await Promise.all(services.map((s) => cannon(s.url, load)));
    services.forEach(notePeak);
    const rps = results.reduce((a, r) => a + r.rps, 0);
    return { rps, reports_per_s: rps * reports, p99: Math.max(...results.map((r) => r.p99)), timeouts: results.reduce((a, r) => a + r.timeouts, 0) };
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** A database of its own on the bench's PostgreSQL (dropped by the caller): its name and URL. */
async function scratchDatabase(admin) {
  const name = `dlr_bench_${process.pid}_${Date.now()}_${(seq += 1)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/**
 * pgbench's transaction: what a single-report request writes at the least, on the service's own
 * schema (its indexes and foreign keys): the raw request, the message (upserted), its history row,
 * its event, one commit. Ids are random per transaction (`:r`), so every message is new, as in
 * postgresRun's load. The body is an Aliyun report as aliyunBatch(1) makes it.
 */
const PGBENCH_SCRIPT = (() => {
  const raw = `'raw_' || :client_id || '_' || :r`;
  const msg = `'msg_' || :client_id || '_' || :r`;
  const evt = `'evt_' || :client_id || '_' || :r`;
  const received = pgText('2026-11-26T10:15:10.000Z');
  const occurred = pgText('2026-11-26T02:15:09.000Z');
  const attributes = pgText('{"sms_size":"1","out_id":"bench"}');
  const event = pgText(JSON.stringify({ type: 'message.status', provider: 'aliyun', account: 'default', channel: 'sms', status: 'delivered', version: 1 }));
  return [
    '\\set r random(1, 9000000000000000000)',
    'BEGIN;',
    `INSERT INTO raw_requests (id, provider, account, method, url, headers, body, body_size, remote_addr, received_at, verdict, detail, body_encoding) VALUES (${raw}, 'aliyun', 'default', 'POST', '/v1/callbacks/aliyun?token=bench', ${pgText('{"content-type":"application/json","host":"127.0.0.1"}')}, convert_to(${pgText(aliyunBatch(1, 'pgbench'))}, 'UTF8'), 263, '127.0.0.1', ${received}, 'accepted', NULL, NULL);`,
    `INSERT INTO messages (id, provider, account, message_id, recipient, channel, status, error_code, error_message, occurred_at, version, attributes, created_at, updated_at, final_due_at, stale_at) VALUES (${msg}, 'aliyun', 'default', 'pgbench-' || :client_id || '-' || :r, '13800138000', 'sms', 'delivered', 'DELIVRD', NULL, ${occurred}, 1, ${attributes}, ${received}, ${received}, NULL, NULL) ON CONFLICT (provider, account, message_id, recipient) DO NOTHING;`,
    `INSERT INTO reports (id, message_pk, raw_id, dedupe_key, type, status, action, error_code, error_message, occurred_at, received_at, changed, reason, event_id, attributes) VALUES ('rpt_' || :client_id || '_' || :r, ${msg}, ${raw}, 'h-0123456789abcdef0123456789abcdef', 'message.status', 'delivered', NULL, 'DELIVRD', NULL, ${occurred}, ${received}, 1, NULL, ${evt}, ${attributes});`,
    `INSERT INTO events (id, message_pk, raw_id, type, payload, created_at) VALUES (${evt}, ${msg}, ${raw}, 'message.status', ${event}, ${received});`,
    'END;',
    '',
  ].join('\n');
})();

/**
 * A SQL text literal for a pgbench script: pgbench reads `:name` anywhere as a variable (in
 * quotes too), so colons are written as the escape `\x3a` of an E'' string.
 */
function pgText(text) {
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/:/g, '\\x3a')}'`;
}

/** pgbench's TPS for `seconds`: 16 clients, prepared statements (`-M prepared`), 2 threads. */
function pgbench(url, script, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.PGBENCH || 'pgbench', ['-n', '-M', 'prepared', '-c', '16', '-j', '2', '-T', String(seconds), '-r', '-f', script, url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
      const latency = /latency average = ([\d.]+) ms/.exec(out);
      if (code !== 0 || !tps) return reject(new Error(`pgbench exited ${code}: ${out.slice(-2000)}`));
      resolve({ tps: Number(tps[1]), latency_avg_ms: latency ? Number(latency[1]) : null });
    });
  });
}

/**
 * pgbench beside the service (#21): the same writes as a single-report request (PGBENCH_SCRIPT) on
 * a freshly migrated database of the same server, 16 clients, as long as a service run (after a
 * 1-second warm-up, as postgresRun has).
 */
async function pgbenchRun() {
  const { Client } = require('pg');
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  const db = await scratchDatabase(admin);
  const dir = tmpdir();
  try {
    await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'migrate'], { env: { PATH: process.env.PATH, DATABASE_URL: db.url }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dlr migrate exited ${code}: ${err}`))));
    });
    const script = path.join(dir, 'single-report.sql');
    fs.writeFileSync(script, PGBENCH_SCRIPT);
    await pgbench(db.url, script, 1);
    return await pgbench(db.url, script, SECONDS);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await admin.query(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
    await admin.end();
  }
}

async function repeat(name, fn) {
  const runs = [];
  for (let i = 0; i < RUNS; i += 1) {
    log(`${name}: run ${i + 1}/${RUNS}…`);
    runs.push(await fn());
  }
  return runs;
}

function summarize(runs, keys) {
  const out = { runs };
  for (const k of keys) out[k] = round(median(runs.map((r) => r[k])));
  return out;
}

async function main() {
  if (!fs.existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm run bench does)');
  const started = new Date();
  const results = {};
  const growth = require('./growth');
  const growthFigures = growth.FIGURES.filter((f) => wanted(f) || wanted('growth'));
  const growthOnly = ONLY !== null && ONLY.every((f) => f === 'growth' || growth.FIGURES.includes(f));
  if (wanted('ceiling')) results.ceiling = summarize(await repeat('ceiling', ceilingRun), ['rps', 'p50', 'p99']);
  if (wanted('ingest_aliyun')) results.ingest_aliyun = summarize(await repeat('ingest aliyun', () => ingestRun(aliyunLoad(1))), ['rps', 'p50', 'p99']);
  if (wanted('ingest_twilio')) results.ingest_twilio = summarize(await repeat('ingest twilio', () => ingestRun(twilioLoad())), ['rps', 'p50', 'p99']);
  if (wanted('batch_ingest')) {
    results.batch_ingest = summarize(
      (await repeat('batch ingest (100 reports)', () => ingestRun(aliyunLoad(100)))).map((r) => ({ ...r, reports_per_s: r.rps * 100 })),
      ['reports_per_s', 'rps', 'p99'],
    );
  }
  if (wanted('forwarding')) results.forwarding = summarize(await repeat('forwarding', forwardingRun), ['per_s', 'seconds']);
  if (wanted('fanout')) results.fanout = await require('./fanout').fanoutFigure();
  if (wanted('forwarding_lag')) results.forwarding_lag = await require('./forwarding-lag').forwardingLagFigure();
  if (wanted('replay')) results.replay = summarize(await repeat('replay', replayRun), ['per_s', 'seconds']);
  if (wanted('timeseries_10m')) {
    results.timeseries_10m = await require('./timeseries').runTimeseries({
      startService,
      request: growth.request,
      percentile: growth.percentile,
      log,
      round,
      readToken: ADMIN,
    });
  }
  const growthReport = growthFigures.length > 0 ? await growth.runGrowth(growthFigures) : null;
  if (PG_URL && (wanted('postgres') || wanted('postgres_1_replica')))
    results.postgres_1_replica = summarize(await repeat('postgres, 1 replica', () => postgresRun(1)), ['rps', 'p99']);
  if (PG_URL && (wanted('postgres') || wanted('postgres_2_replicas')))
    results.postgres_2_replicas = summarize(await repeat('postgres, 2 replicas', () => postgresRun(2)), ['rps', 'p99']);
  if (results.postgres_1_replica && results.postgres_2_replicas)
    results.postgres_scaling = round(results.postgres_2_replicas.rps / results.postgres_1_replica.rps, 2);
  if (PG_URL && (wanted('postgres') || wanted('postgres_batch')))
    results.postgres_batch = summarize(await repeat('postgres, 100-report batches', () => postgresRun(1, 100)), ['reports_per_s', 'rps', 'p99', 'timeouts']);
  if (PG_URL && (wanted('postgres') || wanted('pgbench')))
    results.pgbench = summarize(await repeat('pgbench, 16 clients, prepared', pgbenchRun), ['tps', 'latency_avg_ms']);
  if (results.postgres_1_replica && results.pgbench) results.postgres_vs_pgbench = round(results.postgres_1_replica.rps / results.pgbench.tps, 2);
  if (ONLY && ONLY.length === 1 && ONLY[0] === 'timeseries_10m') {
    // like growth: its own key of bench/report.json is replaced, the rest left as it was
    const file = path.join(__dirname, 'report.json');
    const report = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
    report.results = { ...report.results, timeseries_10m: results.timeseries_10m };
    if (report.checks) report.checks.timeseries_10m_ms = results.timeseries_10m.meets_target;
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results.timeseries_10m, null, 2)}\nwritten: results.timeseries_10m of bench/report.json\n`);
    return;
  }
  if (ONLY) {
    if (!growthOnly) process.stdout.write(`${JSON.stringify({ ...results, peak_rss_mb: round(peakRss) }, (k, v) => (k === 'runs' ? undefined : v), 2)}\n`);
    if (growthReport) {
      process.stdout.write(`${JSON.stringify(growthReport, (k, v) => (k === 'runs' ? undefined : v), 2)}\n\n${growth.table(growthReport)}\n`);
      const file = path.join(__dirname, 'report.json');
      if (ONLY.length === 1 && ONLY[0] === 'growth') {
        const report = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
        fs.writeFileSync(file, `${JSON.stringify({ ...report, growth: growthReport }, null, 2)}\n`);
        process.stdout.write('written: the growth key of bench/report.json\n');
      }
    }
    return;
  }
  results.peak_rss_mb = round(peakRss);

  const ceiling = results.ceiling.rps;
  const ratio = (r) => round(r / ceiling, 3);
  results.ingest_aliyun.ratio_to_ceiling = ratio(results.ingest_aliyun.rps);
  results.ingest_twilio.ratio_to_ceiling = ratio(results.ingest_twilio.rps);
  const checks = {
    ingest_ratio: Math.min(results.ingest_aliyun.ratio_to_ceiling, results.ingest_twilio.ratio_to_ceiling) >= TARGETS.ingest_ratio,
    ingest_p99_ms: Math.max(results.ingest_aliyun.p99, results.ingest_twilio.p99) <= TARGETS.ingest_p99_ms,
    batch_reports_per_s: results.batch_ingest.reports_per_s >= TARGETS.batch_reports_per_s,
    forwarding_per_s: results.forwarding.per_s >= TARGETS.forwarding_per_s,
    replay_per_s: results.replay.per_s >= TARGETS.replay_per_s,
    peak_rss_mb: results.peak_rss_mb <= TARGETS.peak_rss_mb,
    timeseries_10m_ms: results.timeseries_10m.meets_target,
    fanout_20_ratio: results.fanout.subscriptions_20.ratio_to_none >= TARGETS.fanout_20_ratio,
    forwarding_lag_s:
      Math.min(results.forwarding_lag.in_process.oldest_pending_max_s, results.forwarding_lag.worker_process.oldest_pending_max_s) <= TARGETS.forwarding_lag_s,
  };
  if (results.postgres_vs_pgbench !== undefined) {
    checks.postgres_vs_pgbench = results.postgres_vs_pgbench >= TARGETS.postgres_vs_pgbench;
    checks.postgres_p99_ms = results.postgres_1_replica.p99 <= TARGETS.postgres_p99_ms;
  }

  const cpus = os.cpus();
  const report = {
    date: started.toISOString(),
    machine: {
      cores: cpus.length,
      cpu: cpus[0]?.model ?? 'unknown',
      memory_gb: round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    settings: {
      runs: RUNS,
      seconds: SECONDS,
      connections: CONNECTIONS,
      database: 'sqlite (WAL, synchronous=NORMAL)',
      postgres: PG_URL ? 'yes' : 'not reachable (set DLR_BENCH_PG_URL)',
    },
    targets: TARGETS,
    checks,
    results,
    growth: growthReport,
  };
  fs.writeFileSync(path.join(__dirname, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);

  const rows = [
    ['ceiling (bare node:http)', `${results.ceiling.rps} req/s`, `p50 ${results.ceiling.p50} ms, p99 ${results.ceiling.p99} ms`, ''],
    [
      'ingest, Aliyun (1 report)',
      `${results.ingest_aliyun.rps} req/s`,
      `p50 ${results.ingest_aliyun.p50} ms, p99 ${results.ingest_aliyun.p99} ms`,
      `${round(results.ingest_aliyun.ratio_to_ceiling * 100)} % of ceiling`,
    ],
    [
      'ingest, Twilio (signed)',
      `${results.ingest_twilio.rps} req/s`,
      `p50 ${results.ingest_twilio.p50} ms, p99 ${results.ingest_twilio.p99} ms`,
      `${round(results.ingest_twilio.ratio_to_ceiling * 100)} % of ceiling`,
    ],
    ['batch ingest (100 reports)', `${results.batch_ingest.reports_per_s} reports/s`, `p99 ${results.batch_ingest.p99} ms`, ''],
    ['forwarding (10,000 events)', `${results.forwarding.per_s} deliveries/s`, '', ''],
    [
      'ingest with 1 / 5 / 20 subscriptions',
      ['subscriptions_1', 'subscriptions_5', 'subscriptions_20'].map((k) => `${results.fanout[k].rps}`).join(' / ') + ' req/s',
      `×${results.fanout.subscriptions_1.ratio_to_none} / ×${results.fanout.subscriptions_5.ratio_to_none} / ×${results.fanout.subscriptions_20.ratio_to_none} of none (${results.fanout.subscriptions_0.rps} req/s)`,
      `20: target ×${TARGETS.fanout_20_ratio}`,
    ],
    [
      `forwarding lag at ${results.forwarding_lag.in_process.rate} reports/s, 5 subscriptions`,
      `oldest pending ${results.forwarding_lag.in_process.oldest_pending_max_s} s (worker in its own process: ${results.forwarding_lag.worker_process.oldest_pending_max_s} s)`,
      `${results.forwarding_lag.in_process.deliveries_per_s} deliveries/s, drained ${results.forwarding_lag.in_process.drain_s} s after`,
      `target ≤ ${TARGETS.forwarding_lag_s} s`,
    ],
    ['replay (10,000 requests)', `${results.replay.per_s} requests/s`, 'incl. CLI start', ''],
    [
      'timeseries, a day by the hour, 10 M messages',
      `${results.timeseries_10m.routes.day_by_hour.p95} ms p95`,
      `p50 ${results.timeseries_10m.routes.day_by_hour.p50} ms; by country p95 ${results.timeseries_10m.routes.day_by_hour_by_country.p95} ms`,
      '',
    ],
  ];
  if (PG_URL) {
    rows.push(['PostgreSQL ingest, 1 replica', `${results.postgres_1_replica.rps} req/s`, `p99 ${results.postgres_1_replica.p99} ms`, '']);
    rows.push([
      'pgbench, same writes, 16 clients, prepared',
      `${results.pgbench.tps} TPS`,
      `${round(results.postgres_vs_pgbench * 100)} % of it (target ${TARGETS.postgres_vs_pgbench * 100} %)`,
      `PostgreSQL p99 target ${TARGETS.postgres_p99_ms} ms`,
    ]);
    rows.push([
      'PostgreSQL ingest, 2 replicas',
      `${results.postgres_2_replicas.rps} req/s`,
      `p99 ${results.postgres_2_replicas.p99} ms`,
      `×${results.postgres_scaling}`,
    ]);
    const b = results.postgres_batch;
    rows.push(['PostgreSQL batch ingest (100 reports)', `${b.reports_per_s} reports/s`, `p99 ${b.p99} ms`, b.timeouts ? `${b.timeouts} timeouts` : '']);
  }
  rows.push(['peak RSS of the service', `${results.peak_rss_mb} MB`, '', '']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(
    `\n${report.machine.cores} cores, ${report.machine.cpu}, Node ${report.machine.node}; median of ${RUNS} runs, ${CONNECTIONS} connections\n\n`,
  );
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
  process.stdout.write(
    `\ntargets: ${Object.entries(checks)
      .map(([k, ok]) => `${k} ${ok ? 'met' : 'MISSED'}`)
      .join(', ')}\n`,
  );
  process.stdout.write(`\ngrowth, ${growthReport.database.messages} messages:\n${growth.table(growthReport)}\nwritten: bench/report.json\n`);
}

/** For bench/growth.js, which drives the same service the same way. */
module.exports = {
  ROOT,
  ADMIN,
  TWILIO_TOKEN,
  PUBLIC_URL,
  CONNECTIONS,
  RUNS,
  SECONDS,
  log,
  sleep,
  round,
  median,
  config,
  startService,
  startSubscriber,
  withService,
  cannon,
  aliyunLoad,
};

if (require.main === module) {
  main().catch((err) => {
    log(`bench failed: ${err.stack || err}`);
    process.exit(1);
  });
}

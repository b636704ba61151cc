'use strict';
/**
 * `timeseries_10m` (issue #16): GET /v1/stats/timeseries over the history of 10 million messages —
 * "a day at 1-hour buckets answers in under 200 ms". The answer is summed from rollups
 * (src/status/rollups.ts), so what matters is the rollup rows 10 M messages leave behind, not the
 * messages themselves: this builds exactly those rows, by drawing 10,000,000 messages (and their
 * callbacks and report latencies) over 30 days from a seeded generator and counting them per minute
 * and per hour as ingest would, written straight into the tables of a migrated SQLite database
 * (ingesting 10 M messages through HTTP would take this machine about an hour). Then the built
 * service answers the routes a dashboard asks, BENCH_TS_SAMPLES times each. BENCH_TS_KEEP=DIR keeps
 * the database in DIR and reuses it when it is there (drawing takes a few minutes).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const MESSAGES = Number(process.env.BENCH_TS_MESSAGES || 10_000_000);
const DAYS = 30;
const SAMPLES = Number(process.env.BENCH_TS_SAMPLES || 30);
const TARGET_MS = 200;

const PROVIDERS = [
  ['aliyun', 'sms', ['default', 'b', 'c']],
  ['tencent', 'sms', ['default', 'b']],
  ['twilio', 'sms', ['default']],
  ['vonage', 'sms', ['default']],
  ['huawei-sms', 'sms', ['default']],
  ['sendgrid', 'email', ['default', 'marketing']],
  ['ses', 'email', ['default']],
];
const COUNTRIES = ['CN', 'CN', 'CN', 'CN', 'CN', 'CN', 'US', 'GB', 'DE', 'FR', 'IN', 'BR', 'JP', 'KR', 'SG', 'HK', 'TW', 'ID', 'VN', 'TH', 'MY', 'PH', ''];
const OUTCOMES = [
  ['delivered', ''],
  ['delivered', ''],
  ['delivered', ''],
  ['delivered', ''],
  ['delivered', ''],
  ['delivered', ''],
  ['delivered', ''],
  ['delivered', ''],
  ['sent', ''],
  ['failed', 'UNDELIV'],
  ['failed', 'MK:0001'],
  ['failed', 'IB:0011'],
  ['failed', '30003'],
  ['expired', 'EXPIRED'],
  ['rejected', 'REJECTD'],
  ['queued', ''],
];
const VERDICTS = [
  'accepted',
  'accepted',
  'accepted',
  'accepted',
  'accepted',
  'accepted',
  'accepted',
  'accepted',
  'duplicate',
  'signature_invalid',
  'payload_invalid',
];
const LATENCY_KEYS = ['1', '2', '5', '10', '30', '60', '120', '300', '600', '1800', '3600', '+Inf'];

/** mulberry32: the same history on every run. */
function generator(seed) {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills stats_rollup and series_rollup of the database at `file` with what MESSAGES messages over DAYS days make. */
function buildRollups(file, end) {
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const random = generator(42);
  const pick = (xs) => xs[Math.floor(random() * xs.length)];
  const start = end - DAYS * 86_400_000;
  const perMinute = MESSAGES / (DAYS * 1440);
  const stats = db.prepare(
    'INSERT INTO stats_rollup (period, bucket, provider, account, channel, country, status, error_code, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n',
  );
  const series = db.prepare(
    'INSERT INTO series_rollup (period, series, bucket, provider, account, channel, country, key, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n',
  );
  let drawn = 0;
  const write = db.transaction((minuteStart, count) => {
    const m = new Map();
    const add = (key, n = 1) => m.set(key, (m.get(key) ?? 0) + n);
    for (let i = 0; i < count; i += 1) {
      const [provider, channel, accounts] = pick(PROVIDERS);
      const account = pick(accounts);
      const country = channel === 'email' ? '' : pick(COUNTRIES);
      const [status, code] = pick(OUTCOMES);
      add(`s\u0000${provider}\u0000${account}\u0000${channel}\u0000${country}\u0000${status}\u0000${code}`);
      add(`c\u0000${provider}\u0000${account}\u0000\u0000\u0000${pick(VERDICTS)}`);
      add(`l\u0000${provider}\u0000${account}\u0000${channel}\u0000${country}\u0000${pick(LATENCY_KEYS)}`);
    }
    const iso = new Date(minuteStart).toISOString();
    for (const [key, n] of m) {
      const [kind, ...rest] = key.split('\u0000');
      for (const [period, bucket] of [
        ['m', iso.slice(0, 16)],
        ['h', iso.slice(0, 13)],
      ]) {
        if (kind === 's') stats.run(period, bucket, ...rest, n);
        else series.run(period, kind === 'c' ? 'callback' : 'latency', bucket, ...rest, n);
      }
    }
  });
  for (let t = start; t < end; t += 60_000) {
    // a day's rhythm (the busiest hour about three times the quietest), averaging perMinute
    const hour = new Date(t).getUTCHours();
    const count = Math.round(perMinute * (0.75 + Math.sin(((hour - 6) / 24) * 2 * Math.PI) * 0.25 + 0.5 * random()));
    write(t, count);
    drawn += count;
  }
  const rows = {
    stats_rollup: db.prepare('SELECT count(*) AS n FROM stats_rollup').get().n,
    series_rollup: db.prepare('SELECT count(*) AS n FROM series_rollup').get().n,
  };
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { messages: drawn, rows };
}

async function runTimeseries({ startService, request, log, round, percentile, readToken }) {
  const keep = process.env.BENCH_TS_KEEP;
  const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-bench-timeseries-'));
  const built = path.join(dir, 'built.json');
  try {
    let end;
    let messages;
    let rows;
    if (keep && fs.existsSync(built)) {
      ({ end, messages, rows } = JSON.parse(fs.readFileSync(built, 'utf8')));
      log(`timeseries_10m: reusing the rollups of ${messages.toLocaleString('en')} messages in ${dir}`);
    } else {
      fs.mkdirSync(dir, { recursive: true });
      // an empty database, migrated by the service itself
      const empty = await startService(dir);
      await empty.stop();
      end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      const started = Date.now();
      log(`timeseries_10m: drawing ${MESSAGES.toLocaleString('en')} messages over ${DAYS} days into the rollups…`);
      ({ messages, rows } = buildRollups(path.join(dir, 'dlr.sqlite'), end));
      log(
        `timeseries_10m: ${messages.toLocaleString('en')} messages → ${rows.stats_rollup} stats rows, ${rows.series_rollup} series rows in ${round((Date.now() - started) / 1000)} s`,
      );
      if (keep) fs.writeFileSync(built, JSON.stringify({ end, messages, rows }));
    }
    const svc = await startService(dir);
    try {
      const day = `since=${new Date(end - 86_400_000).toISOString()}&until=${new Date(end).toISOString()}`;
      const routes = {
        day_by_hour: `/v1/stats/timeseries?interval=1h&${day}`,
        day_by_hour_by_provider: `/v1/stats/timeseries?interval=1h&${day}&group_by=provider`,
        day_by_hour_by_country: `/v1/stats/timeseries?interval=1h&${day}&group_by=country`,
        week_by_day: `/v1/stats/timeseries?interval=1d&since=${new Date(end - 7 * 86_400_000).toISOString()}&until=${new Date(end).toISOString()}`,
        hour_by_minute_one_provider: `/v1/stats/timeseries?interval=1m&since=${new Date(end - 3_600_000).toISOString()}&until=${new Date(end).toISOString()}&provider=aliyun`,
      };
      const out = { messages, days: DAYS, rollup_rows: rows, target_ms: TARGET_MS, routes: {} };
      for (const [name, p] of Object.entries(routes)) {
        const headers = { authorization: `Bearer ${readToken}` };
        const first = await request(svc.url, { path: p, headers });
        if (first.status !== 200) throw new Error(`${p} answered ${first.status}`);
        const ms = [];
        for (let i = 0; i < SAMPLES; i += 1) ms.push((await request(svc.url, { path: p, headers })).ms);
        out.routes[name] = { p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)), buckets: JSON.parse(first.body.toString('utf8')).buckets.length };
        log(`timeseries_10m: ${name.padEnd(28)} p50 ${out.routes[name].p50} ms, p95 ${out.routes[name].p95} ms (${out.routes[name].buckets} buckets)`);
      }
      out.meets_target = out.routes.day_by_hour.p95 < TARGET_MS;
      return out;
    } finally {
      await svc.stop();
    }
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runTimeseries };

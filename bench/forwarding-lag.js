#!/usr/bin/env node
/**
 * Forwarding during sustained ingest (issue #21: "at 1,000 reports/s ingest, oldest pending
 * delivery ≤ 5 s throughout"): a SQLite service with its worker on and 5 subscriptions that take
 * every event, all to one loopback subscriber answering 204; single Aliyun reports at a paced
 * BENCH_LAG_RPS (1,000/s, 50 connections) for BENCH_LAG_SECONDS (15 s). Every 500 ms the outbox is
 * read (GET /v1/outbox): the oldest pending delivery's age (whole seconds) and the backlog. After the
 * load, how long the backlog takes to drain (at most 120 s). Measured twice: with the worker in the
 * service's process (`npm start`), and with the service's worker off and `dlr worker` in a process
 * of its own on the same database (docs/operations.md), which can use the other core.
 *
 * Run through `npm run bench` (BENCH_ONLY=forwarding_lag), or alone:
 * `npm run build && node bench/forwarding-lag.js`.
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const bench = require('./run.js');
const { load } = require('./growth.js');

const RATE = Number(process.env.BENCH_LAG_RPS || 1000);
const SECONDS = Number(process.env.BENCH_LAG_SECONDS || 15);
const SUBSCRIPTIONS = 5;
const DRAIN_MAX_MS = 120_000;

/** `dlr worker` on the service's database and configuration, in its own process. */
function startWorkerProcess(dir) {
  const child = spawn(process.execPath, [path.join(bench.ROOT, 'bin/dlr.js'), 'worker'], {
    cwd: dir,
    env: { PATH: process.env.PATH, DLR_CONFIG: path.join(dir, 'dlr.config.json'), DATABASE_URL: `sqlite:${path.join(dir, 'dlr.sqlite')}` },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  return {
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function forwardingLagFigure() {
  return { in_process: await lagRun(false), worker_process: await lagRun(true) };
}

async function lagRun(separateWorker) {
  const sub = await bench.startSubscriber();
  let worker = null;
  try {
    return await bench.withService(
      async (svc, dir) => {
        if (separateWorker) worker = startWorkerProcess(dir);
        const admin = { authorization: `Bearer ${bench.ADMIN}`, 'content-type': 'application/json' };
        for (let i = 0; i < SUBSCRIPTIONS; i += 1) {
          const r = await fetch(`${svc.url}/v1/subscriptions`, { method: 'POST', headers: admin, body: JSON.stringify({ url: `${sub.url}/hook-${i}` }) });
          if (r.status !== 201) throw new Error(`subscription ${i}: ${r.status} ${await r.text()}`);
        }
        const outbox = async () => (await fetch(`${svc.url}/v1/outbox`, { headers: admin })).json();
        const samples = [];
        let loading = true;
        const poll = (async () => {
          while (loading) {
            const o = await outbox();
            samples.push({ pending: o.pending, oldest: o.oldest_pending_age_seconds ?? 0 });
            await bench.sleep(500);
          }
        })();
        const started = Date.now();
        const aliyun = bench.aliyunLoad(1);
        const make = () => ({ path: aliyun.path, headers: aliyun.headers, body: aliyun.body().body });
        const ingest = await load(svc.url, make, { duration: SECONDS, rate: RATE }).done;
        loading = false;
        await poll;
        const loadEnded = Date.now();
        let drainedMs = null;
        while (Date.now() - loadEnded < DRAIN_MAX_MS) {
          if ((await outbox()).pending === 0) {
            drainedMs = Date.now() - loadEnded;
            break;
          }
          await bench.sleep(250);
        }
        return {
          rate: RATE,
          seconds: SECONDS,
          subscriptions: SUBSCRIPTIONS,
          ingest,
          oldest_pending_max_s: Math.max(...samples.map((s) => s.oldest)),
          pending_max: Math.max(...samples.map((s) => s.pending)),
          drain_s: drainedMs === null ? null : bench.round(drainedMs / 1000, 2),
          deliveries_per_s: bench.round(sub.count() / ((Date.now() - started) / 1000)),
        };
      },
      separateWorker ? { DLR_WORKER: 'off' } : {},
    );
  } finally {
    if (worker) await worker.stop();
    await sub.close();
  }
}

module.exports = { forwardingLagFigure, lagRun };

if (require.main === module) {
  forwardingLagFigure()
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err) => {
      bench.log(`forwarding lag failed: ${err.stack || err}`);
      process.exit(1);
    });
}

#!/usr/bin/env node
/**
 * Fan-out (issue #21, "ingest with 20 subscriptions vs none ≥ 0.9"): single-report Aliyun ingest
 * (50 connections, like `ingest_aliyun`) on a fresh SQLite service with 0, 1, 5 and 20
 * subscriptions that take every event, in turns, BENCH_RUNS times each; the ratio of each median to
 * the median with none. The worker is off (DLR_WORKER=off): what is measured is what a subscription
 * adds to the ingest transaction, not the deliveries themselves (those are the `forwarding` figure).
 * The subscriptions point at a loopback subscriber that nothing calls.
 *
 * Run through `npm run bench` (BENCH_ONLY=fanout), or alone: `npm run build && node bench/fanout.js`.
 */
const bench = require('./run.js');

const COUNTS = [0, 1, 5, 20];

async function fanoutRun(subscriptions, subscriberUrl) {
  return bench.withService(
    async (svc) => {
      for (let i = 0; i < subscriptions; i += 1) {
        const r = await fetch(`${svc.url}/v1/subscriptions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bench.ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ url: `${subscriberUrl}/hook-${i}` }),
        });
        if (r.status !== 201) throw new Error(`subscription ${i}: ${r.status} ${await r.text()}`);
      }
      const load = bench.aliyunLoad(1);
      await bench.cannon(svc.url, { ...load, duration: 1 }); // warm-up
      return bench.cannon(svc.url, load);
    },
    { DLR_WORKER: 'off' },
  );
}

/** The figure: per subscription count the median rate and p99, and the ratio to none. */
async function fanoutFigure() {
  const sub = await bench.startSubscriber();
  const runs = new Map(COUNTS.map((n) => [n, []]));
  try {
    for (let i = 0; i < bench.RUNS; i += 1) {
      for (const n of COUNTS) {
        const r = await fanoutRun(n, sub.url);
        bench.log(`fanout, ${n} subscriptions: ${bench.round(r.rps)} req/s, p99 ${r.p99} ms`);
        runs.get(n).push(r);
      }
    }
  } finally {
    await sub.close();
  }
  const out = {};
  const none = bench.median(runs.get(0).map((r) => r.rps));
  for (const n of COUNTS) {
    const rps = bench.median(runs.get(n).map((r) => r.rps));
    out[`subscriptions_${n}`] = { rps: bench.round(rps), p99: bench.median(runs.get(n).map((r) => r.p99)), ratio_to_none: bench.round(rps / none, 3) };
  }
  return out;
}

module.exports = { fanoutFigure };

if (require.main === module) {
  fanoutFigure()
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err) => {
      bench.log(`fanout failed: ${err.stack || err}`);
      process.exit(1);
    });
}

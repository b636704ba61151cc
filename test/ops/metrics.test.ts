import { sweepOnce } from '../../src/outbox/stale-sweep';
import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { startSubscriber, waitFor, type Subscriber } from '../helpers/subscriber';
import { metricNames, panelQueries, parseScrape, readAlerts, readDashboard, variableMetrics, type Sample } from './deploy';

/**
 * The metrics of issue #16 on a real server's /metrics, and the names deploy/ uses: every metric an
 * alert or a dashboard panel reads must be in the scrape, so the rules cannot drift from the code.
 */

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** Short schedule and timeout: a failing subscriber's deliveries die within a second. */
const FAST = { delivery: { retryScheduleSeconds: [0.05, 0.1, 0.1], timeoutSeconds: 1 } };

/** Aliyun's report_time: Asia/Shanghai local time (UTC+8, no daylight saving). */
function shanghaiTime(at: number): string {
  return new Date(at + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

function aliyunReport(bizId: string, occurredAt: number, success = true): string {
  return JSON.stringify([
    { phone_number: '13800138000', biz_id: bizId, report_time: shanghaiTime(occurredAt), success, err_code: success ? 'DELIVRD' : 'UNDELIV' },
  ]);
}

async function postCallback(app: TestApp, path: string, body: string, status = 200) {
  await request(app.url).post(`/v1/callbacks/${path}`).set('content-type', 'application/json').send(body).expect(status);
}

async function scrape(app: TestApp): Promise<{ text: string; samples: Sample[] }> {
  const res = await request(app.url).get('/metrics').expect(200);
  return { text: res.text, samples: parseScrape(res.text) };
}

/** The value of the one sample with this name and (at least) these labels; undefined when none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

describe('metrics on /metrics, with a worker delivering', () => {
  let app: TestApp;
  let ok: Subscriber;
  let failing: Subscriber;
  let gone: Subscriber;
  let samples: Sample[];
  let text: string;
  let before: number;
  let after: number;

  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, FAST));
    // a registered send never reported, found stale by a sweep 4 days on (before any subscription: no delivery)
    await request(app.url).post('/v1/messages').set(admin).send({ provider: 'aliyun', message_id: 'ops-stale' }).expect(201);
    expect(await sweepOnce(app.running.ctx, new Date(Date.now() + 4 * 86_400_000))).toBe(1);
    [ok, failing, gone] = await Promise.all([startSubscriber(() => 200), startSubscriber(() => 500), startSubscriber(() => 410)]);
    for (const sub of [ok, failing, gone]) await request(app.url).post('/v1/subscriptions').set(admin).send({ url: sub.url }).expect(201);
    await request(app.url).post('/v1/messages').set(admin).send({ provider: 'aliyun', message_id: 'ops-1' }).expect(201);
    await request(app.url).post('/v1/messages').set(admin).send({ provider: 'made-up', account: 'x', message_id: 'ops-1' }).expect(201);

    before = Date.now() / 1000;
    const report = aliyunReport('ops-1', Date.now() - 90_000);
    await postCallback(app, 'aliyun', report);
    await postCallback(app, 'aliyun', report); // a duplicate: counted as a callback, not as a report
    after = Date.now() / 1000;
    await postCallback(app, 'made-up', report, 404);
    await postCallback(app, 'aliyun/no-such-account', report, 404);

    // one delivery succeeds, one dies of its retries, one of the subscriber's 410
    await waitFor(async () => {
      const s = parseScrape((await request(app.url).get('/metrics').expect(200)).text);
      return (
        valueOf(s, 'dlr_deliveries_dead_total', { reason: 'retries_exhausted' }) === 1 && valueOf(s, 'dlr_deliveries_dead_total', { reason: 'gone' }) === 1
      );
    }, 'the failing and gone deliveries to die');
    ({ text, samples } = await scrape(app));
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([ok, failing, gone].map((s) => s.close()));
  });

  it('counts applied status reports by status, duplicates left out', () => {
    expect(valueOf(samples, 'dlr_reports_total', { provider: 'aliyun', status: 'delivered' })).toBe(1);
    expect(valueOf(samples, 'dlr_callbacks_total', { provider: 'aliyun', verdict: 'duplicate' })).toBe(1);
  });

  it("times a report from the provider's occurred_at to its receipt", () => {
    const bucket = (le: string) => valueOf(samples, 'dlr_report_latency_seconds_bucket', { provider: 'aliyun', le });
    // 90 s late, and report_time has whole seconds: between 60 and 120 s
    expect([bucket('1'), bucket('60'), bucket('120'), bucket('86400'), bucket('+Inf')]).toEqual([0, 0, 1, 1, 1]);
    expect(valueOf(samples, 'dlr_report_latency_seconds_count', { provider: 'aliyun' })).toBe(1);
  });

  it('stamps the last accepted callback per configured provider and account, and no other', () => {
    const stamp = valueOf(samples, 'dlr_last_callback_timestamp_seconds', { provider: 'aliyun', account: 'default' })!;
    expect(stamp).toBeGreaterThanOrEqual(Math.floor(before));
    expect(stamp).toBeLessThanOrEqual(after + 1);
    const series = samples.filter((s) => s.name === 'dlr_last_callback_timestamp_seconds').map((s) => s.labels);
    expect(series).toEqual([{ provider: 'aliyun', account: 'default' }]);
    // the refused ones are counted under 'unknown', never under a name from the URL
    expect(text).not.toMatch(/made-up|no-such-account/);
    expect(valueOf(samples, 'dlr_callbacks_total', { provider: 'unknown', verdict: 'unknown_provider' })).toBe(2);
  });

  it('counts the messages found stale by provider and account', () => {
    expect(valueOf(samples, 'dlr_messages_stale_total', { provider: 'aliyun', account: 'default' })).toBe(1);
  });

  it('counts registered sends by configured provider and account ("unknown" otherwise)', () => {
    expect(valueOf(samples, 'dlr_registrations_total', { provider: 'aliyun', account: 'default' })).toBe(2);
    expect(valueOf(samples, 'dlr_registrations_total', { provider: 'unknown', account: 'unknown' })).toBe(1);
  });

  it('times delivery attempts by result and counts the deliveries that died', () => {
    expect(valueOf(samples, 'dlr_delivery_duration_seconds_count', { result: 'success' })).toBe(1);
    expect(valueOf(samples, 'dlr_delivery_duration_seconds_count', { result: 'gone' })).toBe(1);
    expect(valueOf(samples, 'dlr_delivery_duration_seconds_count', { result: 'failure' })).toBe(4); // the first attempt and 3 retries
    expect(valueOf(samples, 'dlr_delivery_attempts_total', { result: 'failure' })).toBe(4);
    expect(valueOf(samples, 'dlr_delivery_attempts_total', { result: 'timeout' })).toBe(0); // known results start at 0
    expect(valueOf(samples, 'dlr_deliveries_dead_total', { reason: 'retries_exhausted' })).toBe(1);
    expect(valueOf(samples, 'dlr_deliveries_dead_total', { reason: 'gone' })).toBe(1);
    expect(valueOf(samples, 'dlr_outbox_backlog')).toBe(0);
    expect(valueOf(samples, 'dlr_outbox_oldest_pending_age_seconds')).toBe(0);
  });

  describe('every metric that deploy/ reads is in the scrape', () => {
    const present = () => new Set(samples.map((s) => s.name));

    it.each(readAlerts().map((r) => [r.alert, r.expr]))('alert %s', (_alert, expr) => {
      const names = metricNames(expr);
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !present().has(n))).toEqual([]);
    });

    const dashboard = readDashboard();
    it.each([...panelQueries(dashboard), ...variableMetrics(dashboard)].map((q) => [q.where, q.expr]))('dashboard: %s', (_where, expr) => {
      const names = metricNames(expr);
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !present().has(n))).toEqual([]);
    });
  });
});

describe('metrics of a waiting outbox (no worker)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, FAST), { DLR_WORKER: 'off' });
  });
  afterAll(() => app.close());

  it('reports 0 for the oldest pending age when nothing waits, then its age', async () => {
    expect(valueOf((await scrape(app)).samples, 'dlr_outbox_oldest_pending_age_seconds')).toBe(0);
    await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'http://127.0.0.1:9/hook' }).expect(201);
    await postCallback(app, 'aliyun', aliyunReport('wait-1', Date.now()));
    await new Promise((r) => setTimeout(r, 1100)); // a second old
    const { samples } = await scrape(app);
    expect(valueOf(samples, 'dlr_outbox_backlog')).toBe(1);
    expect(valueOf(samples, 'dlr_outbox_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'dlr_outbox_oldest_pending_age_seconds')).toBeLessThan(30);
  });

  it('times a report whose provider clock runs ahead as 0 s late', async () => {
    const latency = async () => {
      const { samples } = await scrape(app);
      const of = (name: string, labels: Record<string, string> = {}) => valueOf(samples, name, { provider: 'aliyun', ...labels }) ?? 0;
      return {
        fast: of('dlr_report_latency_seconds_bucket', { le: '1' }),
        count: of('dlr_report_latency_seconds_count'),
        sum: of('dlr_report_latency_seconds_sum'),
      };
    };
    const was = await latency();
    await postCallback(app, 'aliyun', aliyunReport('ahead-1', Date.now() + 3600_000));
    expect(await latency()).toEqual({ fast: was.fast + 1, count: was.count + 1, sum: was.sum });
  });
});

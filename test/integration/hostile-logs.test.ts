import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { SNS_CERT, SNS_CERT_URL, SNS_TOPIC } from '../helpers/sign';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const MiB = 1024 * 1024;
/** What a log line may be at most (src/logger.ts caps lines below this). */
const LINE_CAP = 16 * 1024;
/** The bound on the event loop's delay while the hostile requests are handled. */
const DELAY_BOUND_MS = 100;

interface Answer {
  status: number;
  body: string;
}

/** A request to send: `body` ones carry up to 1 MiB, `url` ones a long URL. */
interface Job {
  name: string;
  kind: 'body' | 'url';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/**
 * The 1 MiB bodies go one at a time, alongside the URLs (two at a time): the bound is on what one
 * request costs the event loop. Several 1 MiB bodies that finish in the same turn of the loop add up
 * their plain decoding, parsing and storing whatever their content (server.bodyBudgetBytes bounds
 * how many are held at once).
 */
const LANES = { body: 1, url: 2 };

/** Sends the jobs, each kind in its lanes, both kinds at once; the answers in the jobs' order. */
async function sendAll(app: TestApp, jobs: Job[]): Promise<Answer[]> {
  const answers: Answer[] = new Array(jobs.length);
  const lanes = async (kind: Job['kind']) => {
    const mine = jobs.map((_job, i) => i).filter((i) => jobs[i].kind === kind);
    const lane = async () => {
      for (let i = mine.shift(); i !== undefined; i = mine.shift()) {
        const { method, path, body, headers } = jobs[i];
        answers[i] = await send(app, method, path, body, headers);
      }
    };
    await Promise.all(Array.from({ length: LANES[kind] }, lane));
  };
  await Promise.all([lanes('body'), lanes('url')]);
  return answers;
}

/** One request over its own connection, the bytes as given (node's client sends any path). */
function send(app: TestApp, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const port = Number(new URL(app.url).port);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent: false, headers: body ? { ...headers, 'content-length': String(body.length) } : headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A few ticks of the delay monitor: after enabling it (its first tick only starts its clock, so a
 * block before it would go unseen), and after the last answer (the server writes a request's log
 * line on 'finish', which can come after the client has the answer).
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** `head` + `unit` repeated + `tail`, `size` characters at most (ASCII: as many bytes). */
function fill(head: string, unit: string, tail: string, size: number): string {
  return head + unit.repeat(Math.floor((size - head.length - tail.length) / unit.length)) + tail;
}

/**
 * Attacker text aimed at each pattern that log lines pass through: the e-mail pattern (a long run of
 * word characters before "@" or "%40", and a long domain that never ends in a TLD), the phone
 * pattern (digit runs), the secret-member pattern ("secret": shapes) and the URL redaction.
 */
const SHAPES: [string, (size: number) => string][] = [
  ['word characters then @a', (n) => fill('', 'a', '@a', n)],
  ['word characters then %40a', (n) => fill('', 'a', '%40a', n)],
  ['a long local part before a domain without TLD', (n) => fill('x'.repeat(n / 2), 'a-1.', '', n)],
  ['digits', (n) => fill('', '1', '', n)],
  ['seven digits and a dot, repeated', (n) => fill('', '1234567.', '', n)],
  ['"secret": shapes', (n) => fill('', '"secret":"token":', '', n)],
];

const TENCENT = (status: string) => Buffer.from(JSON.stringify([{ mobile: '13800138000', nationcode: '86', report_status: status, sid: 's-1' }]));
const SES = (over: Record<string, string>) =>
  Buffer.from(
    JSON.stringify({
      Type: 'Notification',
      MessageId: 'm-1',
      TopicArn: SNS_TOPIC,
      Message: '{}',
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      Signature: 'AAAA',
      SigningCertURL: SNS_CERT_URL,
      ...over,
    }),
  );

describe('hostile text on its way to the logs', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(
      {
        ...seedConfig(),
        providers: {
          ...(seedConfig() as { providers: object }).providers,
          ses: { accounts: { default: { topicArns: [SNS_TOPIC], certificates: { [SNS_CERT_URL]: SNS_CERT } } } },
        },
      },
      { DLR_WORKER: 'off' },
    );
  });
  afterAll(() => app.close());

  /** The hostile requests, with bodies of `body` bytes and URLs of `url` characters (and of `long`: refused by node). */
  function hostileJobs(body: number, url: number, long: number): Job[] {
    const json = { 'content-type': 'application/json' };
    const xml = { 'content-type': 'application/xml' };
    const text = { 'content-type': 'text/plain' };
    const post = (name: string, path: string, bytes: Buffer, headers: Record<string, string>): Job => ({
      name,
      kind: 'body',
      method: 'POST',
      path,
      headers,
      body: bytes,
    });
    const get = (name: string, path: string): Job => ({ name, kind: 'url', method: 'GET', path, headers: {} });
    const jobs: Job[] = [];
    // Every shape in Tencent's report_status (the case the issue measured) and in the URLs; each
    // other field that a refusal repeats with two of them in turn (all of them end in the same cut).
    SHAPES.forEach(([name, shape], i) => {
      jobs.push(
        post(`tencent report_status: ${name}`, '/v1/callbacks/tencent', TENCENT(shape(body - 100)), json),
        { ...post(`16 KB callback URL: ${name}`, `/v1/callbacks/tencent?q=${shape(url)}`, Buffer.from('{}'), json), kind: 'url' },
        get(`16 KB API URL: ${name}`, `/v1/messages?recipient=${shape(url)}`),
        get(`64 KB URL: ${name}`, `/v1/callbacks/tencent?q=${shape(long)}`),
      );
      const others: Job[] = [
        post(`cloopen JSON action: ${name}`, '/v1/callbacks/ronglian', Buffer.from(JSON.stringify({ Request: { action: shape(body - 40) } })), json),
        post(
          `cloopen XML action (60 KB): ${name}`,
          '/v1/callbacks/ronglian',
          Buffer.from(`<Request><action>${shape(Math.min(body, 60_000)).replace(/[<&"]/g, 'x')}</action></Request>`),
          xml,
        ),
        post(`ses Type: ${name}`, '/v1/callbacks/ses', SES({ Type: shape(body - 400) }), text),
        post(`ses TopicArn: ${name}`, '/v1/callbacks/ses', SES({ TopicArn: shape(body - 400) }), text),
        post(`ses SigningCertURL: ${name}`, '/v1/callbacks/ses', SES({ SigningCertURL: `https://${shape(body - 400)}` }), text),
      ];
      jobs.push(...others.filter((_job, k) => k % 3 === i % 3));
    });
    jobs.push(
      post('cloopen XML action of 1 MiB', '/v1/callbacks/ronglian', Buffer.from(fill('<Request><action>', 'a', '@a</action></Request>', body)), xml),
      {
        ...post('16 KB URL of query parameters named %74oken', `/v1/callbacks/tencent?${fill('', '%74oken=a&', '', url)}`, Buffer.from('{}'), json),
        kind: 'url',
      },
      // over the API's 256 KB JSON limit (413), and under it but refused (400: message_id is at most 512)
      post(
        '1 MiB JSON body to an API route',
        '/v1/messages',
        Buffer.from(JSON.stringify({ provider: 'aliyun', message_id: 'm', metadata: { note: fill('', 'a', '@a', Math.max(body - 100, 300_000)) } })),
        { ...json, ...admin },
      ),
      post(
        '250 KB JSON body to an API route',
        '/v1/messages',
        Buffer.from(JSON.stringify({ provider: 'aliyun', message_id: fill('', 'a', '@a', Math.min(body, 250_000)) })),
        { ...json, ...admin },
      ),
    );
    return jobs;
  }

  it('keeps the event loop responsive (delay under 100 ms), answers 4xx, and bounds every answer and log line', async () => {
    // The same requests, small, first: the bound is on what input costs, not on compiling each path once.
    await sendAll(app, hostileJobs(4096, 4096, 64 * 1024));
    // The case at 64 KB, alone: a pattern that turns quadratic again fails here in seconds
    // (at 48 KB the old e-mail pattern held the loop for 5 s) rather than blocking for hours at 1 MiB.
    const canary = monitorEventLoopDelay({ resolution: 10 });
    canary.enable();
    await settle();
    await send(app, 'POST', '/v1/callbacks/tencent', TENCENT(fill('', 'a', '@a', 64 * 1024)), { 'content-type': 'application/json' });
    await settle();
    canary.disable();
    expect(canary.max / 1e6).toBeLessThan(1000);
    // Best of three runs for the delay: a pattern that is slow on this input is slow every time, while
    // a busy machine (other processes on its cores) makes one run late now and then. Everything
    // else must hold in every run.
    const runs: { delay: { maxMs: number; p99Ms: number }; notClientErrors: object[]; largeAnswers: object[] }[] = [];
    for (let run = 0; run < 3 && !runs.some((r) => r.delay.maxMs < DELAY_BOUND_MS && r.delay.p99Ms < DELAY_BOUND_MS); run += 1) {
      const jobs = hostileJobs(MiB - 256, 15_000, 64 * 1024); // the body limit is 1 MiB; node takes URLs up to ~16 KB
      const histogram = monitorEventLoopDelay({ resolution: 10 });
      histogram.enable();
      await settle();
      const answers = await sendAll(app, jobs);
      await settle();
      histogram.disable();
      const results = jobs.map(({ name }, i) => ({ name, status: answers[i].status, chars: answers[i].body.length }));
      runs.push({
        delay: { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 },
        notClientErrors: results.filter((r) => r.status < 400 || r.status >= 500),
        largeAnswers: results.filter((r) => r.chars >= 2048),
      });
      // the 16 KB URLs got through; node itself refused the 64 KB ones (431, before any of our code)
      expect(results.filter((r) => r.name.startsWith('16 KB')).map((r) => r.status)).not.toContain(431);
      expect(new Set(results.filter((r) => r.name.startsWith('64 KB')).map((r) => r.status))).toEqual(new Set([431]));
    }
    // one assertion with everything in it: a failure shows all the numbers
    const outcome = {
      runs,
      delayWithinBound: runs.some((r) => r.delay.maxMs < DELAY_BOUND_MS && r.delay.p99Ms < DELAY_BOUND_MS),
      longLines: app.logs.filter((l) => l.length >= LINE_CAP).map((l) => l.length),
      invalidLines: app.logs.filter((l) => !isJson(l)).length,
    };
    expect(outcome).toEqual({
      runs: runs.map((r) => ({ delay: r.delay, notClientErrors: [], largeAnswers: [] })),
      delayWithinBound: true,
      longLines: [],
      invalidLines: 0,
    });
  }, 120_000);

  it('bounds the answer, the raw log detail and the log line of 1 MiB of unclosed XML tags (and of 60 KB, under the XML size cap)', async () => {
    for (const size of [MiB - 256, 60_000]) {
      const tags = Buffer.from(fill('', '<a>', '', size));
      const res = await send(app, 'POST', '/v1/callbacks/ronglian', tags, { 'content-type': 'application/xml', 'x-case': `tags-${size}` });
      expect(res.status).toBe(400);
      expect(res.body.length).toBeLessThan(2048);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'payload_invalid' });
      const raws = await request(app.url).get('/v1/raw?provider=ronglian&limit=1').set(admin).expect(200);
      const item = raws.body.items[0] as { headers: Record<string, string>; detail: string; body_size: number };
      expect(item.headers['x-case']).toBe(`tags-${size}`);
      expect(item.body_size).toBe(tags.length);
      expect(item.detail.length).toBeLessThan(400);
      const line = app.logs.find((l) => l.includes(`"raw_id":"${(raws.body.items[0] as { id: string }).id}"`));
      expect(line).toBeDefined();
      expect(line!.length).toBeLessThan(2048);
    }
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('secrets in other spellings of a query parameter', () => {
  const SECRET = 'spelled-token-0123456789';
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ providers: { aliyun: { accounts: { guarded: { token: SECRET } } } } }, { DLR_WORKER: 'off' });
  });
  afterAll(() => app.close());

  it('redacts ?%74oken= (which authenticates), access_token and kin in the logs and in /v1/raw', async () => {
    const report = (id: string) => JSON.stringify([{ phone_number: '13800138000', biz_id: id, success: true, report_time: '2024-05-06 10:15:09' }]);
    // both spellings authenticate (src/ingest/access.ts reads the query as URLSearchParams does)
    await request(app.url).post(`/v1/callbacks/aliyun/guarded?%74oken=${SECRET}`).set('content-type', 'application/json').send(report('spelled-1')).expect(200);
    await request(app.url)
      .post(`/v1/callbacks/aliyun/guarded?x=1&to%6Ben=${SECRET}`)
      .set('content-type', 'application/json')
      .send(report('spelled-2'))
      .expect(200);
    for (const spelling of ['access_token', 'Access%5FToken', 'client_secret', 'api_key', 'x-api-key', 'password']) {
      await request(app.url)
        .post(`/v1/callbacks/aliyun/guarded?${spelling}=${SECRET}-${spelling}`)
        .set('content-type', 'application/json')
        .send(report('spelled-3'))
        .expect(401);
    }
    const raws = await request(app.url).get('/v1/raw?provider=aliyun&limit=20').set(admin).expect(200);
    const items = raws.body.items as { id: string; url: string; verdict: string }[];
    expect(items).toHaveLength(8);
    expect(items.map((i) => i.verdict).sort()).toEqual([...Array(6).fill('signature_invalid'), 'accepted', 'accepted'].sort());
    for (const item of items) expect(item.url).toMatch(/=\[redacted\]$/);
    const one = await request(app.url).get(`/v1/raw/${items[0].id}`).set(admin).expect(200);
    expect(one.body.url).toMatch(/=\[redacted\]$/);
    const everything = JSON.stringify(raws.body) + JSON.stringify(one.body) + app.logs.join('\n');
    expect(everything).not.toContain(SECRET);
    expect(app.logs.filter((l) => l.includes('/v1/callbacks/aliyun/guarded?'))).toHaveLength(8);
  });
});

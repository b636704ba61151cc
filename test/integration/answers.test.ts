/**
 * Answers people can act on (issue #18): every 4xx the API gives, over real HTTP, carries a
 * `detail` that says what to do — which value was not found, which values are allowed, which token
 * or scope is needed, what to send instead — and repeats what the request said only cut short.
 */
import net from 'node:net';
import request from 'supertest';
import { MAX_DETAIL_CHARS } from '../../src/errors';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { fixture } from '../helpers/fixtures';
import { postBytes } from '../helpers/callbacks';
import { mailgunSigned } from '../helpers/sign';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const READ_TOKEN = 'answers-read-token-0123456789';
const REPLAY_TOKEN = 'answers-replay-token-0123456789';
const json = { 'content-type': 'application/json' };
const MISSING_RAW = 'raw_01JD0000000000000000000000';
const MISSING_SUB = 'sub_01JD0000000000000000000000';
const MISSING_DLV = 'dlv_01JD0000000000000000000000';

const config = {
  providers: {
    aliyun: { accounts: { default: {} } },
    tencent: { accounts: { default: {} } },
    mailgun: { accounts: { default: { signingKey: 'key-answers-signing-key' } } },
  },
  tokens: [
    { name: 'reader', token: READ_TOKEN, scopes: ['read'] },
    { name: 'support', token: REPLAY_TOKEN, scopes: ['replay'] },
  ],
  server: { bodyLimitBytes: 1024, bodyTimeoutSeconds: 0.5, rateLimit: { api: { windowSeconds: 60, max: 1000 }, callbacks: false } },
  delivery: { allowPrivateNetworks: true },
};

/** The answer is a 4xx `{error, detail}` whose detail is bounded and contains every hint. */
function actionable(res: { status: number; body: { error?: unknown; detail?: unknown } }, status: number, error: string, hints: (string | RegExp)[]): string {
  expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
  const detail = res.body.detail;
  expect(typeof detail).toBe('string');
  expect((detail as string).length).toBeLessThanOrEqual(MAX_DETAIL_CHARS);
  for (const hint of hints) {
    if (typeof hint === 'string') expect(detail).toContain(hint);
    else expect(detail).toMatch(hint);
  }
  return detail as string;
}

describe('every 4xx says what to do', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(config, { DLR_WORKER: 'off' });
    // one message id, two recipients (Aliyun batches): GET without ?recipient= is ambiguous
    const fx = fixture('aliyun', 'smsreport-batch');
    await postBytes(app, '/v1/callbacks/aliyun', fx.body, json).expect(200);
  });
  afterAll(() => app.close());

  describe('401 and 403 name the token and the scope', () => {
    it('no token: how to send one', async () => {
      actionable(await request(app.url).get('/v1/messages'), 401, 'unauthorized', ['Authorization: Bearer <token>', 'DLR_ADMIN_TOKEN']);
    });
    it('an unknown token: which tokens are valid', async () => {
      const res = await request(app.url).get('/v1/stats').set('authorization', 'Bearer nope-not-a-token');
      actionable(res, 401, 'unauthorized', ['not valid', 'DLR_ADMIN_TOKEN', '"tokens"']);
    });
    it('a token without the scope: the scope needed and the scopes it holds', async () => {
      const read = { authorization: `Bearer ${READ_TOKEN}` };
      actionable(await request(app.url).post('/v1/subscriptions').set(read).send({ url: 'https://example.com/h' }), 403, 'forbidden', [
        '"admin" scope',
        'it holds "read"',
      ]);
      actionable(await request(app.url).post('/v1/replay').set(read).send({ dry_run: true }), 403, 'forbidden', ['"replay" scope']);
      const replay = { authorization: `Bearer ${REPLAY_TOKEN}` };
      actionable(await request(app.url).get('/v1/raw').set(replay), 403, 'forbidden', ['"read" scope', 'it holds "replay"']);
    });
  });

  describe('404 names what was not found', () => {
    const cases: [string, string, () => request.Test, string[]][] = [
      ['a route', 'GET /v1/nothing-here', () => request(app.url).get('/v1/nothing-here').set(admin), ['route "GET /v1/nothing-here"', 'GET /v1/openapi.json']],
      ['a raw request', 'GET /v1/raw/:id', () => request(app.url).get(`/v1/raw/${MISSING_RAW}`).set(admin), [`raw request "${MISSING_RAW}"`, 'GET /v1/raw']],
      ['a raw body', 'GET /v1/raw/:id/body', () => request(app.url).get(`/v1/raw/${MISSING_RAW}/body`).set(admin), [`"${MISSING_RAW}"`]],
      [
        'a raw request to replay',
        'POST /v1/raw/:id/replay',
        () => request(app.url).post(`/v1/raw/${MISSING_RAW}/replay`).set(admin).send({ dry_run: true }),
        [`"${MISSING_RAW}"`, 'retention.rawDays'],
      ],
      [
        'a message',
        'GET /v1/messages/:provider/:id',
        () => request(app.url).get('/v1/messages/aliyun/no-such-id?recipient=13800138000').set(admin),
        ['message "no-such-id"', 'provider "aliyun"', 'recipient "13800138000"', 'GET /v1/search'],
      ],
      [
        'a subscription',
        'GET',
        () => request(app.url).get(`/v1/subscriptions/${MISSING_SUB}`).set(admin),
        [`subscription "${MISSING_SUB}"`, 'GET /v1/subscriptions'],
      ],
      ['a subscription', 'PATCH', () => request(app.url).patch(`/v1/subscriptions/${MISSING_SUB}`).set(admin).send({ enabled: false }), [`"${MISSING_SUB}"`]],
      ['a subscription', 'DELETE', () => request(app.url).delete(`/v1/subscriptions/${MISSING_SUB}`).set(admin), [`"${MISSING_SUB}"`]],
      ['a subscription', 'rotate-secret', () => request(app.url).post(`/v1/subscriptions/${MISSING_SUB}/rotate-secret`).set(admin), [`"${MISSING_SUB}"`]],
      ['a subscription', 'retry-dead', () => request(app.url).post(`/v1/subscriptions/${MISSING_SUB}/retry-dead`).set(admin), [`"${MISSING_SUB}"`]],
      ['a subscription', 'deliveries', () => request(app.url).get(`/v1/subscriptions/${MISSING_SUB}/deliveries`).set(admin), [`"${MISSING_SUB}"`]],
      ['a delivery', 'GET', () => request(app.url).get(`/v1/deliveries/${MISSING_DLV}`).set(admin), [`delivery "${MISSING_DLV}"`, '/deliveries']],
      ['a delivery', 'retry', () => request(app.url).post(`/v1/deliveries/${MISSING_DLV}/retry`).set(admin), [`delivery "${MISSING_DLV}"`]],
    ];
    it.each(cases)('%s (%s)', async (_what, _route, call, hints) => {
      actionable(await call(), 404, 'not_found', hints);
    });

    it('an unknown provider or account on a callback route', async () => {
      const res = await postBytes(app, '/v1/callbacks/nosuch', '[]', json);
      actionable(res, 404, 'unknown_provider', ['"nosuch"', 'account "default"']);
    });

    it('repeats a long id or path only cut short', async () => {
      const long = `raw_${'A'.repeat(5000)}`;
      const raw = actionable(await request(app.url).get(`/v1/raw/${long}`).set(admin), 404, 'not_found', ['raw request "raw_AAAA', '…"']);
      expect(raw.length).toBeLessThan(300);
      actionable(
        await request(app.url)
          .get(`/v1/${'x'.repeat(5000)}`)
          .set(admin),
        404,
        'not_found',
        ['…"', 'openapi.json'],
      );
    });
  });

  it('409 ambiguous: add ?recipient= with the values to choose from', async () => {
    const res = await request(app.url).get('/v1/messages/aliyun/893412315000000000%5E0').set(admin);
    actionable(res, 409, 'ambiguous', ['"893412315000000000^0"', '?recipient=', '"13800138000"', '"13900139000"']);
    expect(res.body).toMatchObject({ recipients: ['13800138000', '13900139000'], accounts: ['default'] });
    // naming one answers it
    await request(app.url).get('/v1/messages/aliyun/893412315000000000%5E0?recipient=13900139000').set(admin).expect(200);
  });

  describe('400 names the field and lists the allowed values', () => {
    it('an enum in a query lists its values', async () => {
      actionable(await request(app.url).get('/v1/messages?status=done').set(admin), 400, 'bad_request', ['status must be one of', 'delivered', 'rejected']);
      actionable(await request(app.url).get('/v1/raw?verdict=ok').set(admin), 400, 'bad_request', ['verdict must be one of', 'signature_invalid']);
      actionable(await request(app.url).get(`/v1/subscriptions/${MISSING_SUB}/deliveries?state=gone`).set(admin), 400, 'bad_request', [
        'pending',
        'succeeded',
        'dead',
      ]);
    });

    it('an enum in a body lists its values', async () => {
      const sub = await request(app.url)
        .post('/v1/subscriptions')
        .set(admin)
        .send({ url: 'https://example.com/h', filter: { statuses: ['done'] } });
      actionable(sub, 400, 'bad_request', ['filter.statuses.0', '"delivered"', '"rejected"']);
      const replay = await request(app.url)
        .post('/v1/replay')
        .set(admin)
        .send({ dry_run: true, filter: { verdict: 'ok' } });
      actionable(replay, 400, 'bad_request', ['filter.verdict', '"signature_invalid"', '"unknown_provider"']);
    });

    it('a subscription URL with another scheme: http or https, in words', async () => {
      const detail = actionable(await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'ftp://example.com/hook' }), 400, 'bad_request', [
        'url',
        'http or https',
      ]);
      expect(detail).not.toMatch(/pattern|\^\[/);
    });

    it('a form body on a JSON route: 400 saying application/json is expected', async () => {
      for (const path of ['/v1/subscriptions', '/v1/messages', '/v1/replay']) {
        const res = await request(app.url).post(path).set(admin).type('form').send('url=https%3A%2F%2Fexample.com%2Fh&dry_run=true');
        actionable(res, 400, 'bad_request', ['"application/x-www-form-urlencoded"', 'Content-Type: application/json']);
      }
      const text = await postBytes(app, '/v1/subscriptions', 'url=x', { ...admin, 'content-type': 'text/plain' });
      actionable(text, 400, 'bad_request', ['"text/plain"', 'application/json']);
    });

    it('a body that is not JSON although it says so', async () => {
      const res = await postBytes(app, '/v1/subscriptions', '{"url": ', { ...admin, ...json });
      actionable(res, 400, 'bad_request', ['not valid JSON', 'Content-Type: application/json']);
    });

    it('a JSON body over the limit', async () => {
      const res = await request(app.url)
        .post('/v1/messages')
        .set(admin)
        .send({ provider: 'aliyun', message_id: 'x', metadata: { big: 'x'.repeat(300_000) } });
      actionable(res, 413, 'payload_too_large', ['262144 bytes', 'smaller']);
    });

    it('a missing field is named', async () => {
      actionable(await request(app.url).post('/v1/messages').set(admin).send({ provider: 'aliyun' }), 400, 'bad_request', ['message_id']);
      actionable(await request(app.url).post('/v1/subscriptions').set(admin).send({}), 400, 'bad_request', ['url', 'required']);
    });

    it('replay without dry_run: names dry_run and both choices', async () => {
      for (const call of [
        () => request(app.url).post(`/v1/raw/${MISSING_RAW}/replay`).set(admin).send({}),
        () => request(app.url).post(`/v1/raw/${MISSING_RAW}/replay`).set(admin),
        () =>
          request(app.url)
            .post('/v1/replay')
            .set(admin)
            .send({ filter: { provider: 'aliyun' } }),
      ]) {
        actionable(await call(), 400, 'bad_request', ['dry_run is required', '"dry_run": true', '"dry_run": false']);
      }
    });

    it('query parameters: unknown, repeated, out of range, not a time, a broken cursor', async () => {
      actionable(await request(app.url).get('/v1/messages?reference=x').set(admin), 400, 'bad_request', ['"reference"', 'this route takes provider']);
      actionable(await request(app.url).get('/v1/messages?status=sent&status=failed').set(admin), 400, 'bad_request', ['"status"', 'give it once']);
      actionable(await request(app.url).get('/v1/messages?limit=0').set(admin), 400, 'bad_request', ['limit must be an integer from 1 to']);
      actionable(await request(app.url).get('/v1/messages?since=yesterday').set(admin), 400, 'bad_request', ['since', 'ISO-8601', 'e.g. 2026-']);
      actionable(await request(app.url).get('/v1/messages?cursor=zzz').set(admin), 400, 'bad_request', ['cursor', 'next_cursor']);
      actionable(
        await request(app.url).get('/v1/stats/timeseries?interval=1h&since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z').set(admin),
        400,
        'bad_request',
        ['until must be later than since'],
      );
      actionable(await request(app.url).get('/v1/reports/daily?since=2026-13-01&until=2026-12-02').set(admin), 400, 'bad_request', ['YYYY-MM-DD']);
    });

    it('NUL characters and deep JSON', async () => {
      actionable(await request(app.url).get('/v1/raw/raw_%00').set(admin), 400, 'bad_request', ['NUL']);
      let deep: unknown = 1;
      for (let i = 0; i < 40; i += 1) deep = { a: deep };
      actionable(await request(app.url).post('/v1/messages').set(admin).send({ provider: 'aliyun', message_id: 'x', metadata: deep }), 400, 'bad_request', [
        'nested deeper than',
      ]);
    });

    it('an Idempotency-Key that is too long', async () => {
      const res = await request(app.url).post('/v1/subscriptions').set(admin).set('idempotency-key', 'k'.repeat(300)).send({ url: 'https://example.com/h' });
      actionable(res, 400, 'bad_request', ['Idempotency-Key', '1 to 255', 'UUID']);
    });
  });

  describe('callbacks', () => {
    it('a body a provider cannot have sent: 400 with the reason', async () => {
      actionable(await postBytes(app, '/v1/callbacks/tencent', 'nonsense', json), 400, 'payload_invalid', [/JSON|json/]);
    });
    it('a wrong signature: 401 with the reason', async () => {
      const body = fixture('mailgun', 'failed-permanent').body;
      const res = await postBytes(app, '/v1/callbacks/mailgun', mailgunSigned(body, 'key-a-wrong-signing-key'), json);
      actionable(res, 401, 'signature_invalid', [/signature/]);
    });
    it('a body over server.bodyLimitBytes: 413 with the limit', async () => {
      actionable(await postBytes(app, '/v1/callbacks/aliyun', `[${' '.repeat(2000)}]`, json), 413, 'payload_too_large', ['1024 bytes']);
    });
    it('a body slower than server.bodyTimeoutSeconds: 408 with the time', async () => {
      const { port } = new URL(app.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write('POST /v1/callbacks/aliyun HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[');
        });
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
        socket.on('end', () => resolve(text));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string; detail: string };
      actionable({ status: 408, body }, 408, 'request_timeout', ['0.5 s']);
    });
  });
});

describe('429 says when to come back', () => {
  it('names the limit and the headers to read', async () => {
    const app = await startTestApp({ ...config, server: { rateLimit: { api: { windowSeconds: 60, max: 1 } } } }, { DLR_WORKER: 'off' });
    try {
      await request(app.url).get('/v1/stats').set(admin).expect(200);
      const res = await request(app.url).get('/v1/stats').set(admin);
      actionable(res, 429, 'rate_limited', ['more than 1 requests in 60 s', 'Retry-After']);
    } finally {
      await app.close();
    }
  });
});

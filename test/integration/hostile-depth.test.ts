import request from 'supertest';
import { postBytes } from '../helpers/callbacks';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { snsSigned, SNS_CERT, SNS_CERT_URL, SNS_TOPIC } from '../helpers/sign';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const json = { 'content-type': 'application/json' };
const xml = { 'content-type': 'application/xml' };
const MiB = 1024 * 1024;

/** `[[[…]]]` of about `size` characters. */
const arrays = (size: number) => '['.repeat(size / 2) + ']'.repeat(size / 2);
/** `{"a":{"a":…1…}}` of about `size` characters. */
const objects = (size: number) => '{"a":'.repeat(size / 6) + '1' + '}'.repeat(size / 6);
/** `<a><a>…</a></a>` of about `size` characters. */
const elements = (size: number) => '<a>'.repeat(size / 7) + '</a>'.repeat(size / 7);

interface Case {
  name: string;
  path: string;
  body: string;
  headers: Record<string, string>;
  status: number;
  error: string;
}

const snsEnvelope = (message: string) =>
  snsSigned(
    JSON.stringify({
      Type: 'Notification',
      MessageId: 'm-deep',
      TopicArn: SNS_TOPIC,
      Message: message,
      Timestamp: new Date().toISOString(),
      SigningCertURL: SNS_CERT_URL,
    }),
  );

const CASES: Case[] = [
  // callbacks (1 MiB body limit): refused by the depth check, before anything recurses over them
  { name: 'aliyun: 1 MiB of nested arrays', path: '/v1/callbacks/aliyun', body: arrays(MiB - 64), headers: json, status: 400, error: 'payload_invalid' },
  { name: 'aliyun: 1 MiB of nested objects', path: '/v1/callbacks/aliyun', body: objects(MiB - 64), headers: json, status: 400, error: 'payload_invalid' },
  { name: 'aliyun: 1 MiB of "[" never closed', path: '/v1/callbacks/aliyun', body: '['.repeat(MiB - 64), headers: json, status: 400, error: 'payload_invalid' },
  {
    name: 'tencent: nested arrays inside callbackData',
    path: '/v1/callbacks/tencent',
    body: JSON.stringify({ callbackData: Buffer.from(arrays(700_000)).toString('base64') }),
    headers: json,
    status: 400,
    error: 'payload_invalid',
  },
  {
    name: 'cloopen: 1 MiB of nested JSON',
    path: '/v1/callbacks/ronglian',
    body: `{"Request":${objects(MiB - 64)}}`,
    headers: json,
    status: 400,
    error: 'payload_invalid',
  },
  { name: 'cloopen: 1 MiB of nested XML', path: '/v1/callbacks/ronglian', body: elements(MiB - 64), headers: xml, status: 400, error: 'payload_invalid' },
  {
    name: 'cloopen: 60 KB of nested XML (parsed)',
    path: '/v1/callbacks/ronglian',
    body: `<Request>${elements(60_000)}</Request>`,
    headers: xml,
    status: 400,
    error: 'payload_invalid',
  },
  {
    name: 'cloopen: 1 MiB of "<a>" never closed',
    path: '/v1/callbacks/ronglian',
    body: '<a>'.repeat((MiB - 64) / 3),
    headers: xml,
    status: 400,
    error: 'payload_invalid',
  },
  {
    name: 'generic JSON (lossless-json): 1 MiB of nested arrays',
    path: '/v1/callbacks/gj',
    body: arrays(MiB - 64),
    headers: json,
    status: 400,
    error: 'payload_invalid',
  },
  {
    name: 'generic JSON (lossless-json): 1 MiB of nested objects',
    path: '/v1/callbacks/gj',
    body: objects(MiB - 64),
    headers: json,
    status: 400,
    error: 'payload_invalid',
  },
  {
    name: 'generic JSON (lossless-json): nesting hidden in strings is no nesting',
    path: '/v1/callbacks/gj',
    body: JSON.stringify({ data: [{ id: 'x', stat: '[[[{{{'.repeat(100_000) }] }),
    headers: json,
    status: 200,
    error: '',
  },
  {
    name: 'generic XML: 60 KB of nested XML',
    path: '/v1/callbacks/gx',
    body: `<r>${elements(60_000)}</r>`,
    headers: xml,
    status: 400,
    error: 'payload_invalid',
  },
  {
    name: 'mailgun: 1 MiB of nested objects (read before the signature)',
    path: '/v1/callbacks/mailgun',
    body: objects(MiB - 64),
    headers: json,
    status: 400,
    error: 'payload_invalid',
  },
  {
    // (a Message that is not a JSON object is no SES event: acknowledged with no report, never parsed)
    name: 'ses: a signed SNS message whose Message nests 600 KB of objects',
    path: '/v1/callbacks/ses',
    body: snsEnvelope(objects(600_000)),
    headers: { 'content-type': 'text/plain' },
    status: 400,
    error: 'payload_invalid',
  },
  // the API (256 KB JSON limit)
  {
    name: 'API: 1 MiB of nested arrays',
    path: '/v1/messages',
    body: arrays(MiB - 64),
    headers: { ...json, ...admin },
    status: 413,
    error: 'payload_too_large',
  },
  { name: 'API: 250 KB of nested arrays', path: '/v1/messages', body: arrays(250_000), headers: { ...json, ...admin }, status: 400, error: 'bad_request' },
  {
    name: "API: 250 KB of nested objects as a registration's metadata",
    path: '/v1/messages',
    body: `{"provider":"aliyun","message_id":"deep","metadata":${objects(250_000)}}`,
    headers: { ...json, ...admin },
    status: 400,
    error: 'bad_request',
  },
  {
    name: 'API: 250 KB of nested objects as a subscription filter',
    path: '/v1/subscriptions',
    body: `{"url":"https://93.184.216.34/h","filter":${objects(250_000)}}`,
    headers: { ...json, ...admin },
    status: 400,
    error: 'bad_request',
  },
  {
    name: 'API: 250 KB of nested objects in a replay request',
    path: '/v1/replay',
    body: `{"provider":${objects(250_000)}}`,
    headers: { ...json, ...admin },
    status: 400,
    error: 'bad_request',
  },
];

describe('deeply nested bodies: 4xx, never a 500, and the process stays up', () => {
  let app: TestApp;
  beforeAll(async () => {
    const seed = seedConfig() as { providers: object };
    const generic = { mapping: { messageId: 'id', status: 'stat' }, statuses: { default: 'delivered' }, accounts: { default: {} } };
    app = await startTestApp(
      {
        ...seed,
        providers: {
          ...seed.providers,
          mailgun: { accounts: { default: { signingKey: 'key-mailgun-signing-0123456789' } } },
          ses: { accounts: { default: { topicArns: [SNS_TOPIC], certificates: { [SNS_CERT_URL]: SNS_CERT } } } },
          gj: { kind: 'generic', format: { type: 'json', reports: '/data' }, ...generic },
          gx: { kind: 'generic', format: { type: 'xml' }, ...generic },
        },
      },
      { DLR_WORKER: 'off' },
    );
  });
  afterAll(() => app.close());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await postBytes(app, c.path, c.body, c.headers);
    expect({ status: res.status, error: res.body.error as unknown }).toEqual({ status: c.status, error: c.status < 300 ? undefined : c.error });
    // refused by a depth check, not by a parser that ran out of stack
    expect(res.text).not.toMatch(/call stack/i);
    if (c.status === 400 && c.path.startsWith('/v1/callbacks'))
      expect(res.body.detail).toMatch(/nested deeper than|not well-formed|not valid JSON|XML body has/);
    await request(app.url).get('/healthz').expect(200);
  });

  it('logged no unhandled error', () => {
    expect(app.logs.filter((l) => l.includes('"level":50')).map((l) => l.slice(0, 300))).toEqual([]);
  });
});

import request from 'supertest';
import { seedConfig, startTestApp, ADMIN_TOKEN, type TestApp } from '../helpers/app';
import { rawExchange } from '../helpers/server-process';
import { sendgridKeys, SNS_CERT, SNS_CERT_URL, SNS_TOPIC } from '../helpers/sign';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const JSON_CT = 'application/json';
const FORM_CT = 'application/x-www-form-urlencoded';
const sg = sendgridKeys();

interface Case {
  name: string;
  path: string;
  body: string | Buffer;
  headers?: Record<string, string>;
  /** Expected status; the raw log verdict is checked for every provider/account that exists. */
  status: number;
  verdict?: string;
}

const aliyunReport = (over: Record<string, unknown> = {}) =>
  JSON.stringify([{ phone_number: '13800138000', biz_id: 'h-1', success: true, report_time: '2024-05-06 10:15:09', ...over }]);
const tencentCallback = (data: string) => JSON.stringify({ callbackData: data });
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const CASES: Case[] = [
  // Empty, truncated, not JSON, wrong shape
  { name: 'aliyun: empty body', path: '/v1/callbacks/aliyun', body: '', status: 400, verdict: 'payload_invalid' },
  { name: 'aliyun: truncated JSON', path: '/v1/callbacks/aliyun', body: aliyunReport().slice(0, 40), status: 400, verdict: 'payload_invalid' },
  { name: 'aliyun: a JSON string', path: '/v1/callbacks/aliyun', body: '"hello"', status: 400, verdict: 'payload_invalid' },
  { name: 'aliyun: null', path: '/v1/callbacks/aliyun', body: 'null', status: 400, verdict: 'payload_invalid' },
  { name: 'aliyun: an array of numbers', path: '/v1/callbacks/aliyun', body: '[1,2,3]', status: 400, verdict: 'payload_invalid' },
  { name: 'aliyun: number where the id belongs', path: '/v1/callbacks/aliyun', body: aliyunReport({ biz_id: 12345 }), status: 400, verdict: 'payload_invalid' },
  {
    name: 'aliyun: object where the phone belongs',
    path: '/v1/callbacks/aliyun',
    body: aliyunReport({ phone_number: { $ne: 1 } }),
    status: 400,
    verdict: 'payload_invalid',
  },
  { name: 'aliyun: success is a string', path: '/v1/callbacks/aliyun', body: aliyunReport({ success: 'yes' }), status: 400, verdict: 'payload_invalid' },
  {
    name: 'aliyun: impossible report time',
    path: '/v1/callbacks/aliyun',
    body: aliyunReport({ report_time: '2024-13-45 99:99:99' }),
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'aliyun: missing biz_id',
    path: '/v1/callbacks/aliyun',
    body: JSON.stringify([{ phone_number: '1', success: true }]),
    status: 400,
    verdict: 'payload_invalid',
  },
  { name: 'aliyun: empty biz_id', path: '/v1/callbacks/aliyun', body: aliyunReport({ biz_id: '' }), status: 400, verdict: 'payload_invalid' },
  { name: 'aliyun: deeply nested JSON', path: '/v1/callbacks/aliyun', body: nested(5000), status: 400, verdict: 'payload_invalid' },
  {
    name: 'aliyun: 10,000-element batch',
    path: '/v1/callbacks/aliyun',
    body: JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ phone_number: '1', biz_id: `b-${i}`, success: true }))),
    status: 400,
    verdict: 'payload_invalid',
  },
  { name: 'aliyun: body over the limit', path: '/v1/callbacks/aliyun', body: Buffer.alloc(1024 * 1024 + 10, 0x20), status: 413, verdict: 'too_large' },
  {
    name: 'aliyun: invalid UTF-8',
    path: '/v1/callbacks/aliyun',
    body: Buffer.from([0x5b, 0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x5d]),
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'aliyun: GBK bytes declared as UTF-8',
    path: '/v1/callbacks/aliyun',
    body: Buffer.from([0x5b, 0x22, 0xc4, 0xe3, 0xba, 0xc3, 0x22, 0x5d]),
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'aliyun: unknown charset',
    path: '/v1/callbacks/aliyun',
    body: aliyunReport(),
    headers: { 'content-type': 'application/json; charset=klingon' },
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'aliyun: wrong content type (XML)',
    path: '/v1/callbacks/aliyun',
    body: '<a/>',
    headers: { 'content-type': 'application/xml' },
    status: 400,
    verdict: 'payload_invalid',
  },
  { name: 'aliyun: NUL bytes', path: '/v1/callbacks/aliyun', body: Buffer.from('[\u0000\u0000]'), status: 400, verdict: 'payload_invalid' },
  { name: 'aliyun: NUL inside an id', path: '/v1/callbacks/aliyun', body: aliyunReport({ biz_id: 'a\u0000b' }), status: 400, verdict: 'payload_invalid' },
  {
    name: 'aliyun: SQL metacharacters in ids, as data',
    path: '/v1/callbacks/aliyun',
    body: aliyunReport({ biz_id: "x'; DROP TABLE messages; --" }),
    status: 200,
  },
  { name: 'aliyun: a wrong ?token=', path: '/v1/callbacks/aliyun/guarded?token=nope', body: aliyunReport(), status: 401, verdict: 'signature_invalid' },
  {
    name: 'aliyun: two ?token= values',
    path: '/v1/callbacks/aliyun/guarded?token=nope&token=guarded-token-123',
    body: aliyunReport(),
    status: 401,
    verdict: 'signature_invalid',
  },
  // Tencent
  { name: 'tencent: empty object', path: '/v1/callbacks/tencent', body: '{}', status: 400, verdict: 'payload_invalid' },
  {
    name: 'tencent: base64 garbage in callbackData',
    path: '/v1/callbacks/tencent',
    body: tencentCallback('!!!not base64!!!'),
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'tencent: base64 of non-JSON',
    path: '/v1/callbacks/tencent',
    body: tencentCallback(Buffer.from('<<<').toString('base64')),
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'tencent: callbackData a number',
    path: '/v1/callbacks/tencent',
    body: JSON.stringify({ callbackData: 42 }),
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'tencent: report_status unknown',
    path: '/v1/callbacks/tencent',
    body: JSON.stringify([{ mobile: '13800138000', nationcode: '86', report_status: 'MAYBE', sid: 's' }]),
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'tencent: sid missing',
    path: '/v1/callbacks/tencent',
    body: JSON.stringify([{ mobile: '13800138000', nationcode: '86', report_status: 'SUCCESS' }]),
    status: 400,
    verdict: 'payload_invalid',
  },
  { name: 'tencent: truncated', path: '/v1/callbacks/tencent', body: '[{"mobile":"138', status: 400, verdict: 'payload_invalid' },
  // Cloopen
  {
    name: 'ronglian: empty',
    path: '/v1/callbacks/ronglian',
    body: '',
    headers: { 'content-type': 'application/xml' },
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'ronglian: unclosed XML',
    path: '/v1/callbacks/ronglian',
    body: '<Request><action>SMSArrived',
    headers: { 'content-type': 'application/xml' },
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'ronglian: XML entity expansion',
    path: '/v1/callbacks/ronglian',
    body: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Request><action>&b;</action></Request>',
    headers: { 'content-type': 'application/xml' },
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'ronglian: broken XML declaration (found by the fuzz test)',
    path: '/v1/callbacks/ronglian',
    body: '<?xml version="1.0" encoUTF-8"?><Request><action>SMSArrived</action></Request>',
    headers: { 'content-type': 'application/xml' },
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'ronglian: unknown action',
    path: '/v1/callbacks/ronglian',
    body: '<Request><action>Nope</action></Request>',
    headers: { 'content-type': 'application/xml' },
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'ronglian: JSON where XML is expected',
    path: '/v1/callbacks/ronglian',
    body: '{"action":"SMSArrived"}',
    headers: { 'content-type': 'application/xml' },
    status: 400,
    verdict: 'payload_invalid',
  },
  // Twilio
  {
    name: 'twilio: no signature',
    path: '/v1/callbacks/twilio',
    body: 'MessageSid=SM1&MessageStatus=delivered',
    headers: { 'content-type': FORM_CT },
    status: 401,
    verdict: 'signature_invalid',
  },
  {
    name: 'twilio: forged signature',
    path: '/v1/callbacks/twilio',
    body: 'MessageSid=SM1&MessageStatus=delivered',
    headers: { 'content-type': FORM_CT, 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
    status: 401,
    verdict: 'signature_invalid',
  },
  {
    name: 'twilio: signature with CRLF junk',
    path: '/v1/callbacks/twilio',
    body: 'MessageSid=SM1',
    headers: { 'content-type': FORM_CT, 'x-twilio-signature': 'abc\tdef' },
    status: 401,
    verdict: 'signature_invalid',
  },
  {
    name: 'twilio: JSON body',
    path: '/v1/callbacks/twilio',
    body: '{"MessageSid":"SM1"}',
    headers: { 'content-type': JSON_CT, 'x-twilio-signature': 'x' },
    status: 401,
    verdict: 'signature_invalid',
  },
  // SendGrid
  { name: 'sendgrid: no signature', path: '/v1/callbacks/sendgrid', body: '[]', status: 401, verdict: 'signature_invalid' },
  {
    name: 'sendgrid: signature not base64 DER',
    path: '/v1/callbacks/sendgrid',
    body: '[]',
    headers: { 'x-twilio-email-event-webhook-signature': '%%%', 'x-twilio-email-event-webhook-timestamp': String(Math.floor(Date.now() / 1000)) },
    status: 401,
    verdict: 'signature_invalid',
  },
  {
    name: 'sendgrid: timestamp not a number',
    path: '/v1/callbacks/sendgrid',
    body: '[]',
    headers: { 'x-twilio-email-event-webhook-signature': 'MEUCIQ==', 'x-twilio-email-event-webhook-timestamp': 'soon' },
    status: 401,
    verdict: 'signature_invalid',
  },
  // Mailgun
  { name: 'mailgun: no signature block', path: '/v1/callbacks/mailgun', body: JSON.stringify({ 'event-data': {} }), status: 401, verdict: 'signature_invalid' },
  {
    name: 'mailgun: signature fields of the wrong type',
    path: '/v1/callbacks/mailgun',
    body: JSON.stringify({ signature: { timestamp: [], token: {}, signature: 5 }, 'event-data': {} }),
    status: 401,
    verdict: 'signature_invalid',
  },
  {
    name: 'mailgun: not JSON',
    path: '/v1/callbacks/mailgun',
    body: 'signature=1',
    headers: { 'content-type': FORM_CT },
    status: 400,
    verdict: 'payload_invalid',
  },
  // SES over SNS
  {
    name: 'ses: not an SNS message',
    path: '/v1/callbacks/ses',
    body: '{"hello":"world"}',
    headers: { 'content-type': 'text/plain' },
    status: 400,
    verdict: 'payload_invalid',
  },
  {
    name: 'ses: certificate from another host',
    path: '/v1/callbacks/ses',
    body: JSON.stringify({
      Type: 'Notification',
      MessageId: 'm',
      TopicArn: SNS_TOPIC,
      Message: '{}',
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      Signature: 'AAAA',
      SigningCertURL: 'https://evil.example.com/cert.pem',
    }),
    headers: { 'content-type': 'text/plain' },
    status: 401,
    verdict: 'signature_invalid',
  },
  {
    name: 'ses: topic not configured',
    path: '/v1/callbacks/ses',
    body: JSON.stringify({
      Type: 'Notification',
      MessageId: 'm',
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:other',
      Message: '{}',
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      Signature: 'AAAA',
      SigningCertURL: SNS_CERT_URL,
    }),
    headers: { 'content-type': 'text/plain' },
    status: 401,
    verdict: 'signature_invalid',
  },
  // Routing tricks: no such provider or account (404, logged as unknown_provider for a later replay)
  { name: 'unknown provider', path: '/v1/callbacks/nope', body: '{}', status: 404, verdict: 'unknown_provider' },
  { name: 'path traversal in the provider segment', path: '/v1/callbacks/..%2F..%2Fv1%2Fsubscriptions', body: '{}', status: 404, verdict: 'unknown_provider' },
  { name: 'NUL in the provider segment', path: '/v1/callbacks/aliyun%00', body: '{}', status: 404, verdict: 'unknown_provider' },
  { name: 'control characters in the account segment', path: '/v1/callbacks/aliyun/a%0D%0Ab', body: '{}', status: 404, verdict: 'unknown_provider' },
  { name: 'prototype name as provider', path: '/v1/callbacks/__proto__', body: '{}', status: 404, verdict: 'unknown_provider' },
  { name: 'prototype name as account', path: '/v1/callbacks/aliyun/constructor', body: '{}', status: 404, verdict: 'unknown_provider' },
  { name: 'unknown account', path: '/v1/callbacks/aliyun/elsewhere', body: aliyunReport(), status: 404, verdict: 'unknown_provider' },
  { name: 'a 300-character provider name', path: `/v1/callbacks/${'p'.repeat(300)}`, body: '{}', status: 404, verdict: 'unknown_provider' },
  { name: 'too many path segments (no callback route at all)', path: '/v1/callbacks/aliyun/default/extra', body: aliyunReport(), status: 404 },
];

describe('hostile input: a 4xx JSON answer, never a crash, and a trace in the raw log', () => {
  let app: TestApp;
  beforeAll(async () => {
    const base = seedConfig() as { providers: Record<string, unknown> };
    app = await startTestApp(
      {
        ...base,
        providers: {
          ...base.providers,
          aliyun: { accounts: { default: {}, guarded: { token: 'guarded-token-123' } } },
          twilio: { accounts: { default: { authToken: 'twilio-auth-token-0123456789', publicUrl: 'https://dlr.example.com' } } },
          sendgrid: { accounts: { default: { publicKey: sg.publicKey } } },
          mailgun: { accounts: { default: { signingKey: 'key-mailgun-signing-0123456789' } } },
          ses: { accounts: { default: { topicArns: [SNS_TOPIC], certificates: { [SNS_CERT_URL]: SNS_CERT } } } },
        },
        server: { bodyTimeoutSeconds: 0.5 },
      },
      { DLR_WORKER: 'off' },
    );
  });
  afterAll(() => app.close());

  it('has at least 50 distinct cases', () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(50);
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const res = await request(app.url)
      .post(c.path)
      .set({ 'content-type': JSON_CT, ...c.headers, 'x-case': String(i) })
      .send(c.body);
    expect(res.status).toBe(c.status);
    if (c.status >= 400) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(typeof res.body.error).toBe('string');
    }
    if (c.verdict) {
      const raws = await request(app.url).get('/v1/raw?limit=1').set(admin).expect(200); // the newest
      const last = raws.body.items[0] as { headers: Record<string, string>; verdict: string } | undefined;
      expect({ case: last?.headers['x-case'], verdict: last?.verdict }).toEqual({ case: String(i), verdict: c.verdict });
    }
    await request(app.url).get('/healthz').expect(200);
  });

  it('refuses NUL characters in API paths, queries and bodies with 400', async () => {
    await request(app.url).get('/v1/raw?provider=aliyun%00').set(admin).expect(400);
    await request(app.url).get('/v1/messages/aliyun/a%00b').set(admin).expect(400);
    await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'https://93.184.216.34/h', description: 'a\u0000b' }).expect(400);
  });

  it('stores SQL metacharacters as data', async () => {
    const res = await request(app.url)
      .get(`/v1/messages/aliyun/${encodeURIComponent("x'; DROP TABLE messages; --")}`)
      .set(admin)
      .expect(200);
    expect(res.body.message.message_id).toBe("x'; DROP TABLE messages; --");
  });

  it('refuses a header with a raw CR/LF (header injection) at the HTTP layer, and stays up', async () => {
    const port = Number(new URL(app.url).port);
    const answer = await rawExchange(port, 'POST /v1/callbacks/aliyun HTTP/1.1\r\nHost: x\r\nX-Evil: a\rInjected: b\r\nContent-Length: 2\r\n\r\n[]');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await request(app.url).get('/healthz').expect(200);
  });

  it('answers a slow-loris body with 408 JSON after the body timeout, logs it, and closes the connection', async () => {
    const port = Number(new URL(app.url).port);
    const started = Date.now();
    const answer = await rawExchange(
      port,
      'POST /v1/callbacks/aliyun HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Case: slow\r\nContent-Length: 100\r\n\r\n[{"phone_nu',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toMatch(/\{"error":"request_timeout","detail":"the body did not arrive within 0\.5 s \(11 bytes received\)"\}$/);
    const raws = await request(app.url).get('/v1/raw?provider=aliyun&limit=1').set(admin).expect(200);
    expect(raws.body.items[0]).toMatchObject({
      headers: { 'x-case': 'slow' },
      verdict: 'payload_invalid',
      detail: expect.stringMatching(/did not arrive within/),
    });
    await request(app.url).get('/healthz').expect(200);
  });
});

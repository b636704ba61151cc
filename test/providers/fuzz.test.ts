import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { AppError } from '../../src/errors';
import { providerNames } from '../../src/providers/registry';
import { ACCOUNT, rawCallback } from '../helpers/raw';
import { fixture } from '../helpers/fixtures';
import { PRESET_NAMES, providerOrPreset } from '../helpers/generic';

/** Bodies shaped a little like each provider's, then broken in random ways. */
const CONTENT_TYPES: Record<string, string> = {
  aliyun: 'application/json',
  tencent: 'application/json',
  ronglian: 'application/xml',
  twilio: 'application/x-www-form-urlencoded',
  sendgrid: 'application/json',
  mailgun: 'application/json',
  ses: 'text/plain',
  'aws-sms': 'text/plain',
  infobip: 'application/json',
  sinch: 'application/json',
  'huawei-sms': 'application/x-www-form-urlencoded',
  vonage: 'application/json',
  brevo: 'application/json',
  mailjet: 'application/json',
  sparkpost: 'application/json',
  'baidu-sms': 'application/json',
  'volcengine-sms': 'application/json',
  resend: 'application/json',
  telnyx: 'application/json',
  messagebird: 'application/x-www-form-urlencoded',
  mandrill: 'application/x-www-form-urlencoded',
  plivo: 'application/x-www-form-urlencoded',
  postmark: 'application/json',
  'netease-yunxin': 'application/json',
};

const jsonish = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null');
const reportish = fc
  .array(
    fc.dictionary(
      fc.constantFrom(
        'phone_number',
        'biz_id',
        'success',
        'err_code',
        'report_time',
        'mobile',
        'sid',
        'report_status',
        'nationcode',
        'callbackData',
        'MessageSid',
        'MessageStatus',
        'event',
        'email',
        'sg_message_id',
        'timestamp',
        'Type',
        'Message',
      ),
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double()),
    ),
    { maxLength: 5 },
  )
  .map((v) => JSON.stringify(v));
const xmlish = fc
  .array(
    fc.constantFrom(
      '<Request>',
      '</Request>',
      '<action>SMSArrived</action>',
      '<smsId>',
      '</smsId>',
      '<status>0</status>',
      '<recvTime>',
      '20240506101509',
      '&amp;',
      '<![CDATA[x]]>',
      '<',
    ),
    { maxLength: 12 },
  )
  .map((p) => p.join(''));
const formish = fc
  .dictionary(fc.constantFrom('MessageSid', 'MessageStatus', 'To', 'ErrorCode', 'AccountSid', 'x'), fc.string())
  .map((d) => new URLSearchParams(d).toString());

function mutate(base: Buffer) {
  return fc
    .tuple(fc.nat(base.length), fc.nat(16), fc.uint8Array({ maxLength: 8 }))
    .map(([at, cut, bytes]) => Buffer.concat([base.subarray(0, at), Buffer.from(bytes), base.subarray(Math.min(base.length, at + cut))]));
}

const FIXTURES: Record<string, string> = {
  aliyun: 'smsreport-batch',
  tencent: 'status-array',
  ronglian: 'smsarrived-failed',
  twilio: 'status-delivered',
  'huawei-sms': 'batch',
  vonage: 'delivered',
  'aws-sms': 'text-blocked',
  infobip: 'delivery-reports',
  sinch: 'failed',
  brevo: 'hard-bounce',
  mailjet: 'grouped-sent',
  sparkpost: 'lifecycle-batch',
  'baidu-sms': 'failed',
  'volcengine-sms': 'reports',
  resend: 'bounced',
  telnyx: 'finalized-recipients',
  messagebird: 'delivery-failed',
  mandrill: 'events-batch',
  plivo: 'undelivered',
  postmark: 'bounce-hard',
  'netease-yunxin': 'batch',
};

describe('parsers under random input', () => {
  it.each([...providerNames(), ...PRESET_NAMES])('%s: every body is parsed or refused with a payload error, nothing else', (name) => {
    const provider = providerOrPreset(name);
    const fx = FIXTURES[name] ? fixture(name, FIXTURES[name]).body : Buffer.from('{}');
    const bodies = fc.oneof(
      jsonish.map((s) => Buffer.from(s)),
      reportish.map((s) => Buffer.from(s)),
      xmlish.map((s) => Buffer.from(s)),
      formish.map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      mutate(fx),
    );
    fc.assert(
      fc.property(bodies, fc.constantFrom(CONTENT_TYPES[name], 'application/json', 'text/plain; charset=gbk'), (body, contentType) => {
        try {
          const reports = provider.parse(rawCallback(name, body, contentType), ACCOUNT);
          expect(Array.isArray(reports)).toBe(true);
        } catch (err) {
          if (!(err instanceof AppError) || err.status !== 400) throw err;
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('a configured signature under random input', () => {
  it('vonage: every body is verified or refused with a 400 or 401, nothing else', () => {
    const vonage = providerOrPreset('vonage');
    const account = { ...ACCOUNT, secret: 'fuzz-secret-123' };
    const bodies = fc.oneof(jsonish, reportish, formish, fc.string()).map((s) => Buffer.from(s));
    fc.assert(
      fc.property(bodies, fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'), (body, contentType) => {
        try {
          const verified = vonage.verify!(rawCallback('vonage', body, contentType), account, null as never);
          expect(verified).not.toBeInstanceOf(Promise); // the generic check is synchronous, so a refusal is caught here
        } catch (err) {
          if (!(err instanceof AppError) || ![400, 401].includes(err.status)) throw err;
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('the signature schemes of issue #17 under random headers and bodies', () => {
  const key = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
  const account = {
    ...ACCOUNT,
    secret: 'whsec_ZnV6ei1zZWNyZXQtMTIz',
    publicKey: key,
    publicUrl: 'https://dlr.example.com',
    username: 'fuzz',
    password: 'fuzz-password',
  };
  const headerNames = [
    'svix-id',
    'svix-timestamp',
    'svix-signature',
    'webhook-id',
    'webhook-signature',
    'telnyx-timestamp',
    'telnyx-signature-ed25519',
    'messagebird-signature-jwt',
    'authorization',
    'x-mandrill-signature',
    'x-plivo-signature-v3',
    'x-plivo-signature-v3-nonce',
    'md5',
    'curtime',
    'checksum',
  ];
  const headerValue = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.stringMatching(/^v1,[A-Za-z0-9+/]{0,60}={0,2}( v1,[A-Za-z0-9+/=]{0,10})?$/),
    fc.stringMatching(/^[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,80}\.[A-Za-z0-9_-]{0,40}$/),
    fc.integer({ min: 0, max: 2e12 }).map(String),
  );
  it.each(['resend', 'telnyx', 'messagebird', 'mandrill', 'plivo', 'postmark', 'netease-yunxin'])(
    '%s: verified or refused with a 400 or 401, nothing else',
    (name) => {
      const provider = providerOrPreset(name);
      fc.assert(
        fc.property(fc.dictionary(fc.constantFrom(...headerNames), headerValue), fc.oneof(jsonish, formish, fc.string()), (headers, body) => {
          try {
            const verified = provider.verify!(
              rawCallback(name, body, 'application/json', { headers: { 'content-type': 'application/json', ...headers } }),
              account,
              null as never,
            );
            expect(verified).not.toBeInstanceOf(Promise); // the generic checks are synchronous, so a refusal is caught here
          } catch (err) {
            if (!(err instanceof AppError) || ![400, 401].includes(err.status)) throw err;
          }
        }),
        { numRuns: 300 },
      );
    },
  );
});

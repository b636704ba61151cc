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
  'huawei-sms': 'application/x-www-form-urlencoded',
  vonage: 'application/json',
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

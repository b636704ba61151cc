import { PayloadInvalid } from '../../src/errors';
import { aliyun } from '../../src/providers/aliyun';
import { ACCOUNT, rawCallback } from '../helpers/raw';

const parse = (body: unknown, account = ACCOUNT) =>
  aliyun.parse(rawCallback('aliyun', typeof body === 'string' ? body : JSON.stringify(body), 'application/json'), account);

const report = { phone_number: '13800138000', biz_id: '1^0', report_time: '2024-05-06 10:15:09', success: true, err_code: 'DELIVERED' };

describe('aliyun parser', () => {
  it('lets `success` decide over err_code', () => {
    expect(parse([{ ...report, success: false, err_code: 'DELIVERED' }])[0]).toMatchObject({ status: 'failed', error: { code: 'DELIVERED' } });
  });

  it('reads local times in the account’s time zone', () => {
    const [r] = parse([report], { ...ACCOUNT, timeZone: 'UTC' });
    expect(r.occurredAt.toISOString()).toBe('2024-05-06T10:15:09.000Z');
  });

  it('uses the receive time when a report carries no time', () => {
    const { report_time: _unused, ...noTime } = report;
    expect(parse([noTime])[0].occurredAt.toISOString()).toBe('2024-05-06T03:00:00.000Z');
  });

  it('takes a lone object as a batch of one', () => {
    expect(parse(report)).toHaveLength(1);
  });

  it.each([
    ['a body that is not JSON', '{"phone', /not valid JSON/],
    ['an empty body', '', /empty body/],
    ['a report that is not an object', [1], /report|body\[0\] is not an object/],
    ['a missing biz_id', [{ ...report, biz_id: undefined }], /"biz_id" is missing/],
    ['a number where a string belongs', [{ ...report, phone_number: 13800138000 }], /"phone_number" must be a string/],
    ['a non-boolean success', [{ ...report, success: 'true' }], /"success" must be a boolean/],
    ['a malformed time', [{ ...report, report_time: '06/05/2024 10:15' }], /"report_time" is not yyyy-MM-dd HH:mm:ss/],
    ['a batch over the limit', Array.from({ length: 1001 }, () => report), /at most 1000/],
  ])('refuses %s', (_what, body, message) => {
    expect(() => parse(body)).toThrow(PayloadInvalid);
    expect(() => parse(body)).toThrow(message);
  });
});

describe('aliyun parser, international site webhook (PascalCase fields)', () => {
  const intl = {
    To: '85212345678',
    SendDate: 'Thu, 25 Nov 2021 10:27:00 +0800',
    ReceiveDate: 'Thu, 25 Nov 2021 10:27:33 +0800',
    Status: '1',
    ErrorCode: 'success',
    ErrorDescription: 'success',
    SmsSize: '1',
    MessageId: '123456789000',
  };

  it.each([
    ['1', 'delivered', null],
    ['3', 'delivered', null],
    ['2', 'failed', { code: 'UNDELIV', message: 'x' }],
    ['6', 'expired', { code: 'UNDELIV', message: 'x' }],
    ['9', null, { code: 'UNDELIV', message: 'x' }],
  ])('maps Status %s to %s, keeping the ErrorCode', (code, status, error) => {
    const [r] = parse([{ ...intl, Status: code, ErrorCode: 'UNDELIV', ErrorDescription: 'x' }]);
    expect(r).toMatchObject({ type: 'message.status', messageId: '123456789000', recipient: '+85212345678', status, error });
  });

  it('reads RFC 2822 dates with their own offset, whatever the account’s zone', () => {
    const [r] = parse([intl], { ...ACCOUNT, timeZone: 'UTC' });
    expect(r.occurredAt.toISOString()).toBe('2021-11-25T02:27:33.000Z');
    const { ReceiveDate: _unused, ...sentOnly } = intl;
    expect(parse([sentOnly])[0].occurredAt.toISOString()).toBe('2021-11-25T02:27:00.000Z');
  });

  it('takes a lone object and keeps a "+" already there', () => {
    expect(parse({ ...intl, To: '+85212345678' })[0].recipient).toBe('+85212345678');
  });

  it.each([
    ['a missing To', { ...intl, To: undefined }, /"To" is missing/],
    ['a missing Status', { ...intl, Status: undefined }, /"Status" is missing/],
    ['a numeric Status', { ...intl, Status: 1 }, /"Status" must be a string/],
    ['a date that is not RFC 2822', { ...intl, ReceiveDate: '2021-11-25 10:27:33' }, /"ReceiveDate" is not an RFC 2822 date/],
  ])('refuses %s', (_what, body, message) => {
    expect(() => parse([body])).toThrow(PayloadInvalid);
    expect(() => parse([body])).toThrow(message);
  });
});

import { PayloadInvalid } from '../../src/errors';
import { tencent } from '../../src/providers/tencent';
import { ACCOUNT, rawCallback } from '../helpers/raw';

const parse = (body: unknown) => tencent.parse(rawCallback('tencent', typeof body === 'string' ? body : JSON.stringify(body), 'application/json'), ACCOUNT);
const item = { user_receive_time: '2024-05-06 10:15:09', nationcode: '86', mobile: '13800138000', report_status: 'SUCCESS', errmsg: 'DELIVRD', sid: 's-1' };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

describe('tencent parser', () => {
  it('unwraps a callbackData envelope holding one object', () => {
    expect(parse({ callbackData: b64(item) })).toMatchObject([{ messageId: 's-1', recipient: '+8613800138000', status: 'delivered' }]);
  });

  it('keeps a recipient without nationcode as sent', () => {
    expect(parse([{ ...item, nationcode: undefined }])[0].recipient).toBe('13800138000');
  });

  it('normalizes both shapes to the same report', () => {
    expect(parse({ callbackData: b64([item]) })).toEqual(parse([item]));
  });

  it.each([
    ['base64 garbage in callbackData', { callbackData: '!!!not-base64!!!' }, /not valid base64/],
    ['callbackData that is not a string', { callbackData: 42 }, /must be a base64 string/],
    ['valid base64 of something that is not JSON', { callbackData: Buffer.from('hello').toString('base64') }, /decoded callbackData is not valid JSON/],
    ['an unknown report_status', [{ ...item, report_status: 'MAYBE' }], /SUCCESS or FAIL/],
    ['a missing sid', [{ ...item, sid: undefined }], /"sid" is missing/],
  ])('refuses %s', (_what, body, message) => {
    expect(() => parse(body)).toThrow(PayloadInvalid);
    expect(() => parse(body)).toThrow(message);
  });
});

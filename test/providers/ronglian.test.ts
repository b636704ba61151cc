import { PayloadInvalid } from '../../src/errors';
import { ronglian } from '../../src/providers/ronglian';
import { ACCOUNT, rawCallback } from '../helpers/raw';

const parse = (body: string | Buffer, type: string) => ronglian.parse(rawCallback('ronglian', body, type), ACCOUNT);

describe('ronglian (Cloopen) parser', () => {
  it('sniffs XML when the content type says nothing', () => {
    const xml =
      '<Request><action>SMSArrived</action><content>abc</content><fromNum>138</fromNum><status>0</status><recvTime>20240506101509</recvTime></Request>';
    expect(parse(xml, '')).toMatchObject([{ messageId: 'abc', status: 'delivered' }]);
    expect(ronglian.ack(rawCallback('ronglian', xml, '')).body).toContain('<statuscode>000000</statuscode>');
  });

  it('accepts msgId in a form post and a dashed reportTime', () => {
    const [r] = parse('respCode=000000&mobile=138&msgId=m-1&reportTime=2024-05-06+10%3A15%3A09', 'application/x-www-form-urlencoded');
    expect(r).toMatchObject({ messageId: 'm-1', status: 'delivered' });
    expect(r.occurredAt.toISOString()).toBe('2024-05-06T02:15:09.000Z');
  });

  it.each([
    ['malformed XML', '<Request><action>SMSArrived</Request>', 'application/xml', /not well-formed XML/],
    ['another action', '{"Request":{"action":"CallAuth","content":"x","fromNum":"1","status":"0"}}', 'application/json', /not a status report/],
    ['JSON without Request', '{"foo":1}', 'application/json', /"Request" object/],
    ['a form without respCode', 'mobile=138&msgId=1', 'application/x-www-form-urlencoded', /"respCode" is missing/],
    [
      'a malformed recvTime',
      '{"Request":{"action":"SMSArrived","content":"x","fromNum":"1","status":"0","recvTime":"yesterday"}}',
      'application/json',
      /not yyyyMMddHHmmss/,
    ],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'application/json', /not valid UTF-8/],
  ])('refuses %s', (_what, body, type, message) => {
    expect(() => parse(body, type)).toThrow(PayloadInvalid);
    expect(() => parse(body, type)).toThrow(message);
  });
});

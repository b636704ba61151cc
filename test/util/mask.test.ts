import { createLogger } from '../../src/logger';
import { maskPersonalData, redactSecrets, redactUrl } from '../../src/util/mask';

describe('masking personal data', () => {
  it.each([
    ['{"recipient":"+8613800138000"}', '{"recipient":"+861********00"}'],
    ['phone 13800138000 failed', 'phone 138******00 failed'],
    ['To=%2B15558675310&x=1', 'To=%2B155******10&x=1'],
    ['{"email":"Alice.Smith@example.com"}', '{"email":"A***@example.com"}'],
    ['to=bob%40example.org', 'to=b***%40example.org'],
  ])('masks %s', (input, output) => {
    expect(maskPersonalData(input)).toBe(output);
  });

  it.each(['raw_01JD8XK2M3N4P5Q6R7S8T9V0W1', '2026-11-24T08:00:01.123Z', 'MK:0001', '"version":2', '4121908f3d1b4edb9210f0eb4742f62c'])('leaves %s alone', (text) => {
    expect(maskPersonalData(text)).toBe(text);
  });

  it.each([
    ['{"token":"s3cret","a":1}', '{"token":"[redacted]","a":1}'],
    ['{"account":{"secret":"x\\"y","authToken":"abc"}}', '{"account":{"secret":"[redacted]","authToken":"[redacted]"}}'],
    ['{"req":{"headers":{"Authorization":"Bearer t"}},"previous_secret":"p","password":12345}', '{"req":{"headers":{"Authorization":"[redacted]"}},"previous_secret":"[redacted]","password":"[redacted]"}'],
  ])('redacts the values of secret-named members in %s', (input, output) => {
    expect(redactSecrets(input)).toBe(output);
  });

  it('leaves members that only name a secret alone', () => {
    const line = '{"token_name":"admin (DLR_ADMIN_TOKEN)","url":"/v1/callbacks/aliyun?token=[redacted]","secrets":2}';
    expect(redactSecrets(line)).toBe(line);
  });

  it('redacts a token in a URL', () => {
    expect(redactUrl('/v1/callbacks/aliyun?x=1&token=s3cret&y=2')).toBe('/v1/callbacks/aliyun?x=1&token=[redacted]&y=2');
  });

  it('applies to every line the logger writes', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    logger.info({ account: { secret: 'hunter2', token: 'tok' }, to: '+8613800138000' }, 'mail to alice@example.com');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { account: unknown; to: string; msg: string };
    expect(line).toMatchObject({ account: { secret: '[redacted]', token: '[redacted]' }, to: '+861********00', msg: 'mail to a***@example.com' });
  });
});

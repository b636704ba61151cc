import { maskPersonalData, redactUrl } from '../../src/util/mask';

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

  it('redacts a token in a URL', () => {
    expect(redactUrl('/v1/callbacks/aliyun?x=1&token=s3cret&y=2')).toBe('/v1/callbacks/aliyun?x=1&token=[redacted]&y=2');
  });
});

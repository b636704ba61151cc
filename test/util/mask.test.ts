import fc from 'fast-check';
import { capLine, createLogger, MAX_LOG_LINE_CHARS } from '../../src/logger';
import { containsNul, isCredentialName, maskPersonalData, maskPhone, redactHeaders, redactSecrets, redactUrl, truncateText } from '../../src/util/mask';

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

  it.each(['raw_01JD8XK2M3N4P5Q6R7S8T9V0W1', '2026-11-24T08:00:01.123Z', 'MK:0001', '"version":2', '4121908f3d1b4edb9210f0eb4742f62c'])(
    'leaves %s alone',
    (text) => {
      expect(maskPersonalData(text)).toBe(text);
    },
  );

  it.each([
    ['{"token":"s3cret","a":1}', '{"token":"[redacted]","a":1}'],
    ['{"account":{"secret":"x\\"y","authToken":"abc"}}', '{"account":{"secret":"[redacted]","authToken":"[redacted]"}}'],
    [
      '{"req":{"headers":{"Authorization":"Bearer t"}},"previous_secret":"p","password":12345}',
      '{"req":{"headers":{"Authorization":"[redacted]"}},"previous_secret":"[redacted]","password":"[redacted]"}',
    ],
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
    const line = JSON.parse(lines[0]) as { account: unknown; to: string; msg: string };
    expect(line).toMatchObject({ account: { secret: '[redacted]', token: '[redacted]' }, to: '+861********00', msg: 'mail to a***@example.com' });
  });
});

describe('e-mail masking by a scan (linear) instead of a pattern (quadratic): the same results', () => {
  // What masking did before the e-mail scan replaced its pattern (quadratic on `aaaa…@a`).
  const OLD_EMAIL = /([A-Za-z0-9._+-])[A-Za-z0-9._+-]*(@|%40)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})/g;
  const OLD_PHONE = /(?<![\w.])(\+|%2B)?(\d{7,15})(?![\w])/gi;
  const oldMask = (text: string) =>
    text
      .replace(OLD_EMAIL, (_m, first: string, at: string, domain: string) => `${first}***${at}${domain}`)
      .replace(OLD_PHONE, (_m, plus: string | undefined, digits: string) => `${plus ?? ''}${maskPhone(digits)}`);

  it('masks exactly as the patterns did, on any text', () => {
    const piece = fc.constantFrom(
      'a',
      'Z',
      'c',
      'o',
      '1',
      '4',
      '0',
      '.',
      '-',
      '_',
      '+',
      '@',
      '%40',
      '%',
      ' ',
      '"',
      'é',
      '1234567',
      '.com',
      '.io',
      '.c0',
      'x@y',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40, size: 'max' }), (pieces) => {
        const text = pieces.join('');
        expect(maskPersonalData(text)).toBe(oldMask(text));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['a@b.com123@c.org', 'a***@b.com1***@c.org'],
    ['ab%40cd%40example.com', 'ab%4***%40example.com'],
    ['x alice@mail.example.co.uk, bob@localhost; carol@EXAMPLE.COM.', 'x a***@mail.example.co.uk, bob@localhost; c***@EXAMPLE.COM.'],
    ['alice@example.c0m', 'alice@example.c0m'],
    ['alice@a.bc-d', 'a***@a.bc-d'],
  ])('masks %s as before', (input, output) => {
    expect(maskPersonalData(input)).toBe(oldMask(input));
    expect(maskPersonalData(input)).toBe(output);
  });

  it('masks what the worst inputs hold, whole (1 MiB each)', () => {
    const MiB = 1024 * 1024;
    expect(maskPersonalData(`${'a'.repeat(MiB)}@a`)).toBe(`${'a'.repeat(MiB)}@a`);
    expect(maskPersonalData(`${'a'.repeat(MiB)}@example.com`)).toBe('a***@example.com');
    expect(maskPersonalData(`x@${'a.1'.repeat(MiB / 4)}`)).toBe(`x@${'a.1'.repeat(MiB / 4)}`);
    expect(maskPersonalData('1'.repeat(MiB))).toBe('1'.repeat(MiB));
    expect(maskPersonalData('13800138000 '.repeat(MiB / 16))).toBe('138******00 '.repeat(MiB / 16));
    const secrets = `{"a":"${'\\"secret\\":'.repeat(MiB / 16)}","token":"t"}`;
    expect(redactSecrets(secrets)).toBe(secrets.replace('"token":"t"', '"token":"[redacted]"'));
  });
});

describe('secrets in other spellings', () => {
  it.each([
    ['/v1/callbacks/aliyun?%74oken=s3cret', '/v1/callbacks/aliyun?%74oken=[redacted]'],
    ['/cb?to%6Ben=s3cret&x=1', '/cb?to%6Ben=[redacted]&x=1'],
    ['/cb?TOKEN=s3cret', '/cb?TOKEN=[redacted]'],
    [
      '/cb?access_token=a&accessToken=b&Access-Token=c&id_token=d',
      '/cb?access_token=[redacted]&accessToken=[redacted]&Access-Token=[redacted]&id_token=[redacted]',
    ],
    [
      '/cb?client_secret=a&password=b&api_key=c&apikey=d&x-api-key=e&key=f&auth=g',
      '/cb?client_secret=[redacted]&password=[redacted]&api_key=[redacted]&apikey=[redacted]&x-api-key=[redacted]&key=[redacted]&auth=[redacted]',
    ],
    ['/cb?access%5Ftoken=a&%61ccess_token=b', '/cb?access%5Ftoken=[redacted]&%61ccess_token=[redacted]'],
    ['/cb?a%70i%5Fkey=a&%50ASSWORD=b&%74%6F%6B%65%6E=c', '/cb?a%70i%5Fkey=[redacted]&%50ASSWORD=[redacted]&%74%6F%6B%65%6E=[redacted]'],
    ['/cb?token=a#b&c=1', '/cb?token=[redacted]&c=1'],
  ])('redacts %s', (input, output) => {
    expect(redactUrl(input)).toBe(output);
  });

  it.each([
    '/v1/callbacks/twilio?bodySHA256=4c5f0d2a&src=sms',
    '/cb?token_name=x&tokens=2&keys=1&monkey=3',
    '/cb?to+ken=x',
    '/cb?token',
    '/cb',
    '/cb?',
    '/cb?%=1&%7=2&%zz=3&%E0%A4%A=4&%C3%28=5&%FF=6',
    '/cb?=x&&',
    '/cb?a=1?token=2',
  ])('leaves %s alone (and never throws)', (url) => {
    expect(redactUrl(url)).toBe(url);
  });

  it('redacts every parameter that URLSearchParams (as src/ingest/access.ts) reads with a credential name, and only those', () => {
    const piece = fc.constantFrom(
      'to',
      'ken',
      'T',
      '%74o',
      'k%65n',
      '%6Ben',
      'a',
      'api',
      '%70i',
      '%50I',
      'key',
      'secret',
      'pass',
      'word',
      '%',
      '%2',
      '%E0',
      '%5F',
      '+',
      '_',
      '-',
      '.',
      'x',
    );
    const name = fc.array(piece, { maxLength: 5, size: 'max' }).map((p) => p.join(''));
    const value = fc.stringMatching(/^[a-z0-9%#=+]{0,6}$/);
    const query = (url: string) => [...new URLSearchParams(url.slice(url.indexOf('?') + 1))];
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.boolean(), value), { maxLength: 5, size: 'max' }), (pairs) => {
        const url = `/cb?${pairs.map(([k, eq, v]) => (eq ? `${k}=${v}` : k)).join('&')}`;
        const before = query(url);
        const after = query(redactUrl(url));
        expect(after.map(([k]) => k)).toEqual(before.map(([k]) => k));
        after.forEach(([k, v], i) => {
          const original = before[i][1];
          if (!isCredentialName(k)) expect(v).toBe(original);
          else if (v !== '[redacted]') expect([v, original]).toEqual(['', '']); // `?token` alone: nothing to hide
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('redacts credential headers', () => {
    const headers = {
      authorization: 'Bearer a',
      'Set-Cookie': 'b',
      cookie: 'c',
      'x-auth-token': 'd',
      'X-Api-Key': 'e',
      'x-amz-security-token': 'f',
      'x-twilio-signature': 'sig',
      'content-type': 'application/json',
    };
    expect(redactHeaders(headers)).toEqual({
      authorization: '[redacted]',
      'Set-Cookie': '[redacted]',
      cookie: '[redacted]',
      'x-auth-token': '[redacted]',
      'X-Api-Key': '[redacted]',
      'x-amz-security-token': '[redacted]',
      'x-twilio-signature': 'sig',
      'content-type': 'application/json',
    });
  });

  it('redacts access_token, accessToken and api keys in log lines', () => {
    expect(redactSecrets('{"access_token":"a","accessToken":"b","api_key":"c","x-api-key":"d","passwd":"e","n":1}')).toBe(
      '{"access_token":"[redacted]","accessToken":"[redacted]","api_key":"[redacted]","x-api-key":"[redacted]","passwd":"[redacted]","n":1}',
    );
  });
});

describe('cutting text', () => {
  it('marks the cut with the count of what was cut', () => {
    expect(truncateText('abc', 3)).toBe('abc');
    expect(truncateText(`${'x '.repeat(200)}`, 300)).toBe(`${'x '.repeat(150)}…(100 more characters)`);
  });

  it('does not leave half an e-mail address or phone number for masking to miss', () => {
    const text = `${'x'.repeat(280)} alice@example.com and +8613800138000`;
    const cut = truncateText(text, 290);
    expect(cut).toBe(`${'x'.repeat(280)} …(${text.length - 281} more characters)`);
    expect(maskPersonalData(truncateText(`${'y '.repeat(140)}call 13800138000 now`, 290))).not.toMatch(/\d{3}/);
  });

  it('cuts a run longer than an address where it must, and never splits a surrogate pair', () => {
    expect(truncateText('a'.repeat(1000), 300)).toBe(`${'a'.repeat(300)}…(700 more characters)`);
    expect(truncateText(`${'x'.repeat(299)}😀😀`, 300)).toBe(`${'x'.repeat(299)}…(4 more characters)`);
  });
});

describe('log lines', () => {
  const write = () => {
    const lines: string[] = [];
    return { lines, logger: createLogger('info', { write: (line: string) => void lines.push(line) }) };
  };

  it('are cut to the cap and stay JSON', () => {
    const { lines, logger } = write();
    logger.info({ detail: 'a'.repeat(100_000), other: '"quoted" \\ \u00e9'.repeat(10_000), to: '+8613800138000' }, 'm');
    expect(lines[0].length).toBeLessThanOrEqual(MAX_LOG_LINE_CHARS);
    const line = JSON.parse(lines[0]) as Record<string, string>;
    expect(line.detail).toMatch(/^a{1024}…\(98976 more characters\)$/);
    expect(line.other.startsWith('"quoted" \\ \u00e9')).toBe(true);
    expect(line).toMatchObject({ msg: 'm', to: '+861********00', level: 30 });
  });

  it('become a marker line when even their cut strings are too many', () => {
    const { lines, logger } = write();
    logger.warn({ many: Array.from({ length: 5000 }, (_, i) => `alice${i}@example.com`) }, 'm');
    expect(lines[0].length).toBeLessThanOrEqual(MAX_LOG_LINE_CHARS);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, msg: 'log line too long', chars: expect.any(Number) });
    expect(String(line.head)).toContain('a***@example.com');
    expect(String(line.head)).not.toContain('alice');
  });

  it('leaves a line under the cap as it was', () => {
    const text = '{"level":30,"msg":"x"}\n';
    expect(capLine(text)).toBe(text);
  });
});

describe('containsNul', () => {
  it('finds NUL characters in strings, keys and values at any depth', () => {
    expect(containsNul('a\u0000')).toBe(true);
    expect(containsNul({ a: [{ b: 'x' }, { ['k\u0000']: 1 }] })).toBe(true);
    expect(containsNul([[['ok', 'n\u0000']]])).toBe(true);
    expect(containsNul({ a: [{ b: 'x', c: 1, d: null, e: true }] })).toBe(false);
  });

  it('walks 200,000 levels without recursion', () => {
    let deep: unknown = 'end\u0000';
    for (let i = 0; i < 200_000; i += 1) deep = i % 2 ? [deep] : { k: deep };
    expect(containsNul(deep)).toBe(true);
    expect(containsNul(JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`))).toBe(false);
  });
});

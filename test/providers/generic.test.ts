import { createHash, createHmac } from 'node:crypto';
import iconv from 'iconv-lite';
import { PayloadInvalid, SignatureInvalid } from '../../src/errors';
import type { GenericSettings } from '../../src/providers/generic/definition';
import type { StatusReport } from '../../src/status/types';
import { fixture } from '../helpers/fixtures';
import { genericProvider, providerOrPreset } from '../helpers/generic';
import { ACCOUNT, rawCallback } from '../helpers/raw';

const SECRET = 'generic-secret-0123';
const account = { ...ACCOUNT, secret: SECRET };
/** The receive time of rawCallback(): timestamps below are relative to it. */
const NOW = Date.parse('2024-05-06T03:00:00.000Z') / 1000;

const BASE: Omit<GenericSettings, 'kind' | 'accounts'> = {
  format: { type: 'auto' },
  mapping: { messageId: 'id', status: 'status', recipient: 'to' },
  statuses: { map: { DELIVRD: 'delivered' }, default: 'failed' },
};

function signedWith(signature: NonNullable<GenericSettings['signature']>, extra: Partial<typeof BASE> = {}) {
  return genericProvider('gw', { ...BASE, ...extra, signature });
}

// Digests computed here with node:crypto over signed strings written out by hand, not by the code under test.
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const hash = (alg: string, s: string | Buffer) => createHash(alg).update(s).digest();
const hmac = (alg: string, s: string | Buffer) => createHmac(alg, SECRET).update(s).digest();

describe('generic signatures: every algorithm and signed-string form against independent vectors', () => {
  const form = 'to=%2B8613800138000&status=DELIVRD&id=42&note=a%2Bb+c';
  // sorted by name, values decoded once: id, note, status, to
  const sortedAmp = 'id=42&note=a+b c&status=DELIVRD&to=+8613800138000';
  const concatenated = 'id42notea+b cstatusDELIVRDto+8613800138000';

  it.each([
    ['md5', 'hex', '{params}{secret}', hash('md5', sortedAmp + SECRET).toString('hex')],
    ['sha1', 'hex', '{secret}{params}{secret}', hash('sha1', SECRET + sortedAmp + SECRET).toString('hex')],
    ['sha256', 'HEX', '{params}&key={secret}', hash('sha256', `${sortedAmp}&key=${SECRET}`).toString('hex').toUpperCase()],
    ['sha512', 'base64', '{params}{secret}', hash('sha512', sortedAmp + SECRET).toString('base64')],
    ['hmac-md5', 'HEX', 'sorted-params', hmac('md5', sortedAmp).toString('hex').toUpperCase()],
    ['hmac-sha1', 'base64', 'sorted-params', hmac('sha1', sortedAmp).toString('base64')],
    ['hmac-sha256', 'hex', 'sorted-params', hmac('sha256', sortedAmp).toString('hex')],
    ['hmac-sha512', 'hex', 'sorted-params', hmac('sha512', sortedAmp).toString('hex')],
  ] as const)('%s (%s) over %s', (algorithm, encoding, signed, expected) => {
    const provider = signedWith({ algorithm, signed, encoding, location: { header: 'X-Sign' } });
    const raw = (sig: string) =>
      rawCallback('gw', form, 'application/x-www-form-urlencoded', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-sign': sig } });
    expect(provider.verify!(raw(expected), account, null as never)).toEqual({});
    const flipped = expected.slice(0, -2) + (expected.endsWith('AA') || expected.endsWith('aa') ? 'bb' : 'aa').slice(0, 2);
    expect(() => provider.verify!(raw(flipped), account, null as never)).toThrow(SignatureInvalid);
    expect(() => provider.verify!(raw(expected), { ...account, secret: 'another-secret-99' }, null as never)).toThrow(/does not match/);
  });

  it('concatenated sorted params (no separators) and values only', () => {
    const provider = signedWith({
      algorithm: 'md5',
      signed: '{secret}{params}{secret}',
      encoding: 'HEX',
      location: { field: 'sign' },
      params: { separator: '', keyValueSeparator: '' },
    });
    const sig = md5(SECRET + concatenated + SECRET).toUpperCase();
    expect(provider.verify!(rawCallback('gw', `${form}&sign=${sig}`, 'application/x-www-form-urlencoded'), account, null as never)).toEqual({});

    // values without names tie no value to its field: only beside the body (see test/config/generic-config.test.ts)
    const values = signedWith({
      algorithm: 'hmac-sha256',
      signed: '{params}\n{body}',
      location: { header: 'X-Sign' },
      params: { separator: '|', valuesOnly: true },
    });
    const vsig = hmac('sha256', `42|a+b c|DELIVRD|+8613800138000\n${form}`).toString('hex');
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-sign': vsig };
    expect(values.verify!(rawCallback('gw', form, 'application/x-www-form-urlencoded', { headers }), account, null as never)).toEqual({});
  });

  it('signs the raw body bytes, not a re-serialization', () => {
    const body = '{ "id": "42",\r\n  "status": "DELIVRD" }\n';
    const provider = signedWith({ algorithm: 'hmac-sha256', signed: 'raw-body', location: { header: 'X-Signature', prefix: 'sha256=' } });
    const sig = `sha256=${hmac('sha256', body).toString('hex')}`;
    const raw = (s: string, b = body) => rawCallback('gw', b, 'application/json', { headers: { 'content-type': 'application/json', 'x-signature': s } });
    expect(provider.verify!(raw(sig), account, null as never)).toEqual({});
    expect(() => provider.verify!(raw(sig, JSON.stringify(JSON.parse(body))), account, null as never)).toThrow(/does not match/);
    expect(() => provider.verify!(raw(sig.slice(7)), account, null as never)).toThrow(/no signature in header X-Signature/);
  });

  it('sorted params over JSON use the numbers as received (0.03330000, not 0.0333)', () => {
    const body = '{"id":42,"status":"DELIVRD","price":0.03330000,"ok":true,"to":"+86138","nested":{"x":1},"sig":"SIG"}';
    const provider = signedWith({ algorithm: 'md5', signed: '{params}{secret}', location: { field: 'sig' }, params: { prefix: '&' } });
    const asReceived = md5(`&id=42&ok=true&price=0.03330000&status=DELIVRD&to=+86138${SECRET}`);
    const reEncoded = md5(`&id=42&ok=true&price=0.0333&status=DELIVRD&to=+86138${SECRET}`);
    expect(provider.verify!(rawCallback('gw', body.replace('SIG', asReceived), 'application/json'), account, null as never)).toEqual({});
    expect(() => provider.verify!(rawCallback('gw', body.replace('SIG', reEncoded), 'application/json'), account, null as never)).toThrow(/does not match/);
    expect(() => provider.verify!(rawCallback('gw', body.replace('SIG', 'not-hex'), 'application/json'), account, null as never)).toThrow(/is not hex/);
  });

  it('a template with timestamp, nonce and body headers; the nonce is handed back to be recorded', () => {
    const body = '{"id":"42","status":"DELIVRD"}';
    const ts = String(NOW - 30);
    const provider = signedWith({
      algorithm: 'sha256',
      signed: '{timestamp}{nonce}{body}{secret}',
      location: { header: 'X-Signature' },
      encoding: 'base64',
      timestamp: { header: 'X-Timestamp' },
      nonce: { header: 'X-Nonce' },
    });
    const headers = (over: Record<string, string> = {}) => {
      const h = { 'content-type': 'application/json', 'x-timestamp': ts, 'x-nonce': 'n-1', ...over };
      return { ...h, 'x-signature': hash('sha256', `${h['x-timestamp']}${h['x-nonce']}${body}${SECRET}`).toString('base64'), ...over };
    };
    const verified = provider.verify!(rawCallback('gw', body, 'application/json', { headers: headers() }), account, null as never);
    expect(verified).toEqual({ nonces: [{ value: 'n-1', expiresAt: new Date((NOW + 600) * 1000) }] });
    expect(() =>
      provider.verify!(rawCallback('gw', body, 'application/json', { headers: headers({ 'x-timestamp': String(NOW - 301) }) }), account, null as never),
    ).toThrow(/old, more than the 300 s tolerance/);
    expect(() =>
      provider.verify!(rawCallback('gw', body, 'application/json', { headers: headers({ 'x-timestamp': String(NOW + 301) }) }), account, null as never),
    ).toThrow(/in the future/);
    const { 'x-nonce': _n, ...noNonce } = headers();
    expect(() => provider.verify!(rawCallback('gw', body, 'application/json', { headers: noNonce }), account, null as never)).toThrow(/no nonce/);
  });

  it('timestamps in milliseconds, and signatures and timestamps in the query string', () => {
    const provider = signedWith({ algorithm: 'hmac-sha1', signed: '{timestamp}{body}', location: { query: 'sign' }, timestamp: { query: 'ts', unit: 'ms' } });
    const body = 'id=1&status=DELIVRD';
    const ts = String(NOW * 1000 - 5000);
    const sig = encodeURIComponent(hmac('sha1', ts + body).toString('hex'));
    expect(
      provider.verify!(rawCallback('gw', body, 'application/x-www-form-urlencoded', { url: `/v1/callbacks/gw?ts=${ts}&sign=${sig}` }), account, null as never),
    ).toEqual({});
    const stale = String(NOW * 1000 - 400_000);
    expect(() =>
      provider.verify!(
        rawCallback('gw', body, 'application/x-www-form-urlencoded', { url: `/v1/callbacks/gw?ts=${stale}&sign=${sig}` }),
        account,
        null as never,
      ),
    ).toThrow(/old/);
  });

  it('refuses when the account has no secret', () => {
    const provider = signedWith({ algorithm: 'hmac-sha256', signed: 'raw-body', location: { header: 'X-Sign' } });
    expect(() => provider.verify!(rawCallback('gw', 'id=1&status=DELIVRD', 'application/x-www-form-urlencoded'), ACCOUNT, null as never)).toThrow(
      /no secret configured/,
    );
  });
});

describe('the Vonage preset', () => {
  const vonage = genericProvider('vonage', { preset: 'vonage' });
  const FIXTURE_SECRET = 'fixture-signature-secret';

  /** Vonage's base string, built here from the documented rule (sort, replace & and = in values, &k=v). */
  function vonageBase(params: Record<string, string>): string {
    return Object.keys(params)
      .filter((k) => k !== 'sig')
      .sort()
      .map((k) => `&${k}=${params[k].replace(/[&=]/g, '_')}`)
      .join('');
  }

  it('verifies the md5hash fixture (lower-hex MD5 of base + secret), freshly received', () => {
    const body = fixture('vonage', 'delivered').body;
    const params = JSON.parse(body.toString()) as Record<string, string>;
    expect(params.sig).toBe(md5(vonageBase(params) + FIXTURE_SECRET));
    const raw = rawCallback('vonage', body, 'application/json', { receivedAt: new Date(Number(params.timestamp) * 1000 + 2000) });
    expect(vonage.verify!(raw, { ...ACCOUNT, secret: FIXTURE_SECRET }, null as never)).toEqual({
      nonces: [{ value: 'a1b2c3d4-e5f6', expiresAt: expect.any(Date) }],
    });
    const anHourLater = rawCallback('vonage', body, 'application/json', { receivedAt: new Date((Number(params.timestamp) + 3600) * 1000) });
    expect(() => vonage.verify!(anHourLater, { ...ACCOUNT, secret: FIXTURE_SECRET }, null as never)).toThrow(/3600 s old/);
  });

  it('verifies HMAC-SHA256 upper hex over a form with & and = in a value', () => {
    const hmacVonage = genericProvider('vonage', { preset: 'vonage', signature: { algorithm: 'hmac-sha256', signed: '{params}' } });
    const body = fixture('vonage', 'failed-form').body;
    const params = Object.fromEntries(new URLSearchParams(body.toString()));
    expect(params['client-ref']).toBe('a=b&c');
    expect(vonageBase(params)).toContain('&client-ref=a_b_c&');
    expect(params.sig).toBe(createHmac('sha256', FIXTURE_SECRET).update(vonageBase(params)).digest('hex').toUpperCase());
    const raw = rawCallback('vonage', body, 'application/x-www-form-urlencoded', { receivedAt: new Date(Number(params.timestamp) * 1000) });
    expect(hmacVonage.verify!(raw, { ...ACCOUNT, secret: FIXTURE_SECRET }, null as never)).toMatchObject({ nonces: [{ value: 'b2c3d4e5-f6a7' }] });
    // the same body under the md5hash default does not verify
    expect(() => vonage.verify!(raw, { ...ACCOUNT, secret: FIXTURE_SECRET }, null as never)).toThrow(/does not match/);
  });

  it.each(['md5', 'sha1', 'sha256', 'sha512'] as const)('verifies the HMAC-%s method (upper hex) once configured', (method) => {
    const provider = genericProvider('vonage', { preset: 'vonage', signature: { algorithm: `hmac-${method}`, signed: '{params}' } });
    const params: Record<string, string> = {
      messageId: 'M9',
      msisdn: '447700900000',
      status: 'delivered',
      'client-ref': 'x=1&y=2',
      timestamp: String(NOW),
      nonce: 'n-9',
    };
    params.sig = createHmac(method, FIXTURE_SECRET).update(vonageBase(params)).digest('hex').toUpperCase();
    const raw = rawCallback('vonage', JSON.stringify(params), 'application/json');
    expect(provider.verify!(raw, { ...ACCOUNT, secret: FIXTURE_SECRET }, null as never)).toMatchObject({ nonces: [{ value: 'n-9' }] });
  });

  it('records an "unknown" receipt without a status (keep)', () => {
    const [report] = vonage.parse(
      rawCallback('vonage', '{"messageId":"M1","msisdn":"447700900000","status":"unknown","err-code":"1"}', 'application/json'),
      ACCOUNT,
    ) as StatusReport[];
    expect(report).toMatchObject({ messageId: 'M1', recipient: '+447700900000', status: null, error: { code: '1', message: null } });
  });
});

describe('the Huawei Cloud SMS preset', () => {
  const huawei = providerOrPreset('huawei-sms');

  it('takes the receive time when updateTime is absent, and keeps UNKNOWN without a status', () => {
    const reports = huawei.parse(
      rawCallback('huawei-sms', 'smsMsgId=m-1&status=UNKNOWN&source=3', 'application/x-www-form-urlencoded'),
      ACCOUNT,
    ) as StatusReport[];
    expect(reports).toEqual([
      {
        type: 'message.status',
        messageId: 'm-1',
        recipient: '',
        status: null,
        error: { code: 'UNKNOWN', message: null },
        occurredAt: new Date('2024-05-06T03:00:00.000Z'),
        attributes: { source: '3' },
      },
    ]);
  });

  it('refuses a batch without statusReportList and a report without smsMsgId', () => {
    expect(() => huawei.parse(rawCallback('huawei-sms', '{"reports":[]}', 'application/json'), ACCOUNT)).toThrow(
      /"statusReportList" \(the list of reports\) is missing/,
    );
    expect(() => huawei.parse(rawCallback('huawei-sms', 'status=DELIVRD', 'application/x-www-form-urlencoded'), ACCOUNT)).toThrow(
      /"smsMsgId" \(the message id\) is missing/,
    );
  });
});

describe('generic mapping and formats', () => {
  it('reads XML reports at a path, JSON pointers, patterns in a zone, prefixes and attributes', () => {
    const xml =
      '<?xml version="1.0"?><root><list><r><id>a</id><st>MK:0001</st><t>2024-05-06 10:15:09</t><x>1</x></r><r><id>b</id><st>MI:0013</st><t>2024-05-06 10:16:00</t></r><r><id>c</id><st>DELIVRD</st></r></list></root>';
    const provider = genericProvider('gw', {
      format: { type: 'xml', reports: 'list.r' },
      mapping: { messageId: '/id', status: 'st', occurredAt: 't', attributes: { extra: 'x' } },
      time: { format: 'yyyy-MM-dd HH:mm:ss' },
      statuses: { map: { DELIVRD: 'delivered' }, prefixes: { M: 'deferred', 'MK:': 'failed' }, default: 'keep' },
    });
    const reports = provider.parse(rawCallback('gw', xml, 'text/xml'), ACCOUNT) as StatusReport[];
    expect(reports.map((r) => [r.messageId, r.status, r.error?.code ?? null, r.occurredAt.toISOString(), r.attributes])).toEqual([
      ['a', 'failed', 'MK:0001', '2024-05-06T02:15:09.000Z', { extra: '1' }],
      ['b', 'deferred', 'MI:0013', '2024-05-06T02:16:00.000Z', {}],
      ['c', 'delivered', null, '2024-05-06T03:00:00.000Z', {}],
    ]);
  });

  it('reads nested JSON by dotted path and unix times; an object where a value belongs is refused', () => {
    const provider = genericProvider('gw', {
      format: { type: 'json', reports: 'data.items' },
      mapping: { messageId: 'msg.id', status: 'state', recipient: 'msg.to', occurredAt: 'at', errorCode: 'err.code', errorMessage: 'err.text' },
      time: { format: 'unix_ms' },
      statuses: { map: { '0': 'delivered', '1': 'failed' } },
      channel: 'email',
    });
    const body = JSON.stringify({
      data: { items: [{ msg: { id: 'x1', to: 'Alice@Example.com' }, state: 1, at: 1714961709000, err: { code: 550, text: 'mailbox full' } }] },
    });
    expect(provider.parse(rawCallback('gw', body, 'application/json'), ACCOUNT)).toEqual([
      {
        type: 'message.status',
        messageId: 'x1',
        recipient: 'alice@example.com',
        status: 'failed',
        error: { code: '550', message: 'mailbox full' },
        occurredAt: new Date(1714961709000),
        attributes: {},
      },
    ]);
    expect(() => provider.parse(rawCallback('gw', body.replace('"x1"', '{"a":1}'), 'application/json'), ACCOUNT)).toThrow(/"msg.id" is not a single value/);
    expect(() => provider.parse(rawCallback('gw', body.replace('1714961709000', '"yesterday"'), 'application/json'), ACCOUNT)).toThrow(
      /"at" is not unix_ms: "yesterday"/,
    );
    expect(() => provider.parse(rawCallback('gw', '{"data":{"items":[1]}}', 'application/json'), ACCOUNT)).toThrow(PayloadInvalid);
    expect(() => provider.parse(rawCallback('gw', '{"a":1,"a":2}', 'application/json'), ACCOUNT)).toThrow(/not valid JSON/);
  });

  it('decodes a form in the configured charset when the Content-Type names none', () => {
    const provider = genericProvider('gw', {
      ...BASE,
      format: { type: 'form', charset: 'gbk' },
      mapping: { messageId: 'id', status: 'status', errorMessage: 'desc' },
    });
    const desc = [...iconv.encode('用户停机', 'gbk')].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    const [report] = provider.parse(rawCallback('gw', `id=1&status=UNDELIV&desc=${desc}`, 'application/x-www-form-urlencoded'), ACCOUNT) as StatusReport[];
    expect(report.error).toEqual({ code: 'UNDELIV', message: '用户停机' });
  });

  it('answers the configured acknowledgement', () => {
    expect(genericProvider('gw', { ...BASE, ack: { status: 202, body: { code: 0 } } }).ack(rawCallback('gw', '', 'text/plain'))).toEqual({
      status: 202,
      contentType: 'application/json; charset=utf-8',
      body: '{"code":0}',
    });
    expect(genericProvider('gw', BASE).ack(rawCallback('gw', '', 'text/plain'))).toEqual({ status: 200, contentType: 'text/plain; charset=utf-8', body: 'OK' });
  });
});

describe('form decoding', () => {
  const provider = genericProvider('gw', { ...BASE, format: { type: 'form' }, mapping: { messageId: 'id', status: 'status', errorMessage: 'desc' } });
  const messageOf = (body: Buffer, contentType = 'application/x-www-form-urlencoded') =>
    (provider.parse(rawCallback('gw', body, contentType), ACCOUNT)[0] as StatusReport).error?.message;

  it('takes escaped and unescaped bytes of the charset alike, + as a space, a stray % as itself', () => {
    const escaped = Buffer.from('id=1&status=X&desc=%E7%A9%BA%E5%8F%B7+100%+ok');
    expect(messageOf(escaped)).toBe('空号 100% ok');
    const unescaped = Buffer.concat([Buffer.from('id=1&status=X&desc='), Buffer.from('空号', 'utf8')]);
    expect(messageOf(unescaped)).toBe('空号');
    const gbk = Buffer.concat([Buffer.from('id=1&status=X&desc='), iconv.encode('空号', 'gbk')]);
    expect(messageOf(gbk, 'application/x-www-form-urlencoded; charset=gbk')).toBe('空号');
  });
});

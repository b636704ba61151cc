/**
 * Finding 6 of #14: what a generic provider's signature covers. Definitions whose signature covers
 * every byte, or every field the mapping reads, compile (refusals: test/config/generic-config.test.ts);
 * what a definition cannot decide (a form field sent twice, a JSON list where one object is signed)
 * is refused per request.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureInvalid } from '../../src/errors';
import { compileDefinition, type GenericSettings } from '../../src/providers/generic/definition';
import type { StatusReport } from '../../src/status/types';
import { genericProvider } from '../helpers/generic';
import { ACCOUNT, rawCallback } from '../helpers/raw';

const SECRET = 'generic-secret-0123';
const account = { ...ACCOUNT, secret: SECRET };
const hmac = (s: string) => createHmac('sha256', SECRET).update(s).digest('hex');
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

type Settings = Omit<GenericSettings, 'kind' | 'accounts'>;
const compile = (settings: Settings) => compileDefinition('gw', { kind: 'generic', accounts: {}, ...settings });
const FLAT: Settings = {
  format: { type: 'auto' },
  mapping: { messageId: 'id', status: 'status' },
  statuses: { map: { DELIVRD: 'delivered' }, default: 'failed' },
};
const header = { header: 'X-Sign' };

describe('signatures that cover what the mapping reads compile', () => {
  it.each<[string, Settings]>([
    [
      'raw-body: every byte, nested paths and the list of reports included',
      {
        format: { type: 'json', reports: '/data/list' },
        mapping: { messageId: 'msg.id', status: '/state/code', attributes: { price: 'cost.amount' } },
        statuses: FLAT.statuses,
        signature: { algorithm: 'hmac-sha256', signed: 'raw-body', location: header },
      },
    ],
    [
      '{body} in a template with a signed timestamp and nonce in headers',
      {
        format: { type: 'json', reports: 'data' },
        mapping: { messageId: 'a.b', status: 's' },
        statuses: FLAT.statuses,
        signature: {
          algorithm: 'hmac-sha256',
          signed: '{timestamp}.{nonce}.{body}',
          location: header,
          timestamp: { header: 'X-Timestamp' },
          nonce: { header: 'X-Nonce' },
        },
      },
    ],
    [
      '{params}: top-level members, by dotted path or one-step pointer',
      {
        ...FLAT,
        mapping: { messageId: '/id', status: 'status', recipient: 'to', attributes: { price: 'price' } },
        signature: { algorithm: 'md5', signed: '{params}{secret}', location: { field: 'sig' } },
      },
    ],
    [
      '{params} with skipEmpty and an excluded field the mapping does not read',
      { ...FLAT, signature: { algorithm: 'hmac-sha256', signed: 'sorted-params', location: header, params: { skipEmpty: true, exclude: ['extra'] } } },
    ],
    [
      '{params} with replacements no status code contains',
      { ...FLAT, signature: { algorithm: 'hmac-sha256', signed: '{params}', location: header, params: { replaceInValues: { '&': '_' } } } },
    ],
    [
      '{field:NAME} for every field the mapping reads',
      { ...FLAT, signature: { algorithm: 'md5', signed: '{field:id}|{field:status}|{secret}', location: header } },
    ],
    [
      'an excluded field signed by {field:NAME} instead',
      { ...FLAT, signature: { algorithm: 'hmac-sha256', signed: '{params}&s={field:status}', location: header, params: { exclude: ['status'] } } },
    ],
    [
      'a form: the list of reports is never read, a form field is one value',
      { ...FLAT, format: { type: 'form', reports: 'list' }, signature: { algorithm: 'hmac-sha256', signed: '{params}', location: header } },
    ],
    [
      'a timestamp in a header signed by {header:NAME}, one in a body field signed by {params}',
      {
        ...FLAT,
        signature: { algorithm: 'hmac-sha256', signed: '{header:X-Ts}{params}', location: header, timestamp: { header: 'X-Ts' }, nonce: { field: 'nonce' } },
      },
    ],
    [
      'the mapping reading the signed timestamp field',
      {
        ...FLAT,
        mapping: { messageId: 'id', status: 'status', occurredAt: 'ts' },
        time: { format: 'unix' },
        signature: { algorithm: 'hmac-sha256', signed: '{field:id}{field:status}{timestamp}', location: header, timestamp: { field: 'ts' } },
      },
    ],
    [
      'values only, when the body is signed too',
      { ...FLAT, signature: { algorithm: 'hmac-sha256', signed: '{params}{body}', location: header, params: { valuesOnly: true } } },
    ],
    [
      'signature none (unsigned: protected by token and allowIps instead)',
      { format: { type: 'json', reports: 'data' }, mapping: { messageId: 'a.b', status: 'c.d' }, statuses: FLAT.statuses, signature: { algorithm: 'none' } },
    ],
    ['the Huawei preset (unsigned)', { preset: 'huawei-sms' }],
    ['the Vonage preset (md5hash over the sorted parameters of a flat body)', { preset: 'vonage' }],
    ['the Vonage preset with an HMAC method', { preset: 'vonage', signature: { algorithm: 'hmac-sha512', signed: '{params}' } }],
  ])('%s', (_name, settings) => {
    expect(() => compile(settings)).not.toThrow();
  });

  it('verifies a {field:NAME} template; a changed unsigned field is read as sent, a changed signed one fails', () => {
    const provider = genericProvider('gw', {
      ...FLAT,
      mapping: { messageId: 'id', status: 'status' },
      signature: { algorithm: 'md5', signed: '{field:id}|{field:status}|{secret}', location: header },
    });
    const raw = (body: string) =>
      rawCallback('gw', body, 'application/x-www-form-urlencoded', {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-sign': md5(`42|DELIVRD|${SECRET}`) },
      });
    expect(provider.verify!(raw('id=42&status=DELIVRD&note=a'), account, null as never)).toEqual({});
    expect(provider.verify!(raw('id=42&status=DELIVRD&note=b'), account, null as never)).toEqual({});
    expect(() => provider.verify!(raw('id=42&status=UNDELIV&note=a'), account, null as never)).toThrow(/does not match/);
  });
});

describe('what a definition cannot decide is refused per request', () => {
  const form = (body: string, sig: string) =>
    rawCallback('gw', body, 'application/x-www-form-urlencoded', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-sign': sig } });
  const provider = genericProvider('gw', {
    ...FLAT,
    signature: { algorithm: 'hmac-sha256', signed: 'sorted-params', location: header, params: { skipEmpty: true } },
  });

  it('a form field the report reads, sent twice: the sorted parameters do not say which one comes first', () => {
    // Signed as id=1&status=DELIVRD&status=UNDELIV whichever comes first; the report takes the first.
    const sig = hmac('id=1&status=DELIVRD&status=UNDELIV');
    const reordered = form('id=1&status=UNDELIV&status=DELIVRD', sig);
    expect(() => provider.verify!(reordered, account, null as never)).toThrow(SignatureInvalid);
    expect(() => provider.verify!(reordered, account, null as never)).toThrow(/field "status" appears 2 times: which one the report takes is not signed/);
    // an empty one in front changes nothing signed under skipEmpty, but would hide the value
    expect(() => provider.verify!(form('id=1&status=&status=DELIVRD', hmac('id=1&status=DELIVRD')), account, null as never)).toThrow(
      /field "status" appears 2 times/,
    );
    // a field the report does not read may repeat
    expect(provider.verify!(form('id=1&status=DELIVRD&tag=b&tag=a', hmac('id=1&status=DELIVRD&tag=a&tag=b')), account, null as never)).toEqual({});
    expect((provider.parse(form('id=1&status=DELIVRD&tag=b&tag=a', ''), account)[0] as StatusReport).status).toBe('delivered');
  });

  it('a JSON list where {params} signs the members of one object', () => {
    const body = '[{"id":"1","status":"DELIVRD"}]';
    const raw = rawCallback('gw', body, 'application/json', { headers: { 'content-type': 'application/json', 'x-sign': hmac('') } });
    expect(() => provider.verify!(raw, account, null as never)).toThrow(SignatureInvalid);
    expect(() => provider.verify!(raw, account, null as never)).toThrow(
      /the body is a JSON list, and the signed parameters cover the members of one JSON object/,
    );
    // the same list is fine when the body is signed
    const signedBody = genericProvider('gw', { ...FLAT, signature: { algorithm: 'hmac-sha256', signed: 'raw-body', location: header } });
    expect(signedBody.verify!({ ...raw, headers: { ...raw.headers, 'x-sign': hmac(body) } }, account, null as never)).toEqual({});
  });
});

import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';

const load = (providers: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-config-'));
  const file = path.join(dir, 'dlr.config.json');
  fs.writeFileSync(file, JSON.stringify({ providers }));
  // (an admin token: these tests are about the providers' warnings, not the missing-token one)
  return loadConfig({ DLR_CONFIG: file, DLR_ADMIN_TOKEN: 'test-admin-token-0123456789', ...env });
};

const gw = (over: Record<string, unknown>, account: Record<string, unknown> = { secret: 'gw-secret-123' }) => ({
  gw: {
    kind: 'generic',
    format: { type: 'json' },
    mapping: { messageId: 'id', status: 'status' },
    statuses: { map: { OK: 'delivered' } },
    signature: { algorithm: 'hmac-sha256', signed: 'raw-body', location: { header: 'X-Sign' } },
    ...over,
    accounts: { default: account },
  },
});

describe('generic providers in the config', () => {
  it('loads the presets and a provider of its own, with secrets from the environment', () => {
    const c = load(
      {
        huawei: { kind: 'generic', preset: 'huawei-sms', accounts: { default: { token: 'huawei-url-token' } } },
        vonage: {
          kind: 'generic',
          preset: 'vonage',
          signature: { algorithm: 'hmac-sha512', signed: '{params}' },
          accounts: { default: { secret: 'env:VONAGE_SECRET' } },
        },
        ...gw({}),
      },
      { VONAGE_SECRET: 'vonage-signature-secret' },
    );
    expect(c.providers.huawei.generic).toMatchObject({
      name: 'huawei',
      channel: 'sms',
      signature: null,
      format: { type: 'auto', reports: ['statusReportList'] },
    });
    // the override replaced the algorithm and what is signed, the rest is the preset's
    expect(c.providers.vonage.generic!.signature).toMatchObject({
      algorithm: 'hmac-sha512',
      template: [{ kind: 'params' }],
      location: { field: 'sig' },
      timestamp: { field: 'timestamp' },
    });
    expect(c.providers.vonage.accounts.default.secret).toBe('vonage-signature-secret');
    expect(c.warnings).toEqual([]);
  });

  it('merges the status table of a preset code by code', () => {
    const c = load({
      huawei: { kind: 'generic', preset: 'huawei-sms', statuses: { map: { UNKNOWN: 'failed' } }, accounts: { default: { token: 'huawei-url-token' } } },
    });
    const map = c.providers.huawei.generic!.statuses.map;
    expect(map.get('UNKNOWN')).toBe('failed');
    expect(map.get('DELIVRD')).toBe('delivered');
  });

  it('warns about an unsigned generic provider with neither token nor allowIps', () => {
    const c = load({ huawei: { kind: 'generic', preset: 'huawei-sms', accounts: { default: {} } } });
    expect(c.warnings).toEqual(['providers.huawei.accounts.default has neither token nor allowIps: anyone can post reports to it']);
  });

  it.each([
    [gw({ mapping: { messageId: 'id' } }), /providers\.gw\.mapping\.status: must have required property 'status'/],
    [gw({ mapping: { messageId: 'a..b', status: 's' } }), /providers\.gw\.mapping\.messageId: "a\.\.b" has an empty step/],
    [gw({ statuses: { map: { OK: 'done' } } }), /providers\.gw\.statuses\.map\.OK: must be equal to one of the allowed values/],
    [gw({ format: { type: 'yaml' } }), /providers\.gw\.format\.type: must be equal to one of the allowed values/],
    [gw({ time: { format: 'yesterday' } }), /providers\.gw\.time\.format: "yesterday" is not unix, unix_ms, iso or a date pattern/],
    [gw({ time: { zone: 'Mars/Olympus' } }), /providers\.gw\.time\.zone: "Mars\/Olympus" is not an IANA time zone/],
    [
      gw({ signature: { algorithm: 'md5', signed: 'sorted-params', location: { field: 'sign' } } }),
      /providers\.gw\.signature\.signed: a plain md5 signature proves nothing unless \{secret\} is part/,
    ],
    [
      gw({ signature: { algorithm: 'hmac-sha1', signed: '{body}{date}', location: { header: 'X-Sign' } } }),
      /providers\.gw\.signature\.signed: unknown placeholder \{date\}/,
    ],
    [
      gw({ signature: { algorithm: 'hmac-sha1', signed: 'body', location: { header: 'X-Sign' } } }),
      /providers\.gw\.signature\.signed: "body" signs no part of the request/,
    ],
    [
      gw({ signature: { algorithm: 'hmac-sha1', signed: '{timestamp}{body}', location: { header: 'X-Sign' } } }),
      /providers\.gw\.signature\.signed: \{timestamp\} is used but signature\.timestamp/,
    ],
    [
      gw({ signature: { algorithm: 'hmac-sha1', signed: '{body}', location: { header: 'X-Sign' }, nonce: { header: 'X-Nonce' } } }),
      /providers\.gw\.signature\.nonce: a nonce needs signature\.timestamp/,
    ],
    [gw({ signature: { algorithm: 'hmac-sha1', signed: '{body}' } }), /providers\.gw\.signature\.location: where the signature is is required/],
    [gw({ signature: { algorithm: 'hmac-sha1', location: { header: 'X-Sign' } } }), /providers\.gw\.signature\.signed: what hmac-sha1 signs is required/],
    [
      gw({ signature: { algorithm: 'hmac-sha1', signed: '{body}', location: { header: 'X-Sign', field: 'sig' } } }),
      /providers\.gw\.signature\.location: must match exactly one schema/,
    ],
    [
      gw({ signature: { algorithm: 'hmac-sha3', signed: '{body}', location: { header: 'X-Sign' } } }),
      /providers\.gw\.signature\.algorithm: must be equal to one of the allowed values/,
    ],
    [gw({}, {}), /providers\.gw\.accounts\.default\.secret: required, since the provider's signature is hmac-sha256/],
    [gw({ preset: 'nexmo' }), /providers\.gw\.preset: must be equal to one of the allowed values/],
    [gw({ kind: 'custom' }), /providers\.gw\.kind: must be equal to constant/],
    [{ Huawei: { kind: 'generic', preset: 'huawei-sms', accounts: {} } }, /providers\.Huawei: name must match pattern/],
  ])('refuses an invalid generic provider at start-up, naming the field (%#)', (providers, message) => {
    expect(() => load(providers)).toThrow(ConfigError);
    expect(() => load(providers)).toThrow(message);
  });

  // Finding 6 of #14: a signature must cover every byte, or every field the mapping reads.
  const params = (over: Record<string, unknown> = {}) => ({ algorithm: 'hmac-sha256', signed: '{params}', location: { header: 'X-Sign' }, ...over });
  const withSecret = { default: { secret: 'gw-secret-123' } };
  it.each([
    // signs none of the body
    [
      gw({ signature: { algorithm: 'md5', signed: '{secret}', location: { header: 'X-Sign' } } }),
      /providers\.gw\.signature\.signed: the signature covers none of the body \("\{secret\}"\)/,
    ],
    [
      gw({
        signature: {
          algorithm: 'hmac-sha256',
          signed: '{timestamp}{nonce}{header:X-Request-Id}',
          location: { header: 'X-Sign' },
          timestamp: { header: 'X-Ts' },
          nonce: { header: 'X-Nonce' },
        },
      }),
      /providers\.gw\.signature\.signed: the signature covers none of the body \("\{timestamp\}\{nonce\}\{header:X-Request-Id\}"\)/,
    ],
    [
      gw({ signature: { algorithm: 'sha256', signed: 'key={secret}&ts={timestamp}', location: { query: 'sign' }, timestamp: { query: 'ts' } } }),
      /providers\.gw\.signature\.signed: the signature covers none of the body/,
    ],
    // the list of reports is under a top-level member: {params} does not sign it
    [
      gw({ format: { type: 'json', reports: 'reports' }, signature: params({ signed: 'sorted-params' }) }),
      /providers\.gw\.signature: format\.reports reads "reports", which the signed parameters do not cover \(\{params\} signs top-level single values only/,
    ],
    [
      { huawei: { kind: 'generic', preset: 'huawei-sms', signature: params(), accounts: withSecret } },
      /providers\.huawei\.signature: format\.reports reads "statusReportList", which the signed parameters do not cover/,
    ],
    // nested members under {params}
    [
      gw({ mapping: { messageId: 'id', status: 'data.status' }, signature: params() }),
      /providers\.gw\.signature: mapping\.status reads "data\.status", which the signed parameters do not cover \(nested JSON under \{params\} is not signed; sign "raw-body" or "\{body\}"\)/,
    ],
    [
      gw({ mapping: { messageId: '/reports/0/id', status: 'status' }, signature: params() }),
      /providers\.gw\.signature: mapping\.messageId reads "\/reports\/0\/id", which the signed parameters do not cover \(nested JSON/,
    ],
    [
      gw({ mapping: { messageId: 'id', status: 'status', attributes: { price: 'cost.amount' } }, signature: params() }),
      /providers\.gw\.signature: mapping\.attributes\.price reads "cost\.amount", which the signed parameters do not cover/,
    ],
    [
      gw({ mapping: { messageId: 'msg.id', status: 'msg.status', errorMessage: 'desc' }, signature: params() }),
      /providers\.gw\.signature: mapping\.messageId reads "msg\.id", which .*; mapping\.status reads "msg\.status", which /,
    ],
    // fields left out of {params}
    [
      gw({ signature: params({ params: { exclude: ['status'] } }) }),
      /providers\.gw\.signature: mapping\.status reads "status", which the signed parameters do not cover \("status" is in signature\.params\.exclude\)/,
    ],
    [
      gw({ mapping: { messageId: 'id', status: 'status', eventId: 'sign' }, signature: params({ location: { field: 'sign' } }) }),
      /providers\.gw\.signature: mapping\.eventId reads "sign", which the signed parameters do not cover \("sign" is where the signature is/,
    ],
    // {field:…} covers that field only
    [
      gw({ signature: { algorithm: 'md5', signed: '{field:id}{secret}', location: { header: 'X-Sign' } } }),
      /providers\.gw\.signature: mapping\.status reads "status", which the signed fields do not cover \(only \{field:id\} is signed/,
    ],
    [
      gw({
        mapping: { messageId: 'id', status: 'data.status' },
        signature: { algorithm: 'md5', signed: '{field:id}{field:data}{secret}', location: { header: 'X-Sign' } },
      }),
      /mapping\.status reads "data\.status", which the signed fields do not cover \(nested JSON under \{field:NAME\} is not signed/,
    ],
    // values without names: a value can be moved to another field
    [
      gw({ signature: params({ signed: 'sorted-params', location: { field: 'sign' }, params: { separator: '|', valuesOnly: true } }) }),
      /providers\.gw\.signature\.params\.valuesOnly: values without their names/,
    ],
    // a replacement that two status codes could be told apart by
    [
      gw({ statuses: { map: { OK_1: 'delivered' } }, signature: params({ params: { replaceInValues: { '&': '_' } } }) }),
      /providers\.gw\.signature\.params\.replaceInValues: "&" and "_" sign alike, and the status code "OK_1" \(statuses\.map\) contains one/,
    ],
    [
      gw({ statuses: { prefixes: { 'MK:': 'failed' } }, signature: params({ params: { replaceInValues: { ':': '-' } } }) }),
      /providers\.gw\.signature\.params\.replaceInValues: ":" and "-" sign alike, and the status code "MK:" \(statuses\.prefixes\)/,
    ],
    [
      gw({ signature: params({ params: { replaceInValues: { ' ': '' } } }) }),
      /providers\.gw\.signature\.params\.replaceInValues: " " and "" sign alike, and the status code "OK"/,
    ],
    [
      { vonage: { kind: 'generic', preset: 'vonage', statuses: { map: { 'delivered=late': 'delivered' } }, accounts: withSecret } },
      /providers\.vonage\.signature\.params\.replaceInValues: "=" and "_" sign alike, and the status code "delivered=late"/,
    ],
    // a timestamp or nonce the signature does not cover proves nothing
    [
      gw({ signature: { algorithm: 'hmac-sha256', signed: 'raw-body', location: { header: 'X-Sign' }, timestamp: { header: 'X-Timestamp' } } }),
      /providers\.gw\.signature\.timestamp: the timestamp \(header X-Timestamp\) is not signed/,
    ],
    [
      gw({
        signature: {
          algorithm: 'hmac-sha256',
          signed: '{timestamp}{body}',
          location: { header: 'X-Sign' },
          timestamp: { header: 'X-Ts' },
          nonce: { query: 'nonce' },
        },
      }),
      /providers\.gw\.signature\.nonce: the nonce \(query parameter nonce\) is not signed/,
    ],
    [
      gw({ signature: params({ timestamp: { field: 'ts' }, params: { exclude: ['ts'] } }) }),
      /providers\.gw\.signature\.timestamp: the timestamp \(field ts\) is not signed/,
    ],
  ])('refuses a signature that does not cover what the mapping reads, naming what (%#)', (providers, message) => {
    expect(() => load(providers)).toThrow(ConfigError);
    expect(() => load(providers)).toThrow(message);
  });
});

describe('the signed presets of issue #17 in the config', () => {
  // the form Telnyx's portal shows: base64 of the raw 32-byte key
  const ED25519_KEY = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
  it('loads every one with the settings its scheme reads, from the environment', () => {
    const c = load(
      {
        resend: { kind: 'generic', preset: 'resend', accounts: { default: { secret: 'env:RESEND_SECRET' } } },
        telnyx: { kind: 'generic', preset: 'telnyx', accounts: { default: { publicKey: ED25519_KEY } } },
        messagebird: { kind: 'generic', preset: 'messagebird', accounts: { default: { secret: 'mb-signing-key', publicUrl: 'https://dlr.example.com' } } },
        mandrill: { kind: 'generic', preset: 'mandrill', accounts: { default: { secret: 'mandrill-key', publicUrl: 'https://dlr.example.com/' } } },
        plivo: { kind: 'generic', preset: 'plivo', accounts: { default: { secret: 'plivo-auth-token', publicUrl: 'https://dlr.example.com' } } },
        postmark: { kind: 'generic', preset: 'postmark', accounts: { default: { username: 'hook', password: 'hook-password' } } },
        'netease-yunxin': { kind: 'generic', preset: 'netease-yunxin', accounts: { default: { secret: 'netease-app-secret' } } },
      },
      { RESEND_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
    );
    expect(c.providers.resend.accounts.default.secret).toBe('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(c.providers.telnyx.generic?.signature?.algorithm).toBe('ed25519');
    expect(c.providers.messagebird.generic?.format.methods).toEqual(['GET']);
    // signed presets are not "unprotected": no warning about token or allowIps
    expect(c.warnings.filter((w) => w.includes('neither token nor allowIps'))).toEqual([]);
  });

  it.each([
    ['telnyx', {}, 'publicKey'],
    ['resend', { secret: '' }, 'secret'],
    ['messagebird', { secret: 'mb-signing-key' }, 'publicUrl'],
    ['postmark', { username: 'hook' }, 'password'],
    ['netease-yunxin', { token: 'a-url-token-123' }, 'secret'],
  ])('refuses %s without its %s, naming the setting', (name, account, setting) => {
    expect(() => load({ [name]: { kind: 'generic', preset: name, accounts: { default: account } } })).toThrow(ConfigError);
    expect(() => load({ [name]: { kind: 'generic', preset: name, accounts: { default: account } } })).toThrow(`providers.${name}.accounts.default.${setting}`);
  });

  it('refuses a telnyx publicKey that is no Ed25519 key and a resend secret that is not whsec_ base64', () => {
    expect(() => load({ telnyx: { kind: 'generic', preset: 'telnyx', accounts: { default: { publicKey: 'x'.repeat(44) } } } })).toThrow(
      /providers.telnyx.accounts.default.publicKey: is not the base64 of a raw 32-byte Ed25519 public key/,
    );
    expect(() => load({ resend: { kind: 'generic', preset: 'resend', accounts: { default: { secret: 'whsec_not-base64!' } } } })).toThrow(
      /providers.resend.accounts.default.secret: is not whsec_ followed by base64/,
    );
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';

const load = (providers: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-config-'));
  const file = path.join(dir, 'dlr.config.json');
  fs.writeFileSync(file, JSON.stringify({ providers }));
  return loadConfig({ DLR_CONFIG: file, ...env });
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
        vonage: { kind: 'generic', preset: 'vonage', signature: { algorithm: 'hmac-sha512', signed: '{params}' }, accounts: { default: { secret: 'env:VONAGE_SECRET' } } },
        ...gw({}),
      },
      { VONAGE_SECRET: 'vonage-signature-secret' },
    );
    expect(c.providers.huawei!.generic).toMatchObject({ name: 'huawei', channel: 'sms', signature: null, format: { type: 'auto', reports: ['statusReportList'] } });
    // the override replaced the algorithm and what is signed, the rest is the preset's
    expect(c.providers.vonage!.generic!.signature).toMatchObject({ algorithm: 'hmac-sha512', template: [{ kind: 'params' }], location: { field: 'sig' }, timestamp: { field: 'timestamp' } });
    expect(c.providers.vonage!.accounts.default!.secret).toBe('vonage-signature-secret');
    expect(c.warnings).toEqual([]);
  });

  it('merges the status table of a preset code by code', () => {
    const c = load({ huawei: { kind: 'generic', preset: 'huawei-sms', statuses: { map: { UNKNOWN: 'failed' } }, accounts: { default: { token: 'huawei-url-token' } } } });
    const map = c.providers.huawei!.generic!.statuses.map;
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
    [gw({ signature: { algorithm: 'md5', signed: 'sorted-params', location: { field: 'sign' } } }), /providers\.gw\.signature\.signed: a plain md5 signature proves nothing unless \{secret\} is part/],
    [gw({ signature: { algorithm: 'hmac-sha1', signed: '{body}{date}', location: { header: 'X-Sign' } } }), /providers\.gw\.signature\.signed: unknown placeholder \{date\}/],
    [gw({ signature: { algorithm: 'hmac-sha1', signed: 'body', location: { header: 'X-Sign' } } }), /providers\.gw\.signature\.signed: "body" signs no part of the request/],
    [gw({ signature: { algorithm: 'hmac-sha1', signed: '{timestamp}{body}', location: { header: 'X-Sign' } } }), /providers\.gw\.signature\.signed: \{timestamp\} is used but signature\.timestamp/],
    [gw({ signature: { algorithm: 'hmac-sha1', signed: '{body}', location: { header: 'X-Sign' }, nonce: { header: 'X-Nonce' } } }), /providers\.gw\.signature\.nonce: a nonce needs signature\.timestamp/],
    [gw({ signature: { algorithm: 'hmac-sha1', signed: '{body}' } }), /providers\.gw\.signature\.location: where the signature is is required/],
    [gw({ signature: { algorithm: 'hmac-sha1', location: { header: 'X-Sign' } } }), /providers\.gw\.signature\.signed: what hmac-sha1 signs is required/],
    [gw({ signature: { algorithm: 'hmac-sha1', signed: '{body}', location: { header: 'X-Sign', field: 'sig' } } }), /providers\.gw\.signature\.location: must match exactly one schema/],
    [gw({ signature: { algorithm: 'hmac-sha3', signed: '{body}', location: { header: 'X-Sign' } } }), /providers\.gw\.signature\.algorithm: must be equal to one of the allowed values/],
    [gw({}, {}), /providers\.gw\.accounts\.default\.secret: required, since the provider's signature is hmac-sha256/],
    [gw({ preset: 'nexmo' }), /providers\.gw\.preset: must be equal to one of the allowed values/],
    [gw({ kind: 'custom' }), /providers\.gw\.kind: must be equal to constant/],
    [{ Huawei: { kind: 'generic', preset: 'huawei-sms', accounts: {} } }, /providers\.Huawei: name must match pattern/],
  ])('refuses an invalid generic provider at start-up, naming the field (%#)', (providers, message) => {
    expect(() => load(providers)).toThrow(ConfigError);
    expect(() => load(providers)).toThrow(message);
  });
});

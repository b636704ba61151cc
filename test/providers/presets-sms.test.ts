import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config';
import { SignatureInvalid } from '../../src/errors';
import { PRESETS } from '../../src/providers/generic/definition';
import type { StatusReport } from '../../src/status/types';
import { fixture } from '../helpers/fixtures';
import { providerOrPreset } from '../helpers/generic';
import { ACCOUNT, rawCallback } from '../helpers/raw';

/** The Infobip and Sinch presets: their status tables, error codes, Sinch's signature, their settings. */

const statusOf = (name: 'infobip' | 'sinch', code: string): StatusReport['status'] => {
  const body =
    name === 'infobip'
      ? { results: [{ messageId: 'm-1', to: '41793026727', status: { groupName: code, name: `${code}_X` }, error: { name: 'EC_X', description: 'x' } }] }
      : { type: 'recipient_delivery_report_sms', batch_id: 'b-1', recipient: '+41793026727', code: 402, status: code, at: '2022-08-30T08:16:08.930Z' };
  const [r] = providerOrPreset(name).parse(rawCallback(name, JSON.stringify(body), 'application/json'), ACCOUNT) as StatusReport[];
  return r.status;
};

describe('the Infobip preset', () => {
  it.each(Object.entries(PRESETS.infobip.statuses.map))('maps status.groupName %s to %s', (code, status) => {
    expect(statusOf('infobip', code)).toBe(status === 'keep' ? null : status);
  });

  it('records a group it does not know without changing the status', () => {
    expect(statusOf('infobip', 'SOMETHING_NEW')).toBeNull();
  });

  it('keeps Infobip’s error.name as the error code and status.name as an attribute', () => {
    const [, , failed] = providerOrPreset('infobip').parse(
      rawCallback('infobip', fixture('infobip', 'delivery-reports').body, 'application/json'),
      ACCOUNT,
    ) as StatusReport[];
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'EC_ABSENT_SUBSCRIBER', message: 'Absent Subscriber' } });
    expect(failed.attributes.status_name).toBe('UNDELIVERABLE_NOT_DELIVERED');
  });

  it('refuses a body without results', () => {
    expect(() => providerOrPreset('infobip').parse(rawCallback('infobip', '{"reports":[]}', 'application/json'), ACCOUNT)).toThrow(/"results"/);
  });
});

describe('the Sinch preset', () => {
  const sinch = providerOrPreset('sinch');
  const SECRET = 'sinch-webhook-secret-1234';
  const body = fixture('sinch', 'failed').body;
  /** Signed as the Sinch SDKs verify it (sinch-sdk-python validate_webhook_signature_with_nonce). */
  const signedHeaders = (bytes: Buffer, nonce: string, timestamp: number, secret = SECRET) => ({
    'content-type': 'application/json',
    'x-sinch-webhook-signature-nonce': nonce,
    'x-sinch-webhook-signature-timestamp': String(timestamp),
    'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
    'x-sinch-webhook-signature': createHmac('sha256', secret)
      .update(Buffer.concat([bytes, Buffer.from(`.${nonce}.${timestamp}`)]))
      .digest('base64'),
  });
  const at = new Date('2024-05-06T03:00:00.000Z');
  const now = at.getTime() / 1000;
  const request = (headers: Record<string, string>, bytes = body) => rawCallback('sinch', bytes, 'application/json', { headers, receivedAt: at });

  it.each(Object.entries(PRESETS.sinch.statuses.map))('maps status %s to %s', (code, status) => {
    expect(statusOf('sinch', code)).toBe(status === 'keep' ? null : status);
  });

  it('keeps Sinch’s numeric code as the error code', () => {
    const [r] = sinch.parse(rawCallback('sinch', body, 'application/json'), ACCOUNT) as StatusReport[];
    expect(r.error).toEqual({ code: '402', message: null });
  });

  it('verifies Sinch’s published test vector (sinch-sdk-dotnet WebhooksTests.ValidateRequest)', () => {
    const vectorBody =
      '{"app_id":"","accepted_time":"2021-10-18T17:49:13.813615Z","project_id":"e2df3a34-a71b-4448-9db5-a8d2baad28e4","contact_create_notification":{"contact":{"id":"01FJA8B466Y0R2GNXD78MD9SM1","channel_identities":[{"channel":"SMS","identity":"48123456789","app_id":""}],"display_name":"New Test Contact","email":"new.contact@email.com","external_id":"","metadata":"","language":"EN_US"}},"message_metadata":""}';
    const raw = rawCallback('sinch', vectorBody, 'application/json', {
      headers: {
        'content-type': 'application/json',
        'x-sinch-webhook-signature-nonce': '01FJA8B4A7BM43YGWSG9GBV067',
        'x-sinch-webhook-signature-timestamp': '1634579353',
        'x-sinch-webhook-signature': '6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=',
      },
      receivedAt: new Date(1634579353 * 1000 + 2000),
    });
    expect(sinch.verify!(raw, { ...ACCOUNT, secret: 'foo_secret1234' } as never, null as never)).toMatchObject({
      nonces: [{ value: '01FJA8B4A7BM43YGWSG9GBV067' }],
    });
  });

  it('accepts a request signed with the account’s secret and hands back its nonce', () => {
    const verified = sinch.verify!(request(signedHeaders(body, 'nonce-1', now - 10)), { ...ACCOUNT, secret: SECRET } as never, null as never);
    expect(verified).toMatchObject({ nonces: [{ value: 'nonce-1' }] });
  });

  it.each([
    ['a forged body', () => request(signedHeaders(body, 'n', now), Buffer.from(body.toString().replace('Failed', 'Delivered'))), /does not match/],
    ['another secret', () => request(signedHeaders(body, 'n', now, 'someone-elses-secret')), /does not match/],
    ['a stale timestamp', () => request(signedHeaders(body, 'n', now - 600)), /old/],
    ['no nonce', () => request({ ...signedHeaders(body, 'n', now), 'x-sinch-webhook-signature-nonce': '' }), /no nonce/],
    ['no signature', () => request({ 'content-type': 'application/json' }), /no signature/],
  ])('refuses %s', (_what, make, message) => {
    const verify = () => sinch.verify!(make(), { ...ACCOUNT, secret: SECRET } as never, null as never);
    expect(verify).toThrow(SignatureInvalid);
    expect(verify).toThrow(message);
  });
});

describe('preset settings', () => {
  const load = (providers: Record<string, unknown>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-presets-'));
    const file = path.join(dir, 'dlr.config.json');
    fs.writeFileSync(file, JSON.stringify({ providers }));
    return loadConfig({ DLR_CONFIG: file, DLR_ADMIN_TOKEN: 'test-admin-token-0123456789' });
  };

  it('refuses a Sinch account without its secret, naming the setting', () => {
    expect(() => load({ sinch: { kind: 'generic', preset: 'sinch', accounts: { default: {} } } })).toThrow(/providers\.sinch\.accounts\.default\.secret/);
  });

  it('loads an Infobip account protected by a token, and Sinch with its secret', () => {
    const c = load({
      infobip: { kind: 'generic', preset: 'infobip', accounts: { default: { token: 'infobip-url-token' } } },
      sinch: { kind: 'generic', preset: 'sinch', accounts: { default: { secret: 'sinch-webhook-secret-1234' } } },
    });
    expect(c.providers.sinch.generic?.signature?.algorithm).toBe('hmac-sha256');
    expect(c.providers.infobip.generic?.signature).toBeNull();
  });
});

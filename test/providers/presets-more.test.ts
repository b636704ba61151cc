import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config/config';
import { PayloadInvalid, SignatureInvalid } from '../../src/errors';
import { PRESETS } from '../../src/providers/generic/definition';
import type { ProviderReport, StatusReport } from '../../src/status/types';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { lastRaw, postBytes } from '../helpers/callbacks';
import { fixture } from '../helpers/fixtures';
import { providerOrPreset } from '../helpers/generic';
import { ACCOUNT, rawCallback } from '../helpers/raw';

/**
 * The Brevo, Mailjet, SparkPost, Baidu Cloud SMS and Volcengine SMS presets: their status tables,
 * the provider's codes kept as error codes, basic auth (Mailjet, SparkPost), Baidu's MD5 signature,
 * their required settings, and Baidu and SparkPost over HTTP.
 */

type Name = 'brevo' | 'mailjet' | 'sparkpost' | 'baidu-sms' | 'volcengine-sms';

/** One report of the provider's shape carrying `code` as its status (or event type). */
function bodyWith(name: Name, code: string): string {
  switch (name) {
    case 'brevo':
      return JSON.stringify({ event: code, email: 'a@example.com', 'message-id': 'm-1@relay', ts_event: 1604933654, reason: 'r' });
    case 'mailjet':
      return JSON.stringify({ event: code, time: 1433333949, MessageID: 19421777835146490, email: 'a@example.com', error: 'user unknown' });
    case 'sparkpost': {
      const klass = ['open', 'initial_open', 'amp_open', 'amp_initial_open', 'click', 'amp_click'].includes(code)
        ? 'track_event'
        : code.endsWith('_unsubscribe')
          ? 'unsubscribe_event'
          : code.startsWith('generation_')
            ? 'gen_event'
            : 'message_event';
      return JSON.stringify([{ msys: { [klass]: { type: code, message_id: 'sp-1', rcpt_to: 'a@example.com', timestamp: '1460989507', bounce_class: '10' } } }]);
    }
    case 'baidu-sms':
      return JSON.stringify({ code, messageId: 'bd-1', mobile: '13800138000', carrierCode: 'MK:0001', deliverTime: '2024-05-06T02:59:58Z' });
    case 'volcengine-sms':
      return JSON.stringify([{ status_code: code, message_id: 'v-1', mobile: '13800138000', description: 'd' }]);
  }
}

function parse(name: Name, body: string | Buffer): ProviderReport[] {
  return providerOrPreset(name).parse(rawCallback(name, body, 'application/json'), ACCOUNT);
}

const statusOf = (name: Name, code: string) => (parse(name, bodyWith(name, code))[0] as StatusReport).status;
const actionOf = (name: Name, code: string) => {
  const [r] = parse(name, bodyWith(name, code));
  return r.type === 'message.engagement' ? r.action : `not an engagement: ${r.type}`;
};

describe.each(['brevo', 'mailjet', 'sparkpost', 'baidu-sms', 'volcengine-sms'] as const)('the %s status table', (name) => {
  const table = PRESETS[name].statuses as { map: Record<string, string>; engagements?: Record<string, string> };

  it.each(Object.entries(table.map))('maps %s to %s', (code, status) => {
    expect(statusOf(name, code)).toBe(status === 'keep' ? null : status);
  });

  if (table.engagements) {
    it.each(Object.entries(table.engagements))('turns %s into the engagement %s', (code, action) => {
      expect(actionOf(name, code)).toBe(action);
    });
  }
});

describe('codes the tables do not name', () => {
  it.each([
    ['brevo', 'some_new_event', null],
    ['mailjet', 'some_new_event', null],
    ['sparkpost', 'some_future_event', null],
    ['baidu-sms', '1', null],
    ['volcengine-sms', 'SME1', 'failed'],
  ] as const)('%s: %s → %s', (name, code, status) => {
    expect(statusOf(name, code)).toBe(status);
  });
});

describe('the provider’s own codes as error codes', () => {
  it('Brevo: the event name, the reason as its message', () => {
    const [r] = parse('brevo', fixture('brevo', 'hard-bounce').body) as StatusReport[];
    expect(r.error).toEqual({ code: 'hard_bounce', message: '550 5.1.1 The email account that you tried to reach does not exist' });
    expect(r.occurredAt.toISOString()).toBe('2020-11-09T14:54:14.000Z');
  });

  it('Mailjet: the error from its error table, MessageID in its own digits', () => {
    const [r] = parse('mailjet', fixture('mailjet', 'bounce').body) as StatusReport[];
    expect(r).toMatchObject({ messageId: '13792286917004336', status: 'failed', error: { code: 'user unknown' } });
    expect(r.attributes).toMatchObject({ hard_bounce: 'true', error_related_to: 'recipient' });
  });

  it('Mailjet: a grouped array and a single event alike', () => {
    expect(parse('mailjet', fixture('mailjet', 'grouped-sent').body)).toHaveLength(4);
    expect(parse('mailjet', fixture('mailjet', 'sent').body)).toHaveLength(1);
  });

  it('SparkPost: bounce_class, with the SMTP code beside it; event_id for duplicates', () => {
    const [r] = parse('sparkpost', fixture('sparkpost', 'bounce').body) as StatusReport[];
    expect(r.error).toEqual({ code: '1', message: 'MAIL REFUSED - IP (a.b.c.d) is in black list' });
    expect(r.attributes.smtp_code).toBe('554');
    expect(r.eventId).toBe('92356927693813856');
  });

  it('SparkPost: A/B test, ingest and relay events are acknowledged without a report', () => {
    const body = JSON.stringify([
      { msys: { relay_event: { type: 'relay_delivery', event_id: 'e-1', timestamp: '1460989507' } } },
      { msys: { ingest_event: { type: 'error', event_id: 'e-2', timestamp: '1460989507' } } },
    ]);
    expect(parse('sparkpost', body)).toEqual([]);
  });

  it('Baidu: carrierCode; Volcengine: status_code with its description', () => {
    expect((parse('baidu-sms', fixture('baidu-sms', 'failed').body)[0] as StatusReport).error).toEqual({ code: 'MK:0001', message: null });
    const [, failed] = parse('volcengine-sms', fixture('volcengine-sms', 'reports').body) as StatusReport[];
    expect(failed.error).toEqual({ code: 'UNDELIV', message: '用户接收失败' });
  });

  it('refuses a report without its message id, naming the field', () => {
    expect(() => parse('brevo', JSON.stringify({ event: 'delivered', email: 'a@example.com' }))).toThrow(PayloadInvalid);
    expect(() => parse('baidu-sms', JSON.stringify({ code: '0', mobile: '13800138000' }))).toThrow(/messageId/);
  });

  // SparkPost posts [{"msys":{}}] when a webhook is created and expects a 200 (statuses.ignoreMissing)
  it('SparkPost: acknowledges the validation batch [{"msys":{}}] with no report, and reads the events beside an empty element', () => {
    expect(parse('sparkpost', '[{"msys":{}}]')).toEqual([]);
    const events = JSON.parse(fixture('sparkpost', 'delivery').body.toString('utf8')) as unknown[];
    expect(parse('sparkpost', JSON.stringify([{ msys: {} }, ...events]))).toHaveLength(events.length);
  });
});

describe('basic auth (Mailjet, SparkPost)', () => {
  const account = { ...ACCOUNT, username: 'hook-user', password: 'hook-password-1' };
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const call = (name: 'mailjet' | 'sparkpost', authorization?: string) => {
    const fx = fixture(name, name === 'mailjet' ? 'sent' : 'delivery');
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) };
    return () => providerOrPreset(name).verify!(rawCallback(name, fx.body, 'application/json', { headers }), account, null as never);
  };

  it.each(['mailjet', 'sparkpost'] as const)('%s: accepts the account’s user name and password', (name) => {
    expect(call(name, basic('hook-user', 'hook-password-1'))()).toEqual({});
  });

  it.each([
    ['mailjet', 'a wrong password', basic('hook-user', 'guessed')],
    ['sparkpost', 'a wrong user name', basic('someone', 'hook-password-1')],
    ['sparkpost', 'no credentials', undefined],
  ] as const)('%s: refuses %s', (name, _what, authorization) => {
    expect(call(name, authorization)).toThrow(SignatureInvalid);
  });
});

describe('the Baidu Cloud SMS signature', () => {
  const SECRET = 'baidu-callback-token-1';
  const body = fixture('baidu-sms', 'delivered').body;
  const at = new Date('2024-05-06T03:00:00.000Z');
  /** Signed the way Baidu documents it: hex md5(token + timestamp + body), timestamp in milliseconds. */
  const signed = (bytes: Buffer, timestamp: number, secret = SECRET) => ({
    'content-type': 'application/json;charset=utf-8',
    requestid: '54eb30d9-fead-4048-bb8b-200cf12ab8e9',
    timestamp: String(timestamp),
    signature: createHash('md5')
      .update(Buffer.concat([Buffer.from(`${secret}${timestamp}`), bytes]))
      .digest('hex'),
  });
  const verify = (headers: Record<string, string>, bytes = body) =>
    providerOrPreset('baidu-sms').verify!(
      rawCallback('baidu-sms', bytes, 'application/json', { headers, receivedAt: at }),
      { ...ACCOUNT, secret: SECRET } as never,
      null as never,
    );

  it('accepts a push signed with the account’s token', () => {
    expect(() => verify(signed(body, at.getTime() - 2000))).not.toThrow();
  });

  it.each([
    ['a forged body', () => verify(signed(body, at.getTime()), Buffer.from(body.toString().replace('"0"', '"2"'))), /does not match/],
    ['another token', () => verify(signed(body, at.getTime(), 'someone-elses-token')), /does not match/],
    ['a stale timestamp', () => verify(signed(body, at.getTime() - 600_000)), /old/],
    ['no signature', () => verify({ 'content-type': 'application/json', timestamp: String(at.getTime()) }), /no signature/],
  ])('refuses %s', (_what, run, message) => {
    expect(run).toThrow(SignatureInvalid);
    expect(run).toThrow(message);
  });
});

describe('preset settings', () => {
  const load = (providers: Record<string, unknown>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-presets-more-'));
    const file = path.join(dir, 'dlr.config.json');
    fs.writeFileSync(file, JSON.stringify({ providers }));
    return loadConfig({ DLR_CONFIG: file, DLR_ADMIN_TOKEN: ADMIN_TOKEN });
  };

  it.each([
    ['baidu-sms', {}, /providers\.baidu\.accounts\.default\.secret/],
    ['mailjet', { password: 'hook-password-1' }, /providers\.mailjet\.accounts\.default\.username/],
    ['sparkpost', { username: 'hook-user' }, /providers\.sparkpost\.accounts\.default\.password/],
  ] as const)('refuses a %s account without the setting it needs, naming it', (preset, account, message) => {
    const key = preset === 'baidu-sms' ? 'baidu' : preset;
    expect(() => load({ [key]: { kind: 'generic', preset, accounts: { default: account } } })).toThrow(message);
  });

  it('loads every preset with what it needs', () => {
    const c = load({
      brevo: { kind: 'generic', preset: 'brevo', accounts: { default: { token: 'brevo-url-token-1' } } },
      mailjet: { kind: 'generic', preset: 'mailjet', accounts: { default: { username: 'u', password: 'hook-password-1' } } },
      sparkpost: { kind: 'generic', preset: 'sparkpost', accounts: { default: { username: 'u', password: 'hook-password-1' } } },
      baidu: { kind: 'generic', preset: 'baidu-sms', accounts: { default: { secret: 'baidu-callback-token-1' } } },
      volc: { kind: 'generic', preset: 'volcengine-sms', accounts: { default: { token: 'volc-url-token-1' } } },
    });
    expect(c.providers.baidu.generic?.signature?.algorithm).toBe('md5');
    expect(c.providers.sparkpost.generic?.signature?.algorithm).toBe('basic-auth');
    expect(c.providers.brevo.generic?.signature).toBeNull();
    expect(c.providers.volc.generic?.signature).toBeNull();
  });
});

describe('over HTTP', () => {
  const SECRET = 'baidu-callback-token-1';
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      providers: {
        baidu: { kind: 'generic', preset: 'baidu-sms', accounts: { default: { secret: SECRET } } },
        sparkpost: { kind: 'generic', preset: 'sparkpost', accounts: { default: { username: 'hook-user', password: 'hook-password-1' } } },
        volc: { kind: 'generic', preset: 'volcengine-sms', accounts: { default: { token: 'volc-url-token-1' } } },
      },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('Baidu: a signed push is accepted and the message failed with the carrier’s code; a forged one is 401', async () => {
    const body = fixture('baidu-sms', 'failed').body;
    const now = Date.now();
    const signature = createHash('md5')
      .update(Buffer.concat([Buffer.from(`${SECRET}${now}`), body]))
      .digest('hex');
    const headers = { 'content-type': 'application/json;charset=utf-8', timestamp: String(now), signature };
    await postBytes(app, '/v1/callbacks/baidu', body, headers).expect(200);
    const res = await request(app.url).get('/v1/messages/baidu/b1a2c3d4-0002').set(admin).expect(200);
    expect(res.body.message).toMatchObject({ status: 'failed', error: { code: 'MK:0001' } });

    const forged = Buffer.from(body.toString().replace('b1a2c3d4-0002', 'b1a2c3d4-0009'));
    const refused = await postBytes(app, '/v1/callbacks/baidu', forged, headers).expect(401);
    expect(refused.body.error).toBe('signature_invalid');
    expect((await lastRaw(app, 'baidu')).verdict).toBe('signature_invalid');
  });

  it('SparkPost: a batch with basic auth is accepted; without it, 401', async () => {
    const body = fixture('sparkpost', 'lifecycle-batch').body;
    const authorization = `Basic ${Buffer.from('hook-user:hook-password-1').toString('base64')}`;
    await postBytes(app, '/v1/callbacks/sparkpost', body, { 'content-type': 'application/json', authorization }).expect(200);
    const res = await request(app.url).get('/v1/messages/sparkpost/000443ee14578172be22').set(admin).expect(200);
    // queued, deferred, failed (out_of_band) and rejected (policy_rejection) in one batch: the earliest failure wins (a tie here: by status)
    expect(res.body.message.status).toBe('failed');
    await postBytes(app, '/v1/callbacks/sparkpost', body, { 'content-type': 'application/json' }).expect(401);
  });

  it('Volcengine: an unsigned batch needs the account’s token', async () => {
    const body = fixture('volcengine-sms', 'reports').body;
    await postBytes(app, '/v1/callbacks/volc', body, { 'content-type': 'application/json' }).expect(401);
    await postBytes(app, '/v1/callbacks/volc?token=volc-url-token-1', body, { 'content-type': 'application/json' }).expect(200);
    const res = await request(app.url).get('/v1/messages/volc/21000000010000000001').set(admin).expect(200);
    expect(res.body.message.status).toBe('delivered');
  });
});

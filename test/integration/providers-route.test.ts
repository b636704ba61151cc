import request from 'supertest';
import { STATUSES } from '../../src/status/types';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';

const READ_TOKEN = 'read-only-token-0123456789';

interface Entry {
  name: string;
  kind: 'builtin' | 'preset';
  channel: string;
  description: string;
  signature: { scheme: string; summary: string };
  settings: { name: string; required: boolean; description: string }[];
  ack: { status: number; contentType: string; body: string };
  statuses: { code: string; status: string }[];
  sources: string[];
}

describe('GET /v1/providers over HTTP', () => {
  let app: TestApp;
  let providers: Entry[];
  beforeAll(async () => {
    app = await startTestApp({ tokens: [{ token: READ_TOKEN, scopes: ['read'] }] });
    const res = await request(app.url).get('/v1/providers').set('authorization', `Bearer ${READ_TOKEN}`).expect(200).expect('content-type', /json/);
    providers = (res.body as { providers: Entry[] }).providers;
  });
  afterAll(() => app.close());

  it('answers 401 without a token', async () => {
    await request(app.url).get('/v1/providers').expect(401);
  });

  it('refuses a query parameter it does not take', async () => {
    await request(app.url).get('/v1/providers?kind=preset').set('authorization', `Bearer ${ADMIN_TOKEN}`).expect(400);
  });

  it('lists every built-in provider, then the presets', () => {
    const names = (kind: string) => providers.filter((p) => p.kind === kind).map((p) => p.name);
    expect(names('builtin')).toEqual(['aliyun', 'tencent', 'ronglian', 'twilio', 'sendgrid', 'mailgun', 'ses', 'aws-sms']);
    expect(names('preset')).toEqual(expect.arrayContaining(['huawei-sms', 'vonage', 'infobip', 'sinch']));
    expect(providers.findIndex((p) => p.kind === 'preset')).toBe(names('builtin').length);
  });

  it('describes each one completely: channel, signature, settings, ack, a status table of known statuses, sources', () => {
    const outcome = new RegExp(`^(${STATUSES.join('|')}|keep|engagement:[a-z_]+)$`);
    for (const p of providers) {
      expect({ name: p.name, channel: p.channel }).toEqual({ name: p.name, channel: expect.stringMatching(/^(sms|email)$/) });
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.signature.scheme).toMatch(/^[a-z0-9-]+$/);
      expect(p.signature.summary.length).toBeGreaterThan(3);
      expect(p.ack.status).toBe(200);
      expect(p.ack.contentType).toMatch(/\//);
      expect(p.statuses.length).toBeGreaterThan(1);
      for (const s of p.statuses) expect(`${p.name} ${s.code} ${s.status}`).toMatch(new RegExp(` ${outcome.source.slice(1, -1)}$`));
      expect(p.sources.length).toBeGreaterThan(0);
      for (const s of p.settings) expect(s).toEqual({ name: expect.any(String), required: expect.any(Boolean), description: expect.any(String) });
    }
  });

  it('says what the signed providers need and what the unsigned ones are protected by', () => {
    const byName = new Map(providers.map((p) => [p.name, p]));
    expect(byName.get('aliyun')).toMatchObject({ signature: { scheme: 'none' }, settings: [], ack: { body: '{"code":0,"msg":"接收成功"}' } });
    expect(byName.get('aws-sms')).toMatchObject({
      channel: 'sms',
      signature: { scheme: 'sns' },
      settings: expect.arrayContaining([expect.objectContaining({ name: 'topicArns', required: true })]),
      statuses: expect.arrayContaining([
        { code: 'TEXT_DELIVERED', status: 'delivered' },
        { code: 'TEXT_TTL_EXPIRED', status: 'expired' },
      ]),
    });
    expect(byName.get('sinch')).toMatchObject({
      kind: 'preset',
      signature: { scheme: 'hmac-sha256' },
      settings: [expect.objectContaining({ name: 'secret', required: true })],
    });
    expect(byName.get('infobip')).toMatchObject({
      signature: { scheme: 'none' },
      statuses: expect.arrayContaining([{ code: 'UNDELIVERABLE', status: 'failed' }]),
    });
    expect(byName.get('sendgrid')!.statuses).toEqual(expect.arrayContaining([{ code: 'open', status: 'engagement:opened' }]));
    expect(byName.get('aliyun')!.statuses).toEqual(expect.arrayContaining([{ code: 'Status 6 (international site)', status: 'expired' }]));
  });
});

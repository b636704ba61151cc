import { createHash } from 'node:crypto';
import request from 'supertest';
import { fixture, type Fixture } from '../helpers/fixtures';
import { lastRaw, postBytes as post } from '../helpers/callbacks';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { mailgunSigned, sendgridHeaders, sendgridKeys, snsSigned, SNS_CERT, SNS_CERT_URL, SNS_TOPIC, twilioSignature } from '../helpers/sign';

const TWILIO_TOKEN = 'twilio-auth-token-0123456789abcdef';
const MAILGUN_KEY = 'key-mailgun-signing-0123456789';
const PUBLIC_URL = 'https://dlr.example.com/edge';
const sg = sendgridKeys();
const other = sendgridKeys();

async function expectEvents(app: TestApp, fx: Fixture) {
  const raw = await lastRaw(app, fx.provider);
  expect(raw.verdict).toBe('accepted');
  expect(raw.events).toHaveLength(fx.events.length);
  fx.events.forEach((e, i) => expect(raw.events[i]).toMatchObject({ ...e, provider: fx.provider, account: 'default' }));
}

async function expectRefused(res: request.Response, app: TestApp, provider: string, detail: RegExp) {
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: 'signature_invalid', detail: expect.stringMatching(detail) });
  const raw = await lastRaw(app, provider);
  expect(raw.verdict).toBe('signature_invalid');
}

describe('signed providers over HTTP', () => {
  let app: TestApp;
  let fetched: string[];
  beforeAll(async () => {
    app = await startTestApp({
      providers: {
        twilio: { accounts: { default: { authToken: TWILIO_TOKEN, publicUrl: PUBLIC_URL }, other: { authToken: 'another-token-123', publicUrl: PUBLIC_URL } } },
        sendgrid: { accounts: { default: { publicKey: sg.publicKey } } },
        mailgun: { accounts: { default: { signingKey: MAILGUN_KEY } } },
        ses: {
          accounts: {
            default: { topicArns: [SNS_TOPIC], autoConfirm: true, certificates: { [SNS_CERT_URL]: SNS_CERT } },
            fetching: { topicArns: [SNS_TOPIC] },
          },
        },
      },
    });
    fetched = [];
    app.running.ctx.fetchText = (url) => {
      fetched.push(url);
      return Promise.resolve(url.endsWith('.pem') ? SNS_CERT : '<ConfirmSubscriptionResponse/>');
    };
  });
  afterAll(() => app.close());

  describe('twilio', () => {
    const form = (name: string) => fixture('twilio', name).body.toString();
    const headers = (url: string, body: string, token = TWILIO_TOKEN) => ({
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(token, url, body),
    });

    it.each(['status-undelivered', 'status-delivered'])(
      'accepts %s signed by the twilio SDK for the public URL, whatever Host the proxy sends',
      async (name) => {
        const fx = fixture('twilio', name);
        const res = await post(app, '/v1/callbacks/twilio?src=sms', fx.body, headers(`${PUBLIC_URL}/v1/callbacks/twilio?src=sms`, form(name))).expect(200);
        expect(res.text).toBe('');
        await expectEvents(app, fx);
      },
    );

    it('accepts a signature made over the URL with the default port', async () => {
      const body = form('status-delivered').replace('MessageStatus=delivered', 'MessageStatus=read');
      await post(app, '/v1/callbacks/twilio', body, headers('https://dlr.example.com:443/edge/v1/callbacks/twilio', body)).expect(200);
    });

    it('accepts a JSON body covered by bodySHA256', async () => {
      const body = JSON.stringify({ MessageSid: 'SMjson0001', MessageStatus: 'sent', To: '+15550001111' });
      const sha = createHash('sha256').update(body).digest('hex');
      const path = `/v1/callbacks/twilio?bodySHA256=${sha}`;
      const signature = twilioSignature(TWILIO_TOKEN, PUBLIC_URL + path, '');
      await post(app, path, body, { 'content-type': 'application/json', 'x-twilio-signature': signature }).expect(200);
      await post(app, path, body.replace('sent', 'queued'), { 'content-type': 'application/json', 'x-twilio-signature': signature }).expect(401);
    });

    it('refuses a JSON body without bodySHA256: a captured form signature plus a query string cannot set a status', async () => {
      const path = '/v1/callbacks/twilio?src=sms';
      const formBody = 'MessageSid=SMforge001&MessageStatus=failed&To=%2B15550002222&ErrorCode=30003';
      const signature = twilioSignature(TWILIO_TOKEN, PUBLIC_URL + path, formBody);
      await post(app, path, formBody, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }).expect(200);
      // The signed string is URL + sorted name+value pairs: the same string as a URL whose query ends in them.
      const forgedPath = `${path}ErrorCode30003MessageSidSMforge001MessageStatusfailedTo+15550002222`;
      const forged = JSON.stringify({ MessageSid: 'SMforge001', MessageStatus: 'delivered', To: '+15550002222' });
      await expectRefused(
        await post(app, forgedPath, forged, { 'content-type': 'application/json', 'x-twilio-signature': signature }),
        app,
        'twilio',
        /bodySHA256/,
      );
      const message = await request(app.url).get('/v1/messages/twilio/SMforge001').set('authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
      expect(message.body.message.status).toBe('failed');
    });

    it.each([
      ['a missing signature', () => ({ 'content-type': 'application/x-www-form-urlencoded' }), '/v1/callbacks/twilio', /no X-Twilio-Signature/],
      ['a forged signature', () => headers(`${PUBLIC_URL}/v1/callbacks/twilio`, 'x=1'), '/v1/callbacks/twilio', /does not match/],
      [
        'a signature for another account',
        () => headers(`${PUBLIC_URL}/v1/callbacks/twilio/other`, form('status-delivered')),
        '/v1/callbacks/twilio/other',
        /does not match/,
      ],
      [
        'a signature over the internal URL',
        () => headers(`http://127.0.0.1/v1/callbacks/twilio`, form('status-delivered')),
        '/v1/callbacks/twilio',
        /does not match/,
      ],
    ])('refuses %s', async (_what, h, path, detail) => {
      await expectRefused(await post(app, path, form('status-delivered'), h()), app, 'twilio', detail);
    });
  });

  describe('sendgrid', () => {
    it('accepts the event batch, CRLFs and all, verified on the raw bytes', async () => {
      const fx = fixture('sendgrid', 'events-batch');
      await post(app, '/v1/callbacks/sendgrid', fx.body, { 'content-type': fx.contentType, ...sendgridHeaders(sg.privateKey, fx.body) }).expect(200);
      await expectEvents(app, fx);
    });

    it.each([
      ['a signature by another key', () => sendgridHeaders(other.privateKey, fixture('sendgrid', 'events-batch').body), /does not match/],
      [
        'a stale timestamp',
        () => sendgridHeaders(sg.privateKey, fixture('sendgrid', 'events-batch').body, Math.floor(Date.now() / 1000) - 3600),
        /old, more than/,
      ],
      [
        'a future-dated timestamp',
        () => sendgridHeaders(sg.privateKey, fixture('sendgrid', 'events-batch').body, Math.floor(Date.now() / 1000) + 3600),
        /in the future/,
      ],
      ['a missing signature', () => ({}), /no X-Twilio-Email-Event-Webhook-Signature/],
    ])('refuses %s', async (_what, h, detail) => {
      await expectRefused(
        await post(app, '/v1/callbacks/sendgrid', fixture('sendgrid', 'events-batch').body, { 'content-type': 'application/json', ...h() }),
        app,
        'sendgrid',
        detail,
      );
    });

    it('refuses a body re-serialized after signing', async () => {
      const fx = fixture('sendgrid', 'events-batch');
      const reserialized = JSON.stringify(JSON.parse(fx.body.toString()));
      await expectRefused(
        await post(app, '/v1/callbacks/sendgrid', reserialized, { 'content-type': 'application/json', ...sendgridHeaders(sg.privateKey, fx.body) }),
        app,
        'sendgrid',
        /re-serialized/,
      );
    });
  });

  describe('mailgun', () => {
    it.each(['failed-permanent', 'failed-temporary'])('accepts %s', async (name) => {
      const fx = fixture('mailgun', name);
      const res = await post(app, '/v1/callbacks/mailgun', mailgunSigned(fx.body, MAILGUN_KEY), { 'content-type': 'application/json' }).expect(200);
      expect(res.body).toEqual({ message: 'ok' });
      await expectEvents(app, fx);
    });

    it('refuses a token seen before (a replay)', async () => {
      const body = mailgunSigned(fixture('mailgun', 'failed-temporary').body, MAILGUN_KEY, { token: 'replayed-token-0123456789' });
      await post(app, '/v1/callbacks/mailgun', body, { 'content-type': 'application/json' }).expect(200);
      await expectRefused(await post(app, '/v1/callbacks/mailgun', body, { 'content-type': 'application/json' }), app, 'mailgun', /used before/);
    });

    it.each([
      ['a wrong key', () => mailgunSigned(fixture('mailgun', 'failed-permanent').body, 'key-not-the-right-one'), /does not match/],
      [
        'a stale timestamp',
        () => mailgunSigned(fixture('mailgun', 'failed-permanent').body, MAILGUN_KEY, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
        /old/,
      ],
      [
        'a future-dated timestamp',
        () => mailgunSigned(fixture('mailgun', 'failed-permanent').body, MAILGUN_KEY, { timestamp: Math.floor(Date.now() / 1000) + 600 }),
        /future/,
      ],
      ['the fixture’s unsigned body', () => fixture('mailgun', 'failed-permanent').body.toString(), /old|does not match/],
    ])('refuses %s', async (_what, body, detail) => {
      await expectRefused(await post(app, '/v1/callbacks/mailgun', body(), { 'content-type': 'application/json' }), app, 'mailgun', detail);
    });
  });

  describe('ses (SNS)', () => {
    // the complaint first: its fixture expects the message it creates (version 0, no status yet)
    it.each(['notification-complaint', 'notification-delivery', 'notification-bounce'])('accepts %s signed with a pinned certificate', async (name) => {
      const fx = fixture('ses', name);
      await post(app, '/v1/callbacks/ses', snsSigned(fx.body), { 'content-type': fx.contentType, 'x-amz-sns-message-type': 'Notification' }).expect(200, '');
      await expectEvents(app, fx);
    });

    it('accepts SignatureVersion 1 (SHA1)', async () => {
      const body = snsSigned(fixture('ses', 'notification-delivery').body, { MessageId: 'v1-message-id' }, '1');
      await post(app, '/v1/callbacks/ses', body, { 'content-type': 'text/plain; charset=UTF-8' }).expect(200);
    });

    it('records a SubscriptionConfirmation and confirms it after the commit', async () => {
      const fx = fixture('ses', 'subscription-confirmation');
      await post(app, '/v1/callbacks/ses', snsSigned(fx.body), { 'content-type': fx.contentType }).expect(200);
      expect((await lastRaw(app, 'ses')).verdict).toBe('accepted');
      const subscribeUrl = JSON.parse(fx.body.toString()).SubscribeURL as string;
      await new Promise((r) => setTimeout(r, 50));
      expect(fetched).toContain(subscribeUrl);
    });

    it('fetches an unpinned certificate once and caches it', async () => {
      const before = fetched.filter((u) => u === SNS_CERT_URL).length;
      for (const id of ['fetch-1', 'fetch-2']) {
        await post(app, '/v1/callbacks/ses/fetching', snsSigned(fixture('ses', 'notification-delivery').body, { MessageId: id }), {
          'content-type': 'text/plain',
        }).expect(200);
      }
      expect(fetched.filter((u) => u === SNS_CERT_URL).length - before).toBe(1);
    });

    it.each([
      ['a topic not configured', { TopicArn: 'arn:aws:sns:us-east-1:123456789012:someone-else' }, /not in this account's topicArns/],
      [
        'a certificate host that is not SNS',
        { SigningCertURL: 'https://evil.example.com/SimpleNotificationService-1.pem' },
        /not an https \.pem URL on an sns/,
      ],
      ['a certificate over http', { SigningCertURL: SNS_CERT_URL.replace('https', 'http') }, /not an https/],
    ])('refuses %s', async (_what, over, detail) => {
      await expectRefused(
        await post(app, '/v1/callbacks/ses', snsSigned(fixture('ses', 'notification-delivery').body, over), { 'content-type': 'text/plain' }),
        app,
        'ses',
        detail,
      );
    });

    it('refuses a message altered after signing', async () => {
      const signed = JSON.parse(snsSigned(fixture('ses', 'notification-delivery').body));
      signed.Message = signed.Message.replace('Delivery', 'Bounce');
      await expectRefused(await post(app, '/v1/callbacks/ses', JSON.stringify(signed), { 'content-type': 'text/plain' }), app, 'ses', /does not match/);
    });
  });
});

describe('a signed provider without its secret', () => {
  it.each([
    ['mailgun', {}, /providers\.mailgun\.accounts\.default\.signingKey/],
    ['twilio', { publicUrl: 'https://dlr.example.com' }, /providers\.twilio\.accounts\.default\.authToken/],
    ['twilio', { authToken: 'twilio-auth-token-0123456789' }, /providers\.twilio\.accounts\.default\.publicUrl/],
    ['sendgrid', {}, /providers\.sendgrid\.accounts\.default\.publicKey/],
    ['ses', {}, /providers\.ses\.accounts\.default\.topicArns/],
  ])('%s cannot be configured without it: start-up names the missing setting', async (name, account, message) => {
    await expect(startTestApp({ providers: { [name]: { accounts: { default: account } } } })).rejects.toThrow(message);
  });
});

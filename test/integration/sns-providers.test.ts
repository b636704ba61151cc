import request from 'supertest';
import { fixture, loadFixtures } from '../helpers/fixtures';
import { lastRaw, postBytes as post } from '../helpers/callbacks';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../helpers/app';
import { snsSigned, SNS_CERT, SNS_CERT_URL, SNS_TOPIC } from '../helpers/sign';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const TEXT = { 'content-type': 'text/plain; charset=UTF-8' };

/** SES and AWS End User Messaging SMS over SNS, on a real server and SQLite file. */
describe('SNS-fed providers over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    const account = { topicArns: [SNS_TOPIC], certificates: { [SNS_CERT_URL]: SNS_CERT } };
    app = await startTestApp({ providers: { ses: { accounts: { default: account } }, 'aws-sms': { accounts: { default: account } } } });
    app.running.ctx.fetchText = () => Promise.reject(new Error('no fetching in this test'));
  });
  afterAll(() => app.close());

  describe('ses: a verified notification that carries no report', () => {
    it('acknowledges SES’s plain-text topic validation with 200 and logs it accepted, saying why there is no report', async () => {
      const fx = fixture('ses', 'notification-validation');
      await post(app, '/v1/callbacks/ses', snsSigned(fx.body, {}, '1'), TEXT).expect(200, '');
      const raw = await lastRaw(app, 'ses');
      expect(raw).toMatchObject({
        verdict: 'accepted',
        detail: 'no report: SNS Notification whose Message is not an SES event: "Successfully validated SNS topic for Amazon SES event publishing."',
        events: [],
      });
    });

    it('keeps that detail when the request is replayed', async () => {
      const { id } = await lastRaw(app, 'ses');
      const res = await request(app.url).post(`/v1/raw/${id}/replay`).set(auth).send({ dry_run: false }).expect(200);
      expect(res.body).toMatchObject({ verdict: 'accepted', detail: expect.stringMatching(/^no report: SNS Notification whose Message is not an SES event/) });
      expect((await lastRaw(app, 'ses')).detail).toMatch(/^no report: /);
    });

    it('says so for a SubscriptionConfirmation and for an SES event type it does not map', async () => {
      await post(app, '/v1/callbacks/ses', snsSigned(fixture('ses', 'subscription-confirmation').body), TEXT).expect(200);
      expect((await lastRaw(app, 'ses')).detail).toBe('no report: SNS SubscriptionConfirmation: confirmed after the commit when the account sets autoConfirm');
      const future = JSON.stringify({ eventType: 'Teleport', mail: { messageId: 'm-1', destination: ['a@example.com'] } });
      await post(app, '/v1/callbacks/ses', snsSigned(fixture('ses', 'notification-delivery').body, { Message: future, MessageId: 'future-1' }), TEXT).expect(
        200,
      );
      expect((await lastRaw(app, 'ses')).detail).toBe('no report: SES event type "Teleport" that this service does not map');
    });

    it('still refuses a plain-text notification whose signature does not match', async () => {
      const forged = JSON.parse(snsSigned(fixture('ses', 'notification-validation').body)) as Record<string, string>;
      forged.Message = 'Successfully validated something else.';
      const res = await post(app, '/v1/callbacks/ses', JSON.stringify(forged), TEXT).expect(401);
      expect(res.body).toEqual({ error: 'signature_invalid', detail: expect.stringMatching(/does not match/) });
    });
  });

  describe('aws-sms', () => {
    it.each(loadFixtures('aws-sms').map((fx) => [fx.name, fx] as const))('accepts the %s fixture, signed, into its expected event', async (_name, fx) => {
      await post(app, '/v1/callbacks/aws-sms', snsSigned(fx.body), { 'content-type': fx.contentType }).expect(fx.ack.status, fx.ack.body as string);
      const raw = await lastRaw(app, 'aws-sms');
      expect(raw.verdict).toBe('accepted');
      // a report that keeps the status (TEXT_UNKNOWN) makes no event: it is in the message's history
      const changing = fx.events.filter((e) => e.status !== null);
      expect(raw.events).toHaveLength(changing.length);
      changing.forEach((e, i) => expect(raw.events[i]).toMatchObject({ ...e, provider: 'aws-sms', account: 'default', channel: 'sms' }));
      for (const e of fx.events.filter((x) => x.status === null)) {
        const msg = await request(app.url).get(`/v1/messages/aws-sms/${e.message_id}`).set(auth).expect(200);
        expect(msg.body.history).toEqual([expect.objectContaining({ raw_id: raw.id, changed: false })]);
        expect(msg.body.history[0].error ?? msg.body.history[0]).toMatchObject(e.error as object);
      }
    });

    it('answers an SNS retry of the same notification as a duplicate', async () => {
      await post(app, '/v1/callbacks/aws-sms', snsSigned(fixture('aws-sms', 'text-successful').body), TEXT).expect(200);
      expect((await lastRaw(app, 'aws-sms')).verdict).toBe('duplicate');
    });

    it('lets a final TEXT_DELIVERED win over a later TEXT_PENDING of the same message', async () => {
      const event = (eventType: string, at: number) =>
        JSON.stringify({ eventType, eventTimestamp: at, isFinal: eventType !== 'TEXT_PENDING', messageId: 'order-m1', destinationPhoneNumber: '+14255550100' });
      const body = fixture('aws-sms', 'text-delivered').body;
      await post(app, '/v1/callbacks/aws-sms', snsSigned(body, { Message: event('TEXT_DELIVERED', 1_700_000_002_000), MessageId: 'o-1' }), TEXT).expect(200);
      await post(app, '/v1/callbacks/aws-sms', snsSigned(body, { Message: event('TEXT_PENDING', 1_700_000_001_000), MessageId: 'o-2' }), TEXT).expect(200);
      const msg = await request(app.url).get('/v1/messages/aws-sms/order-m1').set(auth).expect(200);
      expect(msg.body.message).toMatchObject({ status: 'delivered', recipient: '+14255550100', version: 1 });
    });

    it('acknowledges a voice event on the same topic, logging that it carries no SMS report', async () => {
      const voice = JSON.stringify({ eventType: 'VOICE_COMPLETED', messageId: 'v-1', destinationPhoneNumber: '+14255550100' });
      await post(app, '/v1/callbacks/aws-sms', snsSigned(fixture('aws-sms', 'text-delivered').body, { Message: voice, MessageId: 'voice-1' }), TEXT).expect(
        200,
        '',
      );
      expect(await lastRaw(app, 'aws-sms')).toMatchObject({
        verdict: 'accepted',
        detail: 'no report: event type "VOICE_COMPLETED" is not an SMS delivery event',
      });
    });

    it.each([
      ['a forged Message', (b: Buffer) => JSON.stringify({ ...JSON.parse(snsSigned(b)), Message: '{"eventType":"TEXT_DELIVERED"}' }), /does not match/],
      [
        'a topic not configured',
        (b: Buffer) => snsSigned(b, { TopicArn: 'arn:aws:sns:us-east-1:123456789012:someone-else' }),
        /not in this account's topicArns/,
      ],
      ['a certificate host that is not SNS', (b: Buffer) => snsSigned(b, { SigningCertURL: 'https://evil.example.com/x.pem' }), /not an https \.pem URL/],
      ['SignatureVersion 3', (b: Buffer) => JSON.stringify({ ...JSON.parse(snsSigned(b)), SignatureVersion: '3' }), /not 1 or 2/],
    ])('refuses %s with 401 and logs it', async (_what, make, detail) => {
      const res = await post(app, '/v1/callbacks/aws-sms', make(fixture('aws-sms', 'text-blocked').body), TEXT).expect(401);
      expect(res.body).toEqual({ error: 'signature_invalid', detail: expect.stringMatching(detail) });
      expect((await lastRaw(app, 'aws-sms')).verdict).toBe('signature_invalid');
    });

    it('refuses a non-numeric eventTimestamp with 400', async () => {
      const bad = JSON.stringify({ eventType: 'TEXT_DELIVERED', eventTimestamp: '2023-06-17', messageId: 'm-2' });
      const res = await post(
        app,
        '/v1/callbacks/aws-sms',
        snsSigned(fixture('aws-sms', 'text-delivered').body, { Message: bad, MessageId: 'bad-1' }),
        TEXT,
      ).expect(400);
      expect(res.body.detail).toMatch(/eventTimestamp/);
    });
  });
});

describe('aws-sms without its topics', () => {
  it('cannot be configured without topicArns: start-up names the missing setting', async () => {
    await expect(startTestApp({ providers: { 'aws-sms': { accounts: { default: {} } } } })).rejects.toThrow(
      /providers\.aws-sms\.accounts\.default\.topicArns|topicArns/,
    );
  });
});

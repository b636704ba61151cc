import { sendgrid } from '../../src/providers/sendgrid';
import { twilioSignature, urlVariants } from '../../src/providers/twilio/signature';
import twilioSdk from 'twilio';
import { ACCOUNT, rawCallback } from '../helpers/raw';

describe('official test vectors', () => {
  it('Twilio: the webhook-security guide’s example signature', () => {
    const params: [string, string][] = [
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', '+12349013030'],
      ['Digits', '1234'],
      ['From', '+12349013030'],
      ['To', '+18005551212'],
    ];
    expect(twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });

  it('Twilio: agrees with the SDK for repeated parameters, sorted by value', () => {
    const params: [string, string][] = [
      ['b', '2'],
      ['a', 'z'],
      ['a', 'y'],
    ];
    const url = 'https://example.com/hook';
    expect(twilioSignature('tok', url, params)).toBe(twilioSdk.getExpectedTwilioSignature('tok', url, { b: '2', a: ['z', 'y'] }));
  });

  it('Twilio: tries the URL with and without the default port', () => {
    expect(urlVariants('https://example.com/a?b=1')).toEqual(['https://example.com/a?b=1', 'https://example.com:443/a?b=1']);
    expect(urlVariants('http://example.com:80/a')).toEqual(['http://example.com:80/a', 'http://example.com/a']);
  });

  it('SendGrid: the eventwebhook spec vector verifies, and fails with one character changed', () => {
    const account = {
      ...ACCOUNT,
      publicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==',
    };
    const payload = '{"category":"example_payload","event":"test_event","message_id":"message_id"}';
    const headers = {
      'content-type': 'application/json',
      'x-twilio-email-event-webhook-timestamp': '1588788367',
      'x-twilio-email-event-webhook-signature': 'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=',
    };
    const receivedAt = new Date(1588788367 * 1000 + 2000);
    const ctx = { fetchText: () => Promise.reject(new Error('no fetch')) };
    expect(() => sendgrid.verify!(rawCallback('sendgrid', payload, '', { headers, receivedAt }), account, ctx)).not.toThrow();
    expect(() => sendgrid.verify!(rawCallback('sendgrid', payload.replace('test_event', 'test_evenT'), '', { headers, receivedAt }), account, ctx)).toThrow(
      /does not match/,
    );
    expect(() => sendgrid.verify!(rawCallback('sendgrid', payload, '', { headers, receivedAt: new Date() }), account, ctx)).toThrow(
      /old, more than the 300 s tolerance/,
    );
  });
});

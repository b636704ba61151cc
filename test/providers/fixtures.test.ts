import { loadFixtures } from '../helpers/fixtures';
import { providerOrPreset } from '../helpers/generic';
import { ACCOUNT, rawCallback } from '../helpers/raw';

/** Every fixture parses into exactly the reports its .expected.json names, and gets its ack. */
describe.each(loadFixtures())('fixture $provider/$name', (fx) => {
  const provider = providerOrPreset(fx.provider);
  const raw = rawCallback(fx.provider, fx.body, fx.contentType);

  it('names its source', () => {
    expect(fx.source.length).toBeGreaterThan(10);
  });

  it('parses into the expected reports', () => {
    const reports = provider.parse(raw, ACCOUNT);
    expect(
      reports.map((r) => ({
        type: r.type,
        message_id: r.messageId,
        recipient: r.recipient,
        ...(r.type === 'message.status' ? { status: r.status, error: r.error } : { action: r.action }),
        ...(fx.events.every((e) => 'occurred_at' in e) ? { occurred_at: r.occurredAt.toISOString() } : {}),
        attributes: r.attributes,
      })),
    ).toEqual(
      fx.events.map((e) => ({
        type: e.type,
        message_id: e.message_id,
        recipient: e.recipient,
        ...(e.type === 'message.status' ? { status: e.status, error: e.error } : { action: e.action }),
        ...('occurred_at' in e ? { occurred_at: e.occurred_at } : {}),
        attributes: e.attributes,
      })),
    );
  });

  it('answers the provider’s acknowledgement', () => {
    const ack = provider.ack(raw);
    expect(ack.status).toBe(fx.ack.status);
    expect(typeof fx.ack.body === 'string' ? ack.body : JSON.parse(ack.body)).toEqual(fx.ack.body);
  });
});

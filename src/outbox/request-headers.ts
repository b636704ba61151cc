import { customHeaders } from './custom-headers';
import { webhookHeaders } from './sign';
import { signingSecrets } from './subscriptions';
import type { SubscriptionRow } from '../db/types';

export const USER_AGENT = 'dlr-receiver-webhooks/1';

/**
 * The headers of one webhook request: the subscription's custom headers, then the service's own
 * (content type, user agent, Standard Webhooks signature) on top. Custom headers may not name the
 * signing ones (src/outbox/custom-headers.ts); a custom `user-agent` replaces ours.
 */
export function requestHeaders(
  sub: Pick<SubscriptionRow, 'secret' | 'previous_secret' | 'previous_secret_until' | 'headers'>,
  eventId: string,
  body: string,
  now: Date,
): Record<string, string> {
  return {
    'user-agent': USER_AGENT,
    ...customHeaders(sub.headers),
    ...webhookHeaders(signingSecrets(sub, now), eventId, Math.floor(now.getTime() / 1000), body),
  };
}

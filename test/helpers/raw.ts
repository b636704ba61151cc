import type { AccountConfig } from '../../src/config/config';
import type { RawCallback } from '../../src/raw/types';
import { newId } from '../../src/util/ids';

export const ACCOUNT: AccountConfig = { timeZone: 'Asia/Shanghai', timestampToleranceSeconds: 300, finalAfterSeconds: 259_200 };

/** A RawCallback as the route would build it. */
export function rawCallback(provider: string, body: Buffer | string, contentType: string, extra: Partial<RawCallback> = {}): RawCallback {
  return {
    id: newId('raw'),
    provider,
    account: 'default',
    method: 'POST',
    url: `/v1/callbacks/${provider}`,
    headers: { 'content-type': contentType },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    remoteAddr: '127.0.0.1',
    receivedAt: new Date('2024-05-06T03:00:00.000Z'),
    ...extra,
  };
}

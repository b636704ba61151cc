import type { Insertable } from 'kysely';
import type { AccountConfig } from '../../src/config/config';
import type { RawRequestTable } from '../../src/db/types';
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

/** A stored raw request with an empty JSON batch (`[]`) for tests that write rows directly: accepted, from loopback. */
export function storedRaw(id: string, receivedAt: string, extra: Partial<Insertable<RawRequestTable>> = {}): Insertable<RawRequestTable> {
  return {
    id,
    provider: 'aliyun',
    account: 'default',
    method: 'POST',
    url: '/',
    headers: '{}',
    body: Buffer.from('[]'),
    body_size: 2,
    remote_addr: '127.0.0.1',
    received_at: receivedAt,
    verdict: 'accepted',
    detail: null,
    ...extra,
  };
}

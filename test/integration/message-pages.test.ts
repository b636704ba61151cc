import type { Db } from '../../src/db/connect';
import { decodeCursor, encodeCursor } from '../../src/db/paging';
import { listMessages, type MessageFilter } from '../../src/status/queries';
import { openTestDatabase, testDialect } from '../helpers/db';

/**
 * GET /v1/messages pages the same messages in the same order (newest first: the key's order)
 * whichever index a filter walks — on SQLite a list by provider, account or status walks its
 * index in rowid order (migration 0015), a list by a time window alone walks the newest rows and
 * then reads the window's along its index, a recipient's in a window walks its newest and then
 * those between the window's lowest and highest key, the others walk the key's order — and a
 * cursor whose message is not there goes on below its key.
 */

const T = '2026-11-30T10:15:00.000Z';
/** An id as the service makes them: the prefix and 26 characters; even numbers only, so odd ones name no message. */
const key = (n: number) => `msg_${String(2 * n).padStart(26, '0')}`;
const between = (n: number) => `msg_${String(2 * n + 1).padStart(26, '0')}`;

interface Row {
  id: string;
  provider: string;
  account: string;
  status: string;
  recipient: string;
  stale: boolean;
  updated: string;
}

/** Minutes after T: a permutation of the rows, so a window's messages are spread over the key order. */
const minute = (n: number) => new Date(Date.parse(T) + n * 60_000).toISOString();

const ROWS: Row[] = Array.from({ length: 240 }, (_, i) => ({
  id: key(i),
  provider: ['aliyun', 'tencent', 'twilio'][i % 3],
  account: i % 5 === 0 ? 'b' : 'a',
  status: ['delivered', 'failed', 'sent', 'delivered'][i % 4],
  recipient: i % 7 === 0 ? '+8613800000001' : `+86139${String(i).padStart(8, '0')}`,
  stale: i % 11 === 0,
  updated: minute((i * 37) % 240),
}));

const FILTERS: MessageFilter[] = [
  {},
  { provider: 'aliyun' },
  { provider: 'tencent', status: 'delivered' },
  { account: 'b' },
  { status: 'failed' },
  { provider: 'twilio', account: 'a', status: 'sent' },
  { recipient: '+8613800000001' },
  { provider: 'aliyun', recipient: '+8613800000001' },
  { stale: 'true' },
  { provider: 'aliyun', stale: 'true' },
  { status: 'delivered', stale: 'false' },
  { since: minute(200) },
  { until: minute(30) },
  { since: minute(60), until: minute(120) },
  { provider: 'aliyun', since: minute(60), until: minute(120) },
  { status: 'failed', since: minute(100) },
  { stale: 'false', since: minute(100), until: minute(220) },
  { stale: 'true', until: minute(150) },
  { recipient: '+8613800000001', since: minute(50) },
  { recipient: '+8613800000001', since: minute(60), until: minute(120) },
  { provider: 'aliyun', recipient: '+8613800000001', until: minute(100) },
  { recipient: '+8613800000001', stale: 'false', since: minute(100), until: minute(220) },
];

function expected(f: MessageFilter, below?: string): string[] {
  return ROWS.filter(
    (r) =>
      (f.provider === undefined || r.provider === f.provider) &&
      (f.account === undefined || r.account === f.account) &&
      (f.status === undefined || r.status === f.status) &&
      (f.recipient === undefined || r.recipient === f.recipient) &&
      (f.stale === undefined || r.stale === (f.stale === 'true')) &&
      (f.since === undefined || r.updated >= f.since) &&
      (f.until === undefined || r.updated < f.until) &&
      (below === undefined || r.id < below),
  )
    .map((r) => r.id)
    .reverse();
}

/** Every page in turn; `windowWalk`: the rows a list with a window walks before it takes the time index (windowPage, keyWindowPage). */
async function pages(dbh: Db, f: MessageFilter, cursor?: string, windowWalk?: number, bound?: 'walk' | 'pass'): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    const page = await listMessages(dbh.db, { ...f, cursor, limit: 7 }, { windowWalk, bound });
    for (const m of page.items) seen.push(`${m.provider}/${m.message_id}`);
    if (page.next_cursor === null) return seen;
    cursor = decodeCursor(page.next_cursor);
  }
}

describe(`message lists page in key order whichever index they walk (${testDialect})`, () => {
  let dbh: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ dbh, close } = await openTestDatabase('dlr-message-pages-'));
    await dbh.db
      .insertInto('messages')
      .values(
        ROWS.map((r) => ({
          id: r.id,
          provider: r.provider,
          account: r.account,
          message_id: r.id.slice(4),
          recipient: r.recipient,
          channel: 'sms',
          status: r.status,
          version: 1,
          attributes: '{}',
          created_at: T,
          updated_at: r.updated,
          stale_at: r.stale ? T : null,
        })),
      )
      .execute();
  });
  afterAll(() => close());

  const name = (f: MessageFilter) => JSON.stringify(f);
  const ids = (list: string[]) => list.map((id) => `${ROWS.find((r) => r.id === id)!.provider}/${id.slice(4)}`);

  it.each(FILTERS.map((f) => [name(f), f] as const))('%s: every page in turn', async (_, f) => {
    expect(await pages(dbh, f)).toEqual(ids(expected(f)));
    // a list with a window that walks 1, 5 or 40 rows (from the cursor, then from the newest of the
    // rest of the window), then reads the rest along the time index (a recipient's, and on
    // PostgreSQL every list's: between the window's ends)
    for (const walk of [1, 5, 40]) expect(await pages(dbh, f, undefined, walk)).toEqual(ids(expected(f)));
    // PostgreSQL past those rows: walked on from there, or bounded by a pass along the window
    // (the planner's estimates choose; each way here)
    for (const bound of ['walk', 'pass'] as const) expect(await pages(dbh, f, undefined, 5, bound)).toEqual(ids(expected(f)));
  });

  it.each(FILTERS.map((f) => [name(f), f] as const))('%s: after a cursor whose message is there, and after one whose is not', async (_, f) => {
    expect(await pages(dbh, f, key(150))).toEqual(ids(expected(f, key(150))));
    expect(await pages(dbh, f, between(150))).toEqual(ids(expected(f, between(150))));
    expect(await pages(dbh, f, between(150), 3)).toEqual(ids(expected(f, between(150))));
    expect(await pages(dbh, f, between(-1))).toEqual([]);
  });

  it('a cursor the API hands out decodes to the key it continues below', async () => {
    const first = await listMessages(dbh.db, { provider: 'aliyun', limit: 3 });
    expect(decodeCursor(first.next_cursor!)).toBe(key(231));
    expect(first.next_cursor).toBe(encodeCursor(key(231)));
  });
});

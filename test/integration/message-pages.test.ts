import { sql } from 'kysely';
import { decodeTime } from 'ulid';
import type { Db } from '../../src/db/connect';
import { newId } from '../../src/util/ids';
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
/**
 * An id as the service makes them: the prefix and 26 characters; even numbers only, so odd ones
 * name no message. Three in turn share their first 13 characters (PostgreSQL bounds a window by
 * those, migration 0018: a bound stands for every key that shares them).
 */
const idOf = (n: number) => `msg_${String(Math.max(0, Math.floor(n / 6))).padStart(13, '0')}${String((n + 2) * 10).padStart(13, '0')}`;
const key = (n: number) => idOf(2 * n);
const between = (n: number) => idOf(2 * n + 1);
/**
 * PostgreSQL: one message whose key is not a ULID (its last character is a letter ULIDs leave
 * out), in the windows of some filters; SQLite orders such a key apart from the others
 * (src/db/stored-values.ts).
 */
const ODD = 100;

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
  id: i === ODD && testDialect === 'postgres' ? `${key(i).slice(0, -1)}I` : key(i),
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
  // rows 100, 113, 126 and 139: on PostgreSQL the lowest key is ODD's
  { since: minute(100), until: minute(104) },
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

  (testDialect === 'postgres' ? it : it.skip)(
    'PostgreSQL: id_order is the ULID time and 15 bits more, null for a key not of that form (migration 0018)',
    async () => {
      // the service's own keys beside the test's (added and rolled back): the time part checked by ulid's decoder
      const made = Array.from({ length: 20 }, (_, i) => newId('msg', Date.parse(T) + i * 977_000_003));
      const stored = await dbh.db
        .transaction()
        .execute(async (trx) => {
          await trx
            .insertInto('messages')
            .values(
              made.map((id) => ({
                id,
                provider: 'p',
                account: 'a',
                message_id: id,
                recipient: 'r',
                channel: 'sms',
                version: 1,
                attributes: '{}',
                created_at: T,
                updated_at: T,
              })),
            )
            .execute();
          const rows = (await sql<{ id: string; id_order: string | null }>`SELECT id, id_order FROM messages`.execute(trx)).rows;
          throw Object.assign(new Error('roll back'), { rows });
        })
        .catch((e: { rows: { id: string; id_order: string | null }[] }) => e.rows);
      expect(stored).toHaveLength(ROWS.length + made.length);
      for (const r of stored) {
        if (r.id.endsWith('I')) {
          expect(r.id_order).toBeNull();
          continue;
        }
        const order = BigInt(r.id_order!);
        expect(order).toBe([...r.id.slice(4, 17)].reduce((n, c) => n * 32n + BigInt('0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c)), 0n));
        expect(Number(order >> 15n)).toBe(decodeTime(r.id.slice(4)));
      }
      // ordered as the keys are
      const byKey = [...stored].filter((r) => r.id_order !== null).sort((x, y) => (x.id < y.id ? -1 : 1));
      for (let i = 1; i < byKey.length; i += 1) expect(BigInt(byKey[i].id_order!) >= BigInt(byKey[i - 1].id_order!)).toBe(true);
    },
  );

  it('a cursor the API hands out decodes to the key it continues below', async () => {
    const first = await listMessages(dbh.db, { provider: 'aliyun', limit: 3 });
    expect(decodeCursor(first.next_cursor!)).toBe(key(231));
    expect(first.next_cursor).toBe(encodeCursor(key(231)));
  });
});

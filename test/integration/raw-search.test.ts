import { sql } from 'kysely';
import type { Db } from '../../src/db/connect';
import { decodeCursor } from '../../src/db/paging';
import { planSearch, walkRaw, type SearchPlan } from '../../src/raw/filter';
import { listRaw } from '../../src/raw/queries';
import { openTestDatabase, testDialect } from '../helpers/db';
import { storedRaw } from '../helpers/raw';

/**
 * A search of the raw log (`GET /v1/raw?q=`) finds the same requests in the same order whichever
 * way it takes (planSearch): through the indexes, walking the log newest first, or walking part of
 * it and taking the rest through the indexes. The log is built so that the ways differ: a number
 * in 40 % of the messages, one in 5 %, numbers of one message each, and one report in five a later
 * report for an older message (a request that names a message sent long before it).
 */

const T = '2026-11-30T10:15:00.000Z';
const HEAVY = '+8613800000001';
const MID = '+8613800000002';
const pad = (n: number) => String(n).padStart(6, '0');
/** An id as the service makes them (a cursor carries one): the prefix and 26 characters, in order. */
const ulid = (prefix: string, n: number) => `${prefix}_${String(n).padStart(26, '0')}`;

/** A small deterministic generator (mulberry32), so a failure repeats. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Model {
  /** Raw request id → its provider. */
  requests: Map<string, string>;
  /** Raw request id → the recipients and message ids its reports named. */
  named: Map<string, Set<string>>;
}

async function build(dbh: Db): Promise<Model> {
  const next = random(20261202);
  const requests = new Map<string, string>();
  const named = new Map<string, Set<string>>();
  const messages: { id: string; messageId: string; recipient: string }[] = [];
  const raw = [];
  const msgs = [];
  const reports = [];
  let report = 0;
  for (let r = 0; r < 400; r++) {
    const id = ulid('raw', r);
    const provider = r % 2 === 0 ? 'aliyun' : 'tencent';
    requests.set(id, provider);
    named.set(id, new Set());
    raw.push(storedRaw(id, T, { provider }));
    const n = 1 + Math.floor(next() * 6);
    for (let k = 0; k < n; k++) {
      let m;
      if (messages.length > 0 && next() < 0.2) {
        m = messages[Math.floor(next() * messages.length)]; // a later report for an older message
      } else {
        const x = next();
        const recipient = x < 0.4 ? HEAVY : x < 0.45 ? MID : `+86139${pad(messages.length)}`;
        m = { id: ulid('msg', messages.length), messageId: `biz-${messages.length}`, recipient };
        messages.push(m);
        msgs.push({
          id: m.id,
          provider,
          account: 'default',
          message_id: m.messageId,
          recipient,
          channel: 'sms',
          status: 'sent',
          version: 1,
          attributes: '{}',
          created_at: T,
          updated_at: T,
        });
      }
      named.get(id)!.add(m.recipient).add(m.messageId);
      reports.push({
        id: ulid('rpt', report++),
        message_pk: m.id,
        raw_id: id,
        dedupe_key: `k${report}`,
        type: 'message.status',
        status: 'sent',
        occurred_at: T,
        received_at: T,
        changed: 1,
        attributes: '{}',
      });
    }
  }
  const db = dbh.db;
  for (let i = 0; i < raw.length; i += 100)
    await db
      .insertInto('raw_requests')
      .values(raw.slice(i, i + 100))
      .execute();
  for (let i = 0; i < msgs.length; i += 100)
    await db
      .insertInto('messages')
      .values(msgs.slice(i, i + 100))
      .execute();
  for (let i = 0; i < reports.length; i += 100)
    await db
      .insertInto('reports')
      .values(reports.slice(i, i + 100))
      .execute();
  if (testDialect === 'postgres') await sql`ANALYZE`.execute(db); // planSearch reads the planner's row counts
  return { requests, named };
}

/** Every page of a search, `limit` at a time, followed by its cursors. */
async function allPages(dbh: Db, q: string, provider: string | undefined, plan: SearchPlan | undefined): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await listRaw(dbh.db, { q, provider, limit: 7, cursor }, plan);
    ids.push(...page.items.map((i) => i.id));
    if (!page.next_cursor) return ids;
    cursor = decodeCursor(page.next_cursor);
  }
}

describe(`a raw log search finds the same requests whichever way it takes (${testDialect})`, () => {
  let dbh: Db;
  let close: () => Promise<void>;
  let model: Model;

  beforeAll(async () => {
    ({ dbh, close } = await openTestDatabase('dlr-raw-search-'));
    model = await build(dbh);
  });
  afterAll(() => close());

  function expected(match: (named: Set<string>) => boolean, provider?: string): string[] {
    return [...model.named.entries()]
      .filter(([id, named]) => match(named) && (!provider || model.requests.get(id) === provider))
      .map(([id]) => id)
      .sort()
      .reverse();
  }

  const PLANS: [string, SearchPlan | undefined][] = [
    ['as planned', undefined],
    ['through the indexes', { way: 'index' }],
    ['walking the whole log', { way: 'walk', first: 1, budget: Number.POSITIVE_INFINITY }],
    ['walking part of it, the rest through the indexes', { way: 'walk', first: 3, budget: 40 }],
    ['walking one long stretch, then the indexes', { way: 'walk', first: 150, budget: 100 }],
  ];
  const TERMS: [string, string, (named: Set<string>) => boolean][] = [
    ['a number in 40 % of the messages', HEAVY, (n) => n.has(HEAVY)],
    ['a number in 5 %', MID, (n) => n.has(MID)],
    ['a number of one message', '+86139000007', (n) => n.has('+86139000007')],
    ['a message id', 'biz-3', (n) => n.has('biz-3')],
    ['a masked number', '+86138******01', (n) => n.has(HEAVY)],
  ];

  it('chooses the walk for a number in many messages and the indexes for a rare one', async () => {
    expect((await planSearch(dbh.db, HEAVY, 50)).way).toBe('walk');
    expect((await planSearch(dbh.db, 'biz-3', 50)).way).toBe('index');
    expect((await planSearch(dbh.db, 'nobody', 50)).way).toBe('index');
  });

  describe.each(TERMS)('%s', (_name, term, match) => {
    it.each(PLANS)('%s', async (_way, plan) => {
      const want = expected(match);
      expect(await allPages(dbh, term, undefined, plan)).toEqual(want);
      expect(await allPages(dbh, term, 'tencent', plan)).toEqual(expected(match, 'tencent'));
    });

    // replay and export: oldest first, in batches, either way
    it.each(PLANS.slice(0, 3))('replay and export walk it %s', async (_way, plan) => {
      const walked: string[] = [];
      for await (const row of walkRaw(dbh.db, { q: term }, Number.MAX_SAFE_INTEGER, 7, plan)) walked.push(row.id);
      expect(walked).toEqual(expected(match).reverse());
    });
  });

  it('the log has what the cases need: requests naming the heavy number and old messages', () => {
    expect(expected((n) => n.has(HEAVY)).length).toBeGreaterThan(150);
    expect(expected((n) => n.has(MID)).length).toBeGreaterThan(10);
    expect(expected((n) => n.has('biz-3')).length).toBeGreaterThan(1);
  });
});

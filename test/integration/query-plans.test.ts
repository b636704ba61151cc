import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, sql, type LogEvent } from 'kysely';
import { Pool } from 'pg';
import { openDatabase, type Db } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import type { Database } from '../../src/db/types';
import { claimIn } from '../../src/outbox/claim';
import { getDelivery, listDeliveries } from '../../src/outbox/deliveries';
import { expandFanout } from '../../src/outbox/expand';
import { eventDeliveries, outboxSummary } from '../../src/outbox/overview';
import { listAudit } from '../../src/replay/audit';
import { getRaw, listRaw, openRawBody } from '../../src/raw/queries';
import { getMessage, listMessages, stats } from '../../src/status/queries';
import { searchMessages } from '../../src/status/search';
import { timeseries } from '../../src/status/timeseries';
import { databaseUrlFor, dropDatabaseFor, testDialect } from '../helpers/db';
import { storedRaw } from '../helpers/raw';

/**
 * Every read of the API goes through an index that matches its filter and order (issue #20): no
 * table scanned whole, no sort of the matching rows for ORDER BY. The queries are the ones the
 * routes run (captured through kysely's log), explained by the database itself: SQLite's EXPLAIN
 * QUERY PLAN, and PostgreSQL's EXPLAIN with sequential scans and sorts priced out of reach
 * (enable_seqscan/enable_sort off), so that a plan with either means no index can serve the query.
 */

/** Tables that grow with traffic: reading one whole is what this test refuses. */
const LARGE = ['messages', 'reports', 'raw_requests', 'events', 'deliveries', 'delivery_attempts', 'audit_log', 'stats_rollup'];
/**
 * Partial indexes that hold only the few rows a filter asks for: walking one whole is the plan.
 * messages_stale (migration 0006) and messages_stale_created (0014): stale messages; events_fanout
 * (migration 0011): events whose deliveries the worker has not made yet (a running worker makes
 * them within moments).
 */
const PARTIAL = ['messages_stale', 'messages_stale_created', 'events_fanout'];

interface Case {
  name: string;
  run(db: Kysely<Database>): Promise<unknown>;
  /** A newest-first list with no filter: walking the primary key's index from its end is the plan. */
  walk?: boolean;
  /**
   * A search: the raw requests that named a recipient or message id are found through indexes
   * (messages → reports → raw requests, each an index lookup) and only they are sorted (newest
   * first; PostgreSQL also sorts them to drop repeats).
   */
  search?: boolean;
  /** Counts summed over an index range (a rollup's buckets, a backlog): grouping may sort the rows of that range. */
  aggregate?: boolean;
  /**
   * The messages it reads are a time range's (under a second at each edge of a stats window, the
   * stale ones of the window): SQLite must search them through a `created_at` index, not through
   * the provider's (all of its messages). PostgreSQL chooses by its statistics.
   */
  byTime?: boolean;
  /**
   * A time window alone (SQLite): past the rows it walks, the newest keys of the window are read
   * along the covering index `messages_updated` and kept by a sort of those keys (LIMIT).
   */
  window?: boolean;
  /**
   * The index a plan that reads `table` must go through: one that has the filter as well as the
   * order (a walk of an index with the order alone tests each row, and no plan line says so).
   */
  through?: { table: string; index: string };
}

const T = '2026-11-30T10:15:00.000Z';
const CASES: Case[] = [
  { name: 'messages, no filter', walk: true, run: (db) => listMessages(db, { limit: 50 }) },
  { name: 'messages by provider', run: (db) => listMessages(db, { provider: 'aliyun', limit: 50 }) },
  { name: 'messages by provider and status', run: (db) => listMessages(db, { provider: 'aliyun', status: 'failed', limit: 50 }) },
  {
    name: 'messages by provider, account and status, after a cursor',
    run: (db) => listMessages(db, { provider: 'aliyun', account: 'default', status: 'failed', cursor: 'msg_0', limit: 50 }),
  },
  { name: 'messages by account', run: (db) => listMessages(db, { account: 'default', limit: 50 }) },
  { name: 'messages by status', run: (db) => listMessages(db, { status: 'delivered', limit: 50 }) },
  { name: 'messages by recipient', run: (db) => listMessages(db, { recipient: '+8613800138000', limit: 50 }) },
  { name: 'messages by provider in a window', run: (db) => listMessages(db, { provider: 'aliyun', since: T, until: '2026-11-30T11:00:00.000Z', limit: 50 }) },
  {
    name: 'messages by provider and status in a window, past the rows walked',
    run: (db) => listMessages(db, { provider: 'aliyun', status: 'failed', since: T, limit: 50 }, { windowWalk: 1 }),
  },
  { name: 'messages in a window', walk: true, window: true, run: (db) => listMessages(db, { since: T, until: '2026-11-30T11:00:00.000Z', limit: 50 }) },
  {
    name: 'messages in a window, past the rows walked, after a cursor',
    walk: true,
    window: true,
    run: (db) => listMessages(db, { since: T, cursor: 'msg_b003000', limit: 50 }, { windowWalk: 1 }),
  },
  {
    name: 'messages in a window that leaves out the newest, past the rows walked (the way to its newest estimated)',
    walk: true,
    window: true,
    run: (db) => listMessages(db, { since: T, until: '2026-11-30T11:00:00.000Z', limit: 50 }, { windowWalk: 1 }),
  },
  {
    name: 'messages in a window that leaves out the newest, past the rows walked, its newest walked down to',
    walk: true,
    window: true,
    run: (db) => listMessages(db, { since: T, until: '2026-11-30T11:00:00.000Z', limit: 50 }, { windowWalk: 1, bound: 'walk' }),
  },
  { name: 'messages by recipient in a window', run: (db) => listMessages(db, { recipient: '+8613800138000', since: T, limit: 50 }) },
  {
    name: 'messages by provider and recipient in a window, past the rows walked, after a cursor',
    run: (db) =>
      listMessages(
        db,
        { provider: 'aliyun', recipient: '+8613800138000', since: T, until: '2026-11-30T11:00:00.000Z', cursor: 'msg_b003000', limit: 50 },
        { windowWalk: 1 },
      ),
  },
  { name: 'stale messages', run: (db) => listMessages(db, { stale: 'true', limit: 50 }) },
  { name: 'stale messages by provider', run: (db) => listMessages(db, { provider: 'aliyun', stale: 'true', limit: 50 }) },
  { name: 'one message with its history', run: (db) => getMessage(db, { provider: 'aliyun', messageId: 'biz-1' }) },
  { name: 'stats, whole range', run: (db) => stats(db, {}) },
  { name: 'stats, an hour from an odd second', run: (db) => stats(db, { since: '2026-11-30T10:15:07.250Z', until: '2026-11-30T11:15:07.250Z' }) },
  {
    name: 'stats by provider and account, from an odd millisecond',
    byTime: true,
    run: (db) => stats(db, { provider: 'aliyun', account: 'default', since: '2026-11-30T10:15:07.250Z', until: '2026-11-30T10:47:59.999Z' }),
  },
  { name: 'stats by provider, a day', run: (db) => stats(db, { provider: 'aliyun', since: '2026-11-29T00:00:00.000Z', until: '2026-11-30T00:00:00.000Z' }) },
  { name: 'raw log, no filter', walk: true, run: (db) => listRaw(db, { limit: 50 }) },
  { name: 'raw log by provider', run: (db) => listRaw(db, { provider: 'aliyun', limit: 50 }) },
  { name: 'raw log by provider and account', run: (db) => listRaw(db, { provider: 'aliyun', account: 'default', limit: 50 }) },
  { name: 'raw log by verdict', run: (db) => listRaw(db, { verdict: 'signature_invalid', limit: 50 }) },
  { name: 'raw log search by recipient or message id', search: true, run: (db) => listRaw(db, { q: '+8613800138000', limit: 50 }) },
  { name: 'raw log search by a masked recipient', search: true, run: (db) => listRaw(db, { q: '138******00', limit: 50 }) },
  {
    // a term with many messages walks the log newest first (planSearch): stretches of it, each
    // request asked whether its reports name the term, then the indexes below what it looked at
    name: 'raw log search walking the log',
    walk: true,
    search: true,
    run: (db) => listRaw(db, { q: '+8613800138000', limit: 50 }, { way: 'walk', first: 1, budget: 1 }),
  },
  { name: 'one raw request', run: (db) => getRaw(db, 'raw_1') },
  { name: 'one raw body', run: async (db) => (await openRawBody(db, 'raw_1')).chunks.next() },
  { name: 'audit log', walk: true, run: (db) => listAudit(db, { limit: 50 }) },
  { name: 'audit log by action', run: (db) => listAudit(db, { action: 'replay', limit: 50 }) },
  { name: 'deliveries of a subscription', run: (db) => listDeliveries(db, 'sub_1', { limit: 50 }) },
  {
    name: 'deliveries of a subscription by state',
    through: { table: 'deliveries', index: 'deliveries_subscription_state_id' },
    run: (db) => listDeliveries(db, 'sub_1', { state: 'dead', limit: 50 }),
  },
  { name: 'one delivery', run: (db) => getDelivery(db, 'dlv_1') },
  // the console's reads (issue #15)
  { name: 'search by message id', search: true, run: (db) => searchMessages(db, 'biz-1') },
  { name: 'search by a number in another form', search: true, run: (db) => searchMessages(db, '13800138000') },
  { name: 'search by reference', search: true, run: (db) => searchMessages(db, 'order-42') },
  {
    name: 'timeseries, a day by the hour',
    aggregate: true,
    run: (db) => timeseries(db, { interval: '1h', since: '2026-11-30T00:00:00.000Z', until: '2026-12-01T00:00:00.000Z' }),
  },
  {
    name: 'timeseries by provider, an hour by the minute',
    aggregate: true,
    run: (db) => timeseries(db, { interval: '1m', group_by: 'provider', provider: 'aliyun', since: T, until: '2026-11-30T11:15:00.000Z' }),
  },
  { name: "an event's deliveries", run: (db) => eventDeliveries(db, 'evt_1') },
  { name: 'the outbox backlog', aggregate: true, run: (db) => outboxSummary(db, new Date(T)) },
  // the worker's steps: each subscription's due range (a busy one is not read), then the events to fan out
  {
    name: 'the worker claiming due deliveries',
    run: (db) => db.transaction().execute((trx) => claimIn(trx, 'wrk_1', new Date(T), 64, ['sub_b'], 60_000)),
  },
  { name: 'the worker fanning out new events', run: (db) => expandFanout(worker(db)) },
];

/** The worker's steps take a database handle: this test's logged connection as one. */
function worker(db: Kysely<Database>): Db {
  return { db, read: db, dialect: testDialect, transact: (fn) => db.transaction().execute(fn), describe: 'query-plans', close: () => db.destroy() };
}

async function seed(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto('raw_requests')
    .values(storedRaw('raw_1', T, { url: '/v1/callbacks/aliyun' }))
    .execute();
  await db
    .insertInto('messages')
    .values({
      id: 'msg_1',
      provider: 'aliyun',
      account: 'default',
      message_id: 'biz-1',
      recipient: '+8613800138000',
      channel: 'sms',
      status: 'delivered',
      error_code: null,
      error_message: null,
      occurred_at: T,
      version: 1,
      attributes: '', // its first report's (stored-form.ts): each read fills them in from the history
      created_at: T,
      updated_at: T,
    })
    .execute();
  await db
    .insertInto('reports')
    .values({
      id: 'rpt_1',
      message_pk: 'msg_1',
      raw_id: 'raw_1',
      dedupe_key: 'h:x',
      type: 'message.status',
      status: 'delivered',
      action: null,
      error_code: null,
      error_message: null,
      occurred_at: T,
      received_at: T,
      changed: 1,
      reason: null,
      event_id: '',
      attributes: '{"out_id":"order-42"}',
    })
    .execute();
  await db
    .insertInto('registrations')
    .values({
      provider: 'aliyun',
      account: 'default',
      message_id: 'biz-1',
      recipient: '+8613800138000',
      reference: 'order-42',
      metadata: null,
      created_at: T,
      updated_at: T,
    })
    .execute();
  await db.insertInto('events').values({ id: 'evt_1', message_pk: 'msg_1', raw_id: 'raw_1', type: 'message.status', payload: '{}', created_at: T }).execute();
  await db
    .insertInto('subscriptions')
    .values({ id: 'sub_1', url: 'http://127.0.0.1:9/hook', secret: 'whsec_x', filter: '{}', enabled: 1, created_at: T, updated_at: T })
    .execute();
  await db
    .insertInto('deliveries')
    .values({ id: 'dlv_1', event_id: 'evt_1', subscription_id: 'sub_1', state: 'pending', next_attempt_at: T, created_at: T, updated_at: T })
    .execute();
}

/**
 * PostgreSQL plans by statistics: a few thousand messages of another provider and account, with
 * distinct recipients, each with a report, a raw request and a delivered event, analyzed (the cases' filters select few), so that a search's plan is the one a real database gets
 * (on empty tables every plan costs the same).
 */
async function bulkForPostgres(db: Kysely<Database>): Promise<void> {
  await sql`INSERT INTO raw_requests (id, provider, account, method, url, headers, body, body_size, remote_addr, received_at, verdict)
    SELECT 'raw_b' || lpad(g::text, 6, '0'), 'bulk', 'bulk', 'POST', '/', '{}', '\x5b5d'::bytea, 2, '127.0.0.1', ${T}, 'accepted' FROM generate_series(1, 5000) g`.execute(
    db,
  );
  await sql`INSERT INTO messages (id, provider, account, message_id, recipient, channel, status, version, attributes, created_at, updated_at)
    SELECT 'msg_b' || lpad(g::text, 6, '0'), 'bulk', 'bulk', 'biz-b' || g, '+86139' || lpad(g::text, 8, '0'), 'sms', 'sent', 1, '{}', ${T}, ${T} FROM generate_series(1, 5000) g`.execute(
    db,
  );
  await sql`INSERT INTO reports (id, message_pk, raw_id, dedupe_key, type, status, occurred_at, received_at, changed, attributes)
    SELECT 'rpt_b' || lpad(g::text, 6, '0'), 'msg_b' || lpad(g::text, 6, '0'), 'raw_b' || lpad(g::text, 6, '0'), 'k', 'message.status', 'delivered', ${T}, ${T}, 1, '{}' FROM generate_series(1, 5000) g`.execute(
    db,
  );
  await sql`INSERT INTO events (id, message_pk, raw_id, type, payload, created_at)
    SELECT 'evt_b' || lpad(g::text, 6, '0'), 'msg_b' || lpad(g::text, 6, '0'), 'raw_b' || lpad(g::text, 6, '0'), 'message.status', '{}', ${T} FROM generate_series(1, 5000) g`.execute(
    db,
  );
  await sql`INSERT INTO subscriptions (id, url, secret, filter, enabled, created_at, updated_at) VALUES ('sub_b', 'http://127.0.0.1:9/bulk', 'whsec_b', '{}', 1, ${T}, ${T})`.execute(
    db,
  );
  await sql`INSERT INTO deliveries (id, event_id, subscription_id, state, next_attempt_at, created_at, updated_at)
    SELECT 'dlv_b' || lpad(g::text, 6, '0'), 'evt_b' || lpad(g::text, 6, '0'), 'sub_b', 'succeeded', ${T}, ${T}, ${T} FROM generate_series(1, 5000) g`.execute(
    db,
  );
  await sql`ANALYZE`.execute(db);
}

/** Each plan line that reads a large table whole or sorts for ORDER BY (SQLite). */
function sqliteProblems(plan: string[], c: Case): string[] {
  const reads = (line: string) => new RegExp(`^(SEARCH|SCAN) ${c.through?.table} `).test(line);
  if (c.through && plan.some(reads) && !plan.some((line) => reads(line) && line.includes(`INDEX ${c.through!.index} `)))
    return [`${c.through.table} not read through ${c.through.index}`];
  return plan.filter((line) => {
    const search = /^SEARCH messages USING (COVERING )?INDEX (\w+)/.exec(line);
    if (c.byTime && search) return !['messages_created', 'messages_stale_created'].includes(search[2]);
    if (/TEMP B-TREE FOR (RIGHT PART OF )?ORDER BY/.test(line)) return !c.search && !c.aggregate && !c.window;
    const scan = /^SCAN (\w+)( USING (COVERING )?INDEX (\w+))?/.exec(line);
    if (!scan || !LARGE.includes(scan[1])) return false;
    if (scan[4] && PARTIAL.includes(scan[4])) return false;
    return !(c.walk && scan[2]); // a walk of an index from its end is a newest-first list's plan
  });
}

interface PgNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Plans?: PgNode[];
}

/**
 * Each node that reads a large table whole, walks an index without a condition (bar a walk case),
 * or sorts (bar a search's), PostgreSQL's EXPLAIN (FORMAT JSON).
 */
function postgresProblems(root: PgNode, c: Case): string[] {
  const nodes: PgNode[] = [];
  const visit = (n: PgNode) => {
    nodes.push(n);
    for (const child of n.Plans ?? []) visit(child);
  };
  visit(root);
  const reads = nodes.filter((n) => c.through && n['Relation Name'] === c.through.table);
  if (c.through && reads.length > 0 && !reads.some((n) => n['Index Name'] === c.through!.index))
    return [`${c.through.table} not read through ${c.through.index}`];
  return nodes
    .filter((n) => {
      if (n['Node Type'] === 'Sort') return !c.search && !c.aggregate;
      if (!n['Relation Name'] || !LARGE.includes(n['Relation Name'])) return false;
      if (n['Node Type'] === 'Seq Scan') return true;
      if (n['Index Name'] && PARTIAL.includes(n['Index Name'])) return false;
      if (n['Node Type'].includes('Index') && !n['Index Cond'] && !n['Recheck Cond']) return !c.walk;
      return false;
    })
    .map((n) => `${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`);
}

describe(`every read route's query is index-backed (${testDialect})`, () => {
  let dir: string;
  let db: Kysely<Database>;
  let problemsOf: (q: CompiledQuery, c: Case) => Promise<string[]>;
  const captured: CompiledQuery[] = [];
  const log = (e: LogEvent) => {
    if (e.level === 'query' || e.level === 'error') captured.push(e.query);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-plans-'));
    const url = await databaseUrlFor(dir);
    const dbh = openDatabase(url);
    await migrateToLatest(dbh);
    await seed(dbh.db);
    await dbh.close();
    if (testDialect === 'sqlite') {
      db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path.join(dir, 'dlr.sqlite')) }), log });
      problemsOf = async (q, c) =>
        sqliteProblems(
          (await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]))).rows.map((r) => r.detail),
          c,
        );
    } else {
      const pool = new Pool({ connectionString: url, max: 1, options: '-c enable_seqscan=off' });
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log });
      problemsOf = async (q, c) => {
        const rows = (await db.executeQuery<{ 'QUERY PLAN': [{ Plan: PgNode }] }>(CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${q.sql}`, [...q.parameters]))).rows;
        return postgresProblems(rows[0]['QUERY PLAN'][0].Plan, c);
      };
      await bulkForPostgres(db);
    }
  });
  afterAll(async () => {
    await db.destroy();
    await dropDatabaseFor(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    // PostgreSQL: a search sorts what it found, so sorting is priced as usual and the plan is the
    // one chosen on the statistics of bulkForPostgres's rows
    if (testDialect === 'postgres') await sql`SET enable_sort = ${sql.lit(c.search ? 'on' : 'off')}`.execute(db);
    captured.length = 0;
    await c.run(db);
    // (the reads only: PostgreSQL's stats and timeseries read on one snapshot, opened and closed around them)
    const queries = captured.filter((q) => /^\s*(select|with)\b/i.test(q.sql));
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) {
      const problems = await problemsOf(q, c);
      expect({ sql: q.sql, problems }).toEqual({ sql: q.sql, problems: [] });
    }
  });
});

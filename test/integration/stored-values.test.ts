import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import request from 'supertest';
import { readValue } from '../../src/db/stored-values';
import { expandFanout } from '../../src/outbox/expand';
import { fixture } from '../helpers/fixtures';
import { ADMIN_TOKEN, seedConfig, startTestApp } from '../helpers/app';
import { testDialect } from '../helpers/db';

/**
 * SQLite stores ids and times as short BLOBs (src/db/stored-values.ts), and migration 0016 rewrites
 * a database written before in that form: the API answers the same before and after, and what it
 * wrote before is still found (duplicates caught, deliveries listed).
 */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const batch = fixture('aliyun', 'smsreport-batch');
const sqliteOnly = testDialect === 'sqlite' ? describe : describe.skip;

/** Every column of every table of `file`, as typeof → count (what form the values are stored in). */
function forms(file: string): Record<string, number> {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    const out: Record<string, number> = {};
    for (const table of ['messages', 'reports', 'events', 'deliveries', 'delivery_attempts', 'raw_requests', 'subscriptions']) {
      for (const { name } of db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]) {
        if (!/(^id$|_id$|_pk$|_at$)/.test(name) || name === 'message_id') continue;
        const rows = db.prepare(`SELECT typeof("${name}") AS t, length("${name}") AS n, count(*) AS c FROM ${table} GROUP BY 1, 2`).all() as {
          t: string;
          n: number;
          c: number;
        }[];
        for (const r of rows) out[`${r.t}/${r.n}`] = (out[`${r.t}/${r.n}`] ?? 0) + r.c;
      }
    }
    return out;
  } finally {
    db.close();
  }
}

/** The database as a build before 0016 wrote it: every id and time as text, that migration and those after it not run. */
function asWrittenBefore(file: string) {
  const db = new SqliteDatabase(file);
  try {
    db.function('dlr_text', { deterministic: true }, (v: unknown) => readValue(v) as string | number | bigint | Buffer | null);
    db.transaction(() => {
      db.pragma('defer_foreign_keys = ON');
      for (const { name: table } of db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'").all() as { name: string }[]) {
        const columns = (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).filter(
          (c) => c.name !== 'body', // the raw bodies are data
        );
        db.prepare(`UPDATE "${table}" SET ${columns.map((c) => `"${c.name}" = dlr_text("${c.name}")`).join(', ')}`).run();
      }
      db.prepare("DELETE FROM kysely_migration WHERE name >= '0016'").run();
    })();
  } finally {
    db.close();
  }
}

sqliteOnly('ids and times stored as BLOBs on SQLite, and migration 0016', () => {
  it('answers the same from a database written before the migration, and finds what it holds', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-stored-'));
    const file = path.join(dir, 'dlr.sqlite');
    const reads = async (url: string) => {
      const get = async (route: string) => (await request(url).get(route).set(admin).expect(200)).body as unknown;
      const list = (await get('/v1/messages?provider=aliyun')) as { items: { id: string; provider: string; message_id: string; recipient: string }[] };
      const raw = (await get('/v1/raw?provider=aliyun')) as { items: { id: string }[] };
      const subs = (await get('/v1/subscriptions')) as { items: { id: string }[] };
      const m = list.items[0];
      return {
        list,
        raw,
        message: await get(`/v1/messages/${m.provider}/${encodeURIComponent(m.message_id)}?recipient=${m.recipient}`),
        rawDetail: await get(`/v1/raw/${raw.items[0].id}`),
        deliveries: await get(`/v1/subscriptions/${subs.items[0].id}/deliveries`),
        window: await get(`/v1/messages?since=2000-01-01T00:00:00.000Z&until=2999-01-01T00:00:00.000Z`),
      };
    };
    let app = await startTestApp(seedConfig(), { DLR_WORKER: 'off' }, { dir });
    let before: Awaited<ReturnType<typeof reads>>;
    try {
      await request(app.url).post('/v1/subscriptions').set(admin).send({ url: 'http://127.0.0.1:9/hook' }).expect(201);
      await request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(batch.body.toString('utf8')).expect(200);
      await expandFanout(app.running.ctx.dbh); // the deliveries (the worker is off: none is sent)
      before = await reads(app.url);
      expect((before.deliveries as { items: unknown[] }).items).toHaveLength(2);
    } finally {
      await app.close();
    }
    // ids 17 bytes, times 7: nothing of either left as text
    const stored = forms(file);
    expect(Object.keys(stored).filter((k) => k.startsWith('text/') && k !== 'text/0')).toEqual([]);
    expect(stored['blob/17']).toBeGreaterThan(20);
    expect(stored['blob/7']).toBeGreaterThan(10);

    asWrittenBefore(file);
    const old = forms(file);
    expect(Object.keys(old).filter((k) => k.startsWith('blob/'))).toEqual([]);
    expect(old['text/30']).toBe(stored['blob/17']);
    expect(old['text/24']).toBe(stored['blob/7']);

    app = await startTestApp(seedConfig(), { DLR_WORKER: 'off' }, { dir });
    try {
      expect(forms(file)).toEqual(stored); // rewritten by 0016
      expect(await reads(app.url)).toEqual(before);
      // the reports written before still catch their duplicates
      await request(app.url).post('/v1/callbacks/aliyun').set('content-type', 'application/json').send(batch.body.toString('utf8')).expect(200);
      const after = await reads(app.url);
      expect(after.list).toEqual(before.list);
      const history = (after.message as { history: { reason: string | null }[] }).history;
      expect(history.map((h) => h.reason)).toEqual([null, 'duplicate']);
    } finally {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

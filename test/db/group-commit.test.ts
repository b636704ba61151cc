import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { openDatabase, type Db } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';
import type { Database } from '../../src/db/types';

describe('group commit on SQLite (dbh.transact)', () => {
  let dir: string;
  let dbh: Db;
  let file: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-group-'));
    file = path.join(dir, 'dlr.sqlite');
    dbh = openDatabase(`sqlite:${file}`);
    await migrateToLatest(dbh);
  });
  afterEach(async () => {
    await dbh.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const row = (id: string) => ({ id, at: new Date().toISOString(), actor: 't', action: 'replay', parameters: '{}', result: '{}' });

  it('commits concurrent callers together, rolls back only the one that failed, and settles after the commit', async () => {
    const other = new SqliteDatabase(file, { readonly: true }); // another connection sees only committed rows
    const visible = (id: string) => other.prepare('select count(*) as n from audit_log where id = ?').get(id) as { n: number };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        dbh
          .transact(async (trx) => {
            await trx
              .insertInto('audit_log')
              .values(row(`a-${i}`))
              .execute();
            await trx
              .insertInto('audit_log')
              .values(row(`b-${i}`))
              .execute();
            if (i === 7) throw new Error('job 7 fails after writing');
            return i;
          })
          .then((v) => {
            expect(visible(`a-${i}`).n).toBe(1); // resolved ⇒ committed
            return v;
          }),
      ),
    );
    other.close();
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(39);
    expect(outcomes[7]).toEqual({ status: 'rejected', reason: new Error('job 7 fails after writing') });
    const ids = (await dbh.db.selectFrom('audit_log').select('id').execute()).map((r) => r.id);
    expect(ids).toHaveLength(78);
    expect(ids).not.toContain('a-7');
    expect(ids).not.toContain('b-7');
  });

  it('begins write transactions IMMEDIATE: a read first does not leave the write to fail on a moved log', async () => {
    // DEFERRED, another connection's commit between this transaction's read and its write made
    // the write fail at once with "database is locked" (SQLITE_BUSY_SNAPSHOT), whatever the busy
    // timeout; the checkpoint thread's TRUNCATE did the same under load (503s, 2026-12-02).
    const other = new SqliteDatabase(file);
    other.pragma('busy_timeout = 0');
    const otherWrite = (id: string) => () =>
      other.prepare("insert into audit_log (id, at, actor, action, parameters, result) values (?, '', 't', 'replay', '{}', '{}')").run(id);
    try {
      for (const run of [
        (fn: (trx: Kysely<Database>) => Promise<void>) => dbh.db.transaction().execute(fn),
        (fn: (trx: Kysely<Database>) => Promise<void>) => dbh.transact(fn),
      ]) {
        await run(async (trx) => {
          await trx.selectFrom('audit_log').select('id').execute(); // the snapshot
          expect(otherWrite(`other-${Math.random()}`)).toThrow(/database is locked/); // the write lock is this one's from its start
          await trx
            .insertInto('audit_log')
            .values(row(`mine-${Math.random()}`))
            .execute();
        });
      }
    } finally {
      other.close();
    }
    expect((await dbh.db.selectFrom('audit_log').select('id').execute()).map((r) => r.id.replace(/-.*/, ''))).toEqual(['mine', 'mine']);
  });

  it('bounds a group by its work (reports), not only by its callers; a caller heavier than the bound runs alone', async () => {
    const groupOf = new Map<unknown, number>();
    const group = (trx: unknown) => {
      if (!groupOf.has(trx)) groupOf.set(trx, groupOf.size);
      return groupOf.get(trx)!;
    };
    const weights = [5000, ...Array.from({ length: 12 }, () => 300), 1, 1];
    const groups = await Promise.all(weights.map((w) => dbh.transact((trx) => Promise.resolve(group(trx)), w)));
    // 5000 alone; then three 300s (900) a commit; the last 300 with the two light ones
    expect(groups).toEqual([0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4]);
  });

  it('rejects every caller of a group whose commit fails', async () => {
    // A deferred foreign key violation only shows at COMMIT.
    await sql`create table parent (id text primary key)`.execute(dbh.db);
    await sql`create table child (id text primary key, parent_id text references parent (id) deferrable initially deferred)`.execute(dbh.db);
    const db = dbh.db as unknown as Kysely<{ child: { id: string; parent_id: string } }>;
    const outcomes = await Promise.allSettled([
      dbh.transact(async (trx) => trx.insertInto('audit_log').values(row('fine')).execute()),
      dbh.transact(async (trx) => (trx as unknown as typeof db).insertInto('child').values({ id: 'c', parent_id: 'missing' }).execute()),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(await db.selectFrom('child').selectAll().execute()).toEqual([]);
    expect(await dbh.db.selectFrom('audit_log').selectAll().execute()).toEqual([]);
  });
});

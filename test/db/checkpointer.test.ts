import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/types';
import { startCheckpointer } from '../../src/db/checkpointer';
import { openDatabase } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';

describe('background checkpoint (SQLite)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-checkpoint-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const autocheckpoint = async (db: Kysely<Database>) =>
    (await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(db)).rows[0]?.wal_autocheckpoint;

  const until = async (what: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!what()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('copies committed pages into the database file (commits do too, every 1,000 pages), and stops on close', async () => {
    const file = path.join(dir, 'dlr.sqlite');
    const failures: string[] = [];
    const dbh = openDatabase(`sqlite:${file}`, { backgroundCheckpoint: (f) => void failures.push(f) });
    await migrateToLatest(dbh);
    const before = fs.statSync(file).size;
    // ~4 MB in one commit
    await dbh.transact(async (trx) => {
      for (let i = 0; i < 2000; i += 1) {
        await trx
          .insertInto('audit_log')
          .values({ id: `a-${i}`, at: new Date().toISOString(), actor: 't', action: 'x', parameters: 'p'.repeat(2000), result: '{}' })
          .execute();
      }
    });
    // commits checkpoint too, every 1,000 pages (docs/performance.md: the paced p99 on the growth database)
    expect(await autocheckpoint(dbh.db)).toBe(1000);
    await until(() => fs.statSync(file).size > before + 4_000_000);
    await dbh.close();
    expect(failures).toEqual([]);
    // everything committed is in the file and readable by another connection
    const other = new SqliteDatabase(file, { readonly: true });
    expect(other.prepare('select count(*) as n from audit_log').get()).toEqual({ n: 2000 });
    other.close();
  });

  it('restarts the log past the threshold (here 1 MiB; 64 MiB by default) and truncates it once the writer is idle, each when told, and says when done', async () => {
    const file = path.join(dir, 'dlr.sqlite');
    const wal = `${file}-wal`;
    const db = new SqliteDatabase(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('create table t (body blob)');
    const wanted: (() => Promise<void>)[] = [];
    const failures: string[] = [];
    const checkpointer = startCheckpointer(
      file,
      (f) => void failures.push(f),
      (t) => void wanted.push(t),
      { restartAboveBytes: 1024 * 1024, idleTruncateMs: 300 },
    );
    const insert = db.prepare('insert into t values (?)');
    for (let i = 0; i < 100; i += 1) insert.run(Buffer.alloc(20_000, i)); // ~2 MB of log
    await until(() => wanted.length > 0);
    // five more ticks: it waits to be told (and asks once)
    await new Promise((r) => setTimeout(r, 500));
    const grown = fs.statSync(wal).size;
    expect(grown).toBeGreaterThan(1024 * 1024);
    expect(wanted).toHaveLength(1);
    await wanted[0]();
    // restarted, not truncated: the file keeps its size, and the next commits write from its start
    expect(fs.statSync(wal).size).toBe(grown);
    for (let i = 0; i < 25; i += 1) insert.run(Buffer.alloc(20_000, i)); // ~0.5 MB
    expect(fs.statSync(wal).size).toBe(grown);
    // then the writer is idle: the thread asks again, to truncate the file
    await until(() => wanted.length > 1);
    await wanted[1]();
    expect(fs.statSync(wal).size).toBe(0);
    await checkpointer.stop();
    // a thread that ended resets nothing, and says so at once
    await wanted[0]();
    expect(failures).toEqual([]);
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 125 });
    db.close();
  });

  it("the server's connection resets the log between two groups of its group commit, an idle one too", async () => {
    const file = path.join(dir, 'dlr.sqlite');
    const failures: string[] = [];
    const dbh = openDatabase(`sqlite:${file}`, {
      backgroundCheckpoint: (f) => void failures.push(f),
      walRestartAboveBytes: 1024 * 1024,
      walIdleTruncateMs: 300,
    });
    await migrateToLatest(dbh);
    for (let batch = 0; batch < 4; batch += 1) {
      await dbh.transact(async (trx) => {
        for (let i = 0; i < 250; i += 1) {
          await trx
            .insertInto('audit_log')
            .values({ id: `a-${batch}-${i}`, at: new Date().toISOString(), actor: 't', action: 'x', parameters: 'p'.repeat(2000), result: '{}' })
            .execute();
        }
      });
    }
    // no more commits: the truncation runs anyway (an idle writer is given an empty group)
    await until(() => fs.statSync(`${file}-wal`).size === 0);
    const n = await dbh.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(1000);
    await dbh.close();
    expect(failures).toEqual([]);
  });

  it('is not started for the command line (no option), which checkpoints as SQLite does by default', async () => {
    const dbh = openDatabase(`sqlite:${path.join(dir, 'cli.sqlite')}`);
    await migrateToLatest(dbh);
    expect(await autocheckpoint(dbh.db)).toBe(1000);
    await dbh.close();
  });

  it('reports a thread that cannot work (here: a database it cannot open)', async () => {
    const failures: string[] = [];
    const checkpointer = startCheckpointer(
      path.join(dir, 'missing', 'dlr.sqlite'),
      (f) => void failures.push(f),
      () => undefined,
    );
    await until(() => failures.length > 0);
    expect(failures[0]).toMatch(/^checkpoint thread failed: .*(directory|open)/i);
    await checkpointer.stop();
  });
});

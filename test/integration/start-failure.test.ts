import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { startTestApp } from '../helpers/app';
import { testDialect } from '../helpers/db';

const sqliteOnly = testDialect === 'sqlite' ? describe : describe.skip;

/** The files this process holds open (Linux). */
function openFiles(): string[] {
  return fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [fs.readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return []; // closed while listed
    }
  });
}

sqliteOnly('a start whose migrations fail', () => {
  it('rejects, naming the problem, and lets go of the database (its read and checkpoint threads end)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-start-failure-'));
    try {
      // a first start makes the database; a newer build's migration is then recorded as applied
      const app = await startTestApp({}, { DLR_WORKER: 'off' }, { dir });
      await app.close();
      const db = new SqliteDatabase(path.join(dir, 'dlr.sqlite'));
      db.prepare("INSERT INTO kysely_migration (name, timestamp) VALUES ('9999-from-a-newer-build', '2026-12-03T00:00:00.000Z')").run();
      db.close();

      await expect(startTestApp({}, { DLR_WORKER: 'off' }, { dir })).rejects.toThrow(/9999-from-a-newer-build/);
      // the connections of the read threads and of the checkpoint thread are closed with the database
      // (left open, those threads kept the process, or this test run, alive doing nothing)
      const held = () => openFiles().filter((f) => f.startsWith(fs.realpathSync(dir)));
      for (let i = 0; i < 50 && held().length > 0; i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(held()).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

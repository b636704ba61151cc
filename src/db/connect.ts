import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './types';

export type DialectName = 'sqlite' | 'postgres';

export interface Db {
  db: Kysely<Database>;
  dialect: DialectName;
  /** A short description for logs (no credentials). */
  describe: string;
  close(): Promise<void>;
}

/** How long a SQLite writer waits for another process (the CLI, a second server) before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

function openSqlite(file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // WAL + NORMAL: a committed transaction survives a process crash (kill -9); TOOLCHAIN.md.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', describe: `sqlite:${file}`, close: () => db.destroy() };
}

/** Opens the database named by DATABASE_URL: `sqlite:PATH` (default) or `postgres://…`. */
export function openDatabase(url: string): Db {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length) || './data/dlr.sqlite');
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new Error('DATABASE_URL: PostgreSQL (scale-out mode) is not available in this version yet; use sqlite:PATH');
  }
  throw new Error(`DATABASE_URL: expected sqlite:PATH or postgres://…, got "${url.split(':')[0]}:…"`);
}

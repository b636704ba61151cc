import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Pool } from 'pg';
import { startCheckpointer, type Checkpointer } from './checkpointer';
import { readOnlyKysely } from './read-pool';
import { ReadGate } from './read-gate';
import { groupCommit, type Transact } from './group-commit';
import { readValue, storedStatement, storedValue, type StoredStatement } from './stored-values';
import type { Database } from './types';

export type DialectName = 'sqlite' | 'postgres';

export interface Db {
  db: Kysely<Database>;
  /**
   * Where the API's read queries go: on SQLite with `reads`, threads with read-only connections
   * (src/db/read-pool.ts); on PostgreSQL with `reads`, a pool of its own whose statements end at the
   * budget; otherwise `db` itself (the CLI, tests of one query).
   */
  read: Kysely<Database>;
  dialect: DialectName;
  /**
   * A transaction for the ingest path, settled after commit. SQLite (one writer) groups concurrent
   * callers into one commit; PostgreSQL gives each its own transaction (live ingest there groups
   * requests itself, applying them together: batchCommit in src/db/group-commit.ts).
   */
  transact: Transact;
  /** PostgreSQL with `reads`: ingest tells the reads' gate it is busy (src/db/read-gate.ts). */
  noteIngest?: () => void;
  /** A short description for logs (no credentials). */
  describe: string;
  close(): Promise<void>;
}

/** How long a SQLite writer waits for another process (the CLI, a second server) before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** Distinct SQL texts kept prepared; beyond this (many `IN (?, …)` arities) the cache starts over. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * kysely's SQLite driver prepares every statement anew, which costs about as much as running a small
 * one (docs/performance.md). The same SQL text gets the same prepared statement (better-sqlite3 statements are
 * reusable; this process runs one at a time). Each binds and reads ids and times in their stored form
 * (src/db/stored-values.ts).
 */
function withStatementCache(sqlite: SqliteDatabase.Database) {
  const cache = new Map<string, StoredStatement>();
  return {
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (!stmt) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
        // kysely begins SQLite transactions DEFERRED: the first read takes a snapshot, the first write
        // then asks for the write lock, and if the log moved meanwhile (the checkpoint thread's
        // RESTART or TRUNCATE, src/db/checkpointer.ts) SQLite answers "database is locked" at once, without the
        // busy handler (SQLITE_BUSY_SNAPSHOT: waiting cannot help an old snapshot). This connection
        // is the process's one writer, so its transactions begin IMMEDIATE: the write lock and the
        // snapshot together, waiting in the busy handler like any other lock.
        stmt = storedStatement(sqlite.prepare(sql === 'begin' ? 'begin immediate' : sql));
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

export interface OpenOptions {
  /** Connections per process (PostgreSQL only). */
  poolSize?: number;
  /**
   * SQLite files: a worker thread that checkpoints beside the commits and starts the log over past
   * a size (src/db/checkpointer.ts), for the long-running server. Called with the reason when that
   * thread fails; commits go on checkpointing as SQLite does by default.
   */
  backgroundCheckpoint?: (failure: string) => void;
  /** With backgroundCheckpoint: the log's size past which it is started over (WAL_RESTART_BYTES; tests use less). */
  walRestartAboveBytes?: number;
  /** With backgroundCheckpoint: how long the writer is idle before the -wal file is truncated (IDLE_TRUNCATE_MS; tests use less). */
  walIdleTruncateMs?: number;
  /** Reads apart from ingest (see Db.read): SQLite threads (0: none), and each read's time budget. */
  reads?: { threads: number; budgetMs: number };
}

type SqlValue = string | number | bigint | Buffer | null;

function openSqlite(file: string, options: OpenOptions): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // WAL + NORMAL: a committed transaction survives a process crash (kill -9); TOOLCHAIN.md.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  // Each grouped ingest runs in a savepoint, whose undo journal is a temp file by default; in
  // memory it is far cheaper (docs/performance.md). Durability is the WAL's, not this.
  sqlite.pragma('temp_store = MEMORY');
  sqlite.pragma('foreign_keys = ON');
  // the conversions of src/db/stored-values.ts, for the migrations (0016 rewrites what was stored before it)
  sqlite.function('dlr_stored', { deterministic: true }, (value: unknown) => storedValue(value) as SqlValue);
  sqlite.function('dlr_text', { deterministic: true }, (value: unknown) => readValue(value) as SqlValue);
  const statements = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
  const onFailure = options.backgroundCheckpoint;
  let checkpointer: Checkpointer | null = null;
  // the log's reset (restart or truncation), when the checkpoint thread wants one: run by the group
  // commit between two groups, so that no commit waits for it in SQLite's busy handler
  // (src/db/checkpointer.ts)
  let reset: (() => Promise<void>) | null = null;
  const between = () => {
    const run = reset;
    reset = null;
    return run?.();
  };
  const transact = groupCommit(db, statements.prepare, between);
  if (onFailure && file !== ':memory:') {
    // commits still checkpoint every 1,000 pages (SQLite's default): on the 2 M growth database, with
    // them the paced ingest p99 was 8-18 ms against 27-40 with the thread alone (docs/performance.md)
    checkpointer = startCheckpointer(
      path.resolve(file),
      onFailure,
      (wanted) => {
        reset = wanted;
        // an idle writer runs no group: an empty one lets the reset run now
        transact(() => Promise.resolve()).catch(() => undefined);
      },
      { restartAboveBytes: options.walRestartAboveBytes, idleTruncateMs: options.walIdleTruncateMs },
    );
  }
  const reads = options.reads;
  const pool =
    reads && reads.threads > 0 && file !== ':memory:'
      ? readOnlyKysely({ file: path.resolve(file), threads: reads.threads, budgetMs: reads.budgetMs, busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS })
      : null;
  const read = pool?.db ?? db;
  const close = async () => {
    await pool?.close();
    await checkpointer?.stop();
    await db.destroy();
  };
  return { db, read, dialect: 'sqlite', transact, describe: `sqlite:${file}`, close };
}

/** Connections per process when DATABASE_POOL_SIZE is not set (PostgreSQL only). */
export const DEFAULT_POOL_SIZE = 10;

/** A database URL as logs and messages show it: a PostgreSQL one without its credentials or query. */
export function describeDatabaseUrl(url: string): string {
  if (!/^postgres(ql)?:/i.test(url)) return url;
  try {
    const u = new URL(url);
    return `postgres://${u.host}${u.pathname}`;
  } catch {
    return 'the PostgreSQL URL';
  }
}

/** PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout (a read past its budget). */
export const PG_QUERY_CANCELED = '57014';
/** pg-pool's error when no connection came within `connectionTimeoutMillis` (a read past its budget, waiting). */
export const PG_POOL_TIMEOUT = 'timeout exceeded when trying to connect';

function postgresKysely(url: string, max: number, budgetMs?: number, gate?: ReadGate): Kysely<Database> {
  const pool = new Pool({
    connectionString: url,
    max,
    // a read's budget covers its wait for a connection as well as each of its statements
    ...(budgetMs ? { statement_timeout: budgetMs, connectionTimeoutMillis: budgetMs } : {}),
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: gate ? gate.wrap(pool) : pool }) });
}

function openPostgres(url: string, poolSize: number, reads: OpenOptions['reads']): Db {
  const db = postgresKysely(url, poolSize);
  // Reads get connections of their own (ingest never waits for a pool slot a slow read holds) that
  // cancel a statement at the budget (PG_QUERY_CANCELED, answered as ReadTimeout). As many as
  // SQLite's read threads (at least one): PostgreSQL runs each read in a process of its own at
  // ingest's priority, so the number of reads running at once is the share of the cores reads can
  // take from ingest (docs/performance.md, "Reads beside ingest on PostgreSQL"), and while ingest is
  // busy they take turns and rest (src/db/read-gate.ts).
  const gate = reads ? new ReadGate(reads.budgetMs) : undefined;
  const read = reads ? postgresKysely(url, Math.max(1, reads.threads), reads.budgetMs, gate) : db;
  const close = async () => {
    if (read !== db) await read.destroy();
    await db.destroy();
  };
  return {
    db,
    read,
    dialect: 'postgres',
    transact: (fn) => db.transaction().execute(fn),
    ...(gate ? { noteIngest: () => gate.noteIngest() } : {}),
    describe: describeDatabaseUrl(url),
    close,
  };
}

const ACCEPTED_URLS = 'sqlite:./relative/path.sqlite, sqlite:/absolute/path.sqlite, sqlite:///absolute/path.sqlite or postgres://user@host:port/database';

/**
 * Why a DATABASE_URL is refused, or null. `sqlite://./data/x` used to name `/data/x` at the
 * filesystem root (`//.` is `/`): a URL with a host part (`sqlite://HOST/…`) means nothing for a
 * file, so it is refused rather than guessed at.
 */
export function checkDatabaseUrl(url: string): string | null {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    if (rest.startsWith('//') && !rest.startsWith('///'))
      return `"${url.slice(0, 200)}" names a host ("sqlite://…"), which a file has not; write ${ACCEPTED_URLS}`;
    return null;
  }
  if (/^postgres(ql)?:\/\//.test(url)) return null;
  return `"${url.split(':')[0].slice(0, 40)}:…" is not a database URL this service takes; write ${ACCEPTED_URLS}`;
}

/** The file of a `sqlite:` URL (`sqlite:///abs` is `/abs`). */
function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length);
  return (rest.startsWith('///') ? rest.slice(2) : rest) || './data/dlr.sqlite';
}

/** Opens the database named by DATABASE_URL: `sqlite:PATH` (default) or `postgres://…`. */
export function openDatabase(url: string, options: OpenOptions = {}): Db {
  const problem = checkDatabaseUrl(url);
  if (problem) throw new Error(`DATABASE_URL: ${problem}`);
  if (url.startsWith('sqlite:')) return openSqlite(sqlitePath(url), options);
  return openPostgres(url, options.poolSize ?? DEFAULT_POOL_SIZE, options.reads);
}

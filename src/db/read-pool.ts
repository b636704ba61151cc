import { Worker } from 'node:worker_threads';
import {
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import { ReadTimeout } from '../errors';
import { readRows, storedParams } from './stored-values';
import type { Database } from './types';

/**
 * Read queries of the HTTP API on SQLite run on threads of their own, each with a read-only
 * connection to the database file (WAL lets readers and the writer go on side by side).
 * better-sqlite3 is synchronous: a read that takes 2 s on the main thread stops every callback for
 * 2 s (docs/performance.md, "At two million messages"). Here the main
 * thread only builds the query (kysely, as anywhere else) and maps the rows; a thread runs it.
 *
 * The worker is plain JavaScript evaluated from a string, as the checkpointer's (no build step: it
 * runs the same from src/ under jest and from dist/); ids and times go to it and come back in their
 * stored form, converted here (src/db/stored-values.ts). It answers one query at a time; the pool
 * hands each query to an idle thread, queues the rest, and gives each a time budget: past it the
 * caller gets ReadTimeout (503), and a thread still busy with it is terminated and replaced
 * (SQLite cannot be interrupted from outside; termination lands when the statement next yields to
 * JavaScript, so the thread is simply no longer counted on).
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
// Linux: this thread's own nice value, workerData.nice above the process's (its id from
// /proc/thread-self; setpriority on a thread id sets that thread's), so that the ingest thread
// keeps the CPU when both want it
try {
  const os = require('node:os');
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  os.setPriority(tid, Math.min(19, os.getPriority(tid) + workerData.nice));
} catch {}
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const cache = new Map();
const asBuffer = (p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p);
parentPort.on('message', ({ id, sql, params }) => {
  try {
    let stmt = cache.get(sql);
    if (!stmt) {
      if (cache.size >= workerData.cacheSize) cache.clear();
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    if (!stmt.reader) throw new Error('a read connection runs queries only');
    parentPort.postMessage({ id, rows: stmt.all(params.map(asBuffer)) });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err), code: err && err.code });
  }
});
`;

/** Queries waiting for a thread beyond this are refused at once (ReadTimeout) rather than queued. */
const MAX_QUEUED = 256;
const STATEMENT_CACHE_SIZE = 200;
/**
 * How much nicer than the process the read threads are (Linux; elsewhere they keep the process's
 * priority). A query handed to an idle read thread wakes it, and the scheduler ran it at once on
 * the core of the thread that woke it: the ingest thread lost ~210 µs per query (the wall time of
 * its postMessage, 4 readers polling) against 49 µs at nice 10. Under contention a thread at nice
 * 10 gets about a tenth of the CPU share of one at 0. Measured (docs/performance.md): single-report
 * ingest with 4 readers polling kept ×0.83 / 0.68 / 0.92 of its rate alone against ×0.64 / 0.58 /
 * 0.60 at nice 0; the readers then read less while callbacks keep the cores busy, and as fast as
 * before when they do not.
 */
const READ_NICE = 10;

interface Job {
  id: number;
  sql: string;
  params: readonly unknown[];
  resolve(rows: unknown[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  slot?: Slot;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

interface Answer {
  id: number;
  rows?: unknown[];
  error?: string;
  code?: string;
}

export interface ReadPoolOptions {
  file: string;
  threads: number;
  /** A query (with its wait for a thread) gets this long before ReadTimeout. */
  budgetMs: number;
  busyTimeoutMs: number;
}

export class ReadPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ReadPoolOptions) {
    for (let i = 0; i < options.threads; i += 1) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const { file, busyTimeoutMs } = this.options;
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { file, busyTimeoutMs, cacheSize: STATEMENT_CACHE_SIZE, nice: READ_NICE, driver: require.resolve('better-sqlite3') },
    });
    worker.unref();
    const slot: Slot = { worker, job: null };
    worker.on('message', (answer: Answer) => {
      const job = slot.job;
      if (job?.id !== answer.id) return;
      this.settle(slot);
      if (answer.error !== undefined) job.reject(Object.assign(new Error(answer.error), { code: answer.code }));
      else job.resolve(readRows(answer.rows ?? []));
    });
    const lost = (why: string) => {
      const job = slot.job;
      const at = this.slots.indexOf(slot);
      if (at < 0) return; // replaced already
      if (job) {
        clearTimeout(job.timer);
        job.reject(new Error(`read thread ${why}`));
      }
      if (this.closed) {
        this.slots.splice(at, 1);
        return;
      }
      this.slots[at] = this.spawn();
      this.dispatch();
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited (${code})`));
    return slot;
  }

  private settle(slot: Slot) {
    if (slot.job) clearTimeout(slot.job.timer);
    slot.job = null;
    this.dispatch();
  }

  private dispatch() {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      job.slot = slot;
      slot.job = job;
      slot.worker.postMessage({ id: job.id, sql: job.sql, params: storedParams(job.params) });
    }
  }

  /** The rows of one query, or ReadTimeout past the budget. */
  run(sql: string, params: readonly unknown[]): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new Error('the read pool is closed'));
    if (this.queue.length >= MAX_QUEUED) return Promise.reject(new ReadTimeout(this.options.budgetMs, 'queued'));
    return new Promise((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        sql,
        params,
        resolve,
        reject,
        timer: setTimeout(() => this.expire(job), this.options.budgetMs),
      };
      this.queue.push(job);
      this.dispatch();
    });
  }

  private expire(job: Job) {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    job.reject(new ReadTimeout(this.options.budgetMs, queued >= 0 ? 'queued' : 'running'));
    const slot = job.slot;
    if (slot?.job === job) {
      // a thread stuck in a long statement: a fresh one takes its place now
      const at = this.slots.indexOf(slot);
      slot.job = null;
      if (at >= 0) this.slots[at] = this.spawn();
      void slot.worker.terminate();
      this.dispatch();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      clearTimeout(job.timer);
      job.reject(new Error('the read pool is closed'));
    }
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

class PoolConnection implements DatabaseConnection {
  constructor(private readonly pool: ReadPool) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return { rows: (await this.pool.run(query.sql, query.parameters)) as R[] };
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('the read pool does not stream');
  }
}

/** A driver whose every connection is the pool: queries from many requests go out side by side. */
class PoolDriver implements Driver {
  private readonly connection: PoolConnection;
  constructor(pool: ReadPool) {
    this.connection = new PoolConnection(pool);
  }
  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(this.connection);
  }
  beginTransaction(): Promise<void> {
    return Promise.reject(new Error('the read pool runs no transactions'));
  }
  // Nothing to set up, commit, roll back or release; the pool is closed by readOnlyKysely's close.
  init = nothing;
  commitTransaction = nothing;
  rollbackTransaction = nothing;
  releaseConnection = nothing;
  destroy = nothing;
}

function nothing(): Promise<void> {
  return Promise.resolve();
}

/**
 * A Kysely for reads over a ReadPool: the same query builder, the same SQL as the main connection.
 * `close` ends the threads (Kysely's destroy would not, when no query ever ran).
 */
export function readOnlyKysely(options: ReadPoolOptions): { db: Kysely<Database>; close(): Promise<void> } {
  const pool = new ReadPool(options);
  const dialect: Dialect = {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new PoolDriver(pool),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
  const db = new Kysely<Database>({ dialect });
  return {
    db,
    async close() {
      await pool.close();
      await db.destroy();
    },
  };
}

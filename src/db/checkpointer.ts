import { Worker } from 'node:worker_threads';

/** How often the background connection copies the write-ahead log into the database file. */
export const CHECKPOINT_INTERVAL_MS = 100;
/**
 * Past this much log (frames since it last started over) the log is started over from the file's
 * beginning (a RESTART checkpoint after the PASSIVE one). With a checkpoint every 100 ms the -wal
 * file stays near it: well under the 256 MB promised under sustained load, where PASSIVE
 * checkpoints alone let it grow without end (docs/performance.md).
 */
export const WAL_RESTART_BYTES = 64 * 1024 * 1024;
/** A writer idle this long (no frame added, every frame copied) has its -wal file truncated to zero bytes. */
export const IDLE_TRUNCATE_MS = 1000;
/**
 * How long the RESTART or TRUNCATE checkpoint waits, in SQLite's busy handler, for the write lock
 * and for readers still on older snapshots; past it, it gives up (busy) and the log is left as it
 * is until the next ask. A commit waits at most about this long, plus the copy of the few pages the
 * PASSIVE pass left.
 */
export const RESET_BUSY_TIMEOUT_MS = 10;

// The worker is a few lines of plain JavaScript (no build step, so it runs the same from src/ under
// jest and from dist/): its own connection, a PASSIVE checkpoint on a timer, and a RESTART one when
// the log has grown past `restartAboveBytes` without starting over, or a TRUNCATE one when the
// writer has been idle for IDLE_TRUNCATE_MS, each when the main thread says so.
//
// What SQLite documents (sqlite3_wal_checkpoint_v2, https://sqlite.org/c3ref/wal_checkpoint_v2.html,
// and PRAGMA wal_checkpoint, https://sqlite.org/pragma.html#pragma_wal_checkpoint):
// - PASSIVE copies as many frames as it can without waiting for readers or writers and never calls
//   the busy handler. It never restarts the log: only a writer that finds every frame copied and no
//   reader on the log starts it over, which under sustained writes (and read threads) rarely
//   happens, so the file grows.
// - RESTART waits, calling the busy handler, for the writer to finish, copies every frame, then
//   waits until every reader reads from the database file only, so the next writer restarts the log
//   from its beginning; TRUNCATE does the same and also truncates the file to zero bytes. Both
//   block new writers (not readers) while pending.
// - When the busy handler gives up, the checkpoint ends as a PASSIVE one would, and the pragma
//   answers busy = 1 rather than failing.
// Why commits are not stalled by the resets: the checkpoint runs in this thread, on its own connection; the main
// thread's commits only wait while it holds the write lock. A commit that waited for it in SQLite's
// busy handler (which sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries) blocked the main thread
// 33–78 ms for a lock held ~10 ms (measured 2026-12-02 on the growth bench's 2 M database), so the
// thread asks first (`onResetWanted`) and the server's group commit runs the checkpoint between two
// groups, waiting for it asynchronously while its thread keeps reading requests.
// Why RESTART under load and not TRUNCATE: the copy and the wait are the same, but shrinking the
// file is not free. Timed in this thread on the 2 M database at a paced 1,000 req/s, a TRUNCATE held
// the write lock 21–34 ms every ~0.7 s; a RESTART never more than 15 ms, and the paced ingest p99
// went from 110–164 to 41–46 ms (docs/performance.md, "Commits and the write-ahead log"). A file
// that is overwritten from its beginning also needs no new blocks. The space is given back once the
// writer is idle, when nobody waits for the truncation.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const failed = (err) => parentPort.postMessage(String(err && err.message || err));
const frameBytes = db.pragma('page_size', { simple: true }) + 24;
const walFile = workerData.file + '-wal';
const walBytes = () => { try { return fs.statSync(walFile).size; } catch { return 0; } };
let asked = null; // { mode, frames }: the reset asked for and not yet run
// The log's frames when it was last restarted. SQLite reports them until the next writer starts the
// log over, so until the count changes it is not restarted again.
let restartedAt = -1;
let lastFrames = -1;
let idleTicks = 0;
const checkpoint = () => {
  try {
    // frames in the log since it last started over, and those copied into the database file
    const { log, checkpointed } = db.pragma('wal_checkpoint(PASSIVE)')[0];
    idleTicks = log === lastFrames && checkpointed === log ? idleTicks + 1 : 0;
    lastFrames = log;
    if (log !== restartedAt) restartedAt = -1;
    if (asked) return;
    if (restartedAt < 0 && log * frameBytes > workerData.restartAboveBytes) asked = { mode: 'RESTART', frames: log };
    else if (idleTicks >= workerData.idleTicks && walBytes() > 0) asked = { mode: 'TRUNCATE', frames: 0 };
    if (asked) parentPort.postMessage({ reset: 'wanted' });
  } catch (err) { failed(err); }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'reset') {
    try {
      // a log that started over since it asked (fewer frames) needs no restart: the writer did it
      const { log } = db.pragma('wal_checkpoint(PASSIVE)')[0];
      if (asked && log >= asked.frames) {
        const done = db.pragma('wal_checkpoint(' + asked.mode + ')')[0];
        if (asked.mode === 'RESTART' && done.busy === 0) restartedAt = done.log;
      }
    } catch (err) { failed(err); }
    asked = null;
    idleTicks = 0;
    parentPort.postMessage({ reset: 'done' });
    return;
  }
  clearInterval(timer); checkpoint(); db.close(); parentPort.close();
});
`;

export interface Checkpointer {
  /** Runs a last checkpoint and ends the thread. */
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  /**
   * The log's size (its frames since it last started over) past which it is started over;
   * WAL_RESTART_BYTES by default (tests use less). The -wal file keeps the size it reached, near
   * this, until the writer is idle.
   */
  restartAboveBytes?: number;
  /** IDLE_TRUNCATE_MS by default (tests use less). */
  idleTruncateMs?: number;
}

/**
 * Called when the log should be reset (started over past the threshold, or truncated when the
 * writer is idle): the thread does it when the caller runs `reset` (whose promise settles when it is
 * done), which the caller does while its connection holds no transaction, so that the checkpoint
 * finds no writer to wait for and the writer waits for it without blocking its thread
 * (src/db/connect.ts). Asked once until it has run.
 */
export type ResetWanted = (reset: () => Promise<void>) => void;

/**
 * Checkpoints a WAL database from a worker thread, and starts the log over (or truncates it) when
 * it asks the caller to: SQLite's automatic checkpoint is PASSIVE, and under readers it never starts
 * the log over, which then grows without end. The caller's commits keep SQLite's automatic
 * checkpoint too (every 1,000 pages): the thread alone (commits only appending, up to 2026-12-03)
 * let the log reach 64 MB between restarts, and on the 2 M growth database the paced ingest p99
 * was 27-40 ms against 8-18 ms with both, single reports 20-35 % slower, 100-report batches a third
 * faster (docs/performance.md, "The commits checkpoint again"). Should the thread fail,
 * `onFailure` is told; the automatic checkpoint goes on alone.
 */
export function startCheckpointer(
  file: string,
  onFailure: (reason: string) => void,
  onResetWanted: ResetWanted,
  options: CheckpointerOptions = {},
): Checkpointer {
  const workerData = {
    file,
    driver: require.resolve('better-sqlite3'),
    intervalMs: CHECKPOINT_INTERVAL_MS,
    restartAboveBytes: options.restartAboveBytes ?? WAL_RESTART_BYTES,
    idleTicks: Math.ceil((options.idleTruncateMs ?? IDLE_TRUNCATE_MS) / CHECKPOINT_INTERVAL_MS),
    busyTimeoutMs: RESET_BUSY_TIMEOUT_MS,
  };
  const worker = new Worker(WORKER, { eval: true, workerData });
  worker.unref(); // a process that is done does not wait for it
  let stopping = false;
  let failed = false;
  let gone = false;
  let done: (() => void) | null = null;
  const reset = () =>
    new Promise<void>((resolve) => {
      if (gone) return resolve(); // a thread that ended resets nothing: nobody waits for it
      done = resolve;
      worker.postMessage('reset');
    });
  const settleReset = () => {
    const settle = done;
    done = null;
    settle?.();
  };
  worker.on('message', (m: string | { reset: 'wanted' | 'done' }) => {
    if (typeof m === 'string') onFailure(`checkpoint failed: ${m}`);
    else if (m.reset === 'wanted') onResetWanted(reset);
    else settleReset();
  });
  worker.on('error', (err) => {
    failed = true;
    onFailure(`checkpoint thread failed: ${err.message}`);
  });
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      if (!stopping && !failed) onFailure(`checkpoint thread exited (${code})`);
      gone = true;
      settleReset(); // a writer waiting for it goes on
      resolve();
    }),
  );
  return {
    async stop() {
      if (!stopping) {
        stopping = true;
        worker.ref(); // awaited now: an unreferenced thread would let the process end before it did
        worker.postMessage('stop');
      }
      await exited;
    },
  };
}

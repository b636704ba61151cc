import { Worker } from 'node:worker_threads';

/** How often the background connection copies the write-ahead log into the database file. */
export const CHECKPOINT_INTERVAL_MS = 100;
/**
 * Past this much log (frames since it last started over) the -wal file is truncated (a TRUNCATE
 * checkpoint after the PASSIVE one). With a checkpoint every 100 ms the file stays near it: well
 * under the 256 MB promised under sustained load, where PASSIVE checkpoints alone let it grow
 * without end (docs/performance.md).
 */
export const WAL_TRUNCATE_BYTES = 64 * 1024 * 1024;
/**
 * How long the TRUNCATE checkpoint waits, in SQLite's busy handler, for the write lock and for
 * readers still on older snapshots; past it, it gives up (busy) and the next tick tries again.
 * A commit waits at most about this long, plus the copy of the few pages the PASSIVE pass left.
 */
export const TRUNCATE_BUSY_TIMEOUT_MS = 10;

// The worker is a few lines of plain JavaScript (no build step, so it runs the same from src/ under
// jest and from dist/): its own connection, a PASSIVE checkpoint on a timer, and a TRUNCATE one when
// the log has grown past `truncateAboveBytes` without starting over and the main thread says so.
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
// Why commits are not stalled: the TRUNCATE runs in this thread, on its own connection; the main
// thread's commits only wait while it holds the write lock. It takes that lock only in a gap
// between commits (busy handler, at most TRUNCATE_BUSY_TIMEOUT_MS, else busy and a retry next
// tick), then copies only what was committed since the PASSIVE pass a moment before, and waits for
// readers at most the rest of that timeout (reads are single short statements; readers that start
// meanwhile read the database file, not the log). So a commit that meets it waits about that long,
// and only when the file is past the threshold (every few seconds at most, at 64 MiB).
// But it waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries
// and so blocks the main thread 33–78 ms for a lock held ~10 ms: measured 2026-12-02 on the
// growth bench's 2 M database (BEGIN IMMEDIATE of 35–82 ms about once a second with four read
// threads busy, the paced ingest p99 124–140 ms against 20–39 ms in runs without a truncation).
// So the thread asks first (`onTruncateWanted`) and the server's group commit runs the TRUNCATE
// between two groups, waiting for it asynchronously while its thread keeps reading requests.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const failed = (err) => parentPort.postMessage(String(err && err.message || err));
const frameBytes = db.pragma('page_size', { simple: true }) + 24;
// frames in the log since it last started over (PASSIVE's answer)
const passive = () => db.pragma('wal_checkpoint(PASSIVE)')[0].log;
let asked = 0; // the log's frames when the truncation was asked for (0: not asked)
const checkpoint = () => {
  try {
    const frames = passive();
    if (!asked && frames * frameBytes > workerData.truncateAboveBytes) { asked = frames; parentPort.postMessage({ truncate: 'wanted' }); }
  } catch (err) { failed(err); }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'truncate') {
    // a log that started over since (fewer frames) needs none: the writer did it
    try { if (passive() >= asked) db.pragma('wal_checkpoint(TRUNCATE)'); } catch (err) { failed(err); }
    asked = 0;
    parentPort.postMessage({ truncate: 'done' });
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
   * The log's size (its frames since it last started over) past which it is truncated;
   * WAL_TRUNCATE_BYTES by default (tests use less). A log that starts over by itself is not
   * truncated: the -wal file stays at the size it reached, near this.
   */
  truncateAboveBytes?: number;
}

/**
 * Called when the log has passed the threshold: the thread truncates it when the caller runs
 * `truncate` (whose promise settles when it is done), which the caller does while its connection
 * holds no transaction, so that the checkpoint finds no writer to wait for and the writer waits for
 * it without blocking its thread (src/db/connect.ts). Asked once until it has run.
 */
export type TruncateWanted = (truncate: () => Promise<void>) => void;

/**
 * Checkpoints a WAL database from a worker thread, so that the main thread's commits only append
 * to the log: with SQLite's automatic checkpoint, the commit that crosses 1,000 pages copies them
 * into the database file (and syncs it) while every request of its group waits (docs/performance.md
 * measures it). The caller turns the automatic checkpoint off; should the
 * thread fail, `onFailure` is told, so that the caller can turn it back on.
 */
export function startCheckpointer(
  file: string,
  onFailure: (reason: string) => void,
  onTruncateWanted: TruncateWanted,
  options: CheckpointerOptions = {},
): Checkpointer {
  const workerData = {
    file,
    driver: require.resolve('better-sqlite3'),
    intervalMs: CHECKPOINT_INTERVAL_MS,
    truncateAboveBytes: options.truncateAboveBytes ?? WAL_TRUNCATE_BYTES,
    busyTimeoutMs: TRUNCATE_BUSY_TIMEOUT_MS,
  };
  const worker = new Worker(WORKER, { eval: true, workerData });
  worker.unref(); // a process that is done does not wait for it
  let stopping = false;
  let failed = false;
  let gone = false;
  let truncated: (() => void) | null = null;
  const truncate = () =>
    new Promise<void>((resolve) => {
      if (gone) return resolve(); // a thread that ended truncates nothing: nobody waits for it
      truncated = resolve;
      worker.postMessage('truncate');
    });
  const settleTruncate = () => {
    const done = truncated;
    truncated = null;
    done?.();
  };
  worker.on('message', (m: string | { truncate: 'wanted' | 'done' }) => {
    if (typeof m === 'string') onFailure(`checkpoint failed: ${m}`);
    else if (m.truncate === 'wanted') onTruncateWanted(truncate);
    else settleTruncate();
  });
  worker.on('error', (err) => {
    failed = true;
    onFailure(`checkpoint thread failed: ${err.message}`);
  });
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      if (!stopping && !failed) onFailure(`checkpoint thread exited (${code})`);
      gone = true;
      settleTruncate(); // a writer waiting for it goes on
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

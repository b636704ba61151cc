import { Worker } from 'node:worker_threads';

/** How often the background connection copies the write-ahead log into the database file. */
export const CHECKPOINT_INTERVAL_MS = 100;

// The worker is a few lines of plain JavaScript (no build step, so it runs the same from src/ under
// jest and from dist/): its own connection, a PASSIVE checkpoint on a timer. PASSIVE never waits for
// readers or writers and never calls the busy handler; what it cannot copy now, the next one does.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String(err && err.message || err)); }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); checkpoint(); db.close(); parentPort.close(); });
`;

export interface Checkpointer {
  /** Runs a last checkpoint and ends the thread. */
  stop(): Promise<void>;
}

/**
 * Checkpoints a WAL database from a worker thread, so that the main thread's commits only append
 * to the log: with SQLite's automatic checkpoint, the commit that crosses 1,000 pages copies them
 * into the database file (and syncs it) while every request of its group waits — about half of what
 * commits cost under load (bench/). The caller turns the automatic checkpoint off; should the
 * thread fail, `onFailure` is told, so that the caller can turn it back on.
 */
export function startCheckpointer(file: string, onFailure: (reason: string) => void): Checkpointer {
  const worker = new Worker(WORKER, { eval: true, workerData: { file, driver: require.resolve('better-sqlite3'), intervalMs: CHECKPOINT_INTERVAL_MS } });
  worker.unref(); // a process that is done does not wait for it
  let stopping = false;
  let failed = false;
  worker.on('message', (reason: string) => onFailure(`checkpoint failed: ${reason}`));
  worker.on('error', (err) => {
    failed = true;
    onFailure(`checkpoint thread failed: ${err.message}`);
  });
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      if (!stopping && !failed) onFailure(`checkpoint thread exited (${code})`);
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

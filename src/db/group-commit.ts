import type { Kysely, Transaction } from 'kysely';
import { runDirectly, Statement, type Prepare } from './sql';
import type { Database } from './types';

/**
 * Runs `fn` in a transaction and resolves with its result once that transaction committed. `weight`
 * says how much work `fn` is (reports to apply; 1 by default): on SQLite it bounds how much one
 * grouped commit holds, and so how long the first caller of a group waits.
 */
export type Transact = <T>(fn: (trx: Transaction<Database>) => Promise<T>, weight?: number) => Promise<T>;

interface Job {
  fn: (trx: Transaction<Database>) => Promise<unknown>;
  weight: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Callers that share one commit at most. */
const MAX_GROUP = 256;
/**
 * Work (reports) one commit takes at most, beyond its first caller: 100-report batches group ten at
 * a time, not 256, whose commit would keep all of them waiting (docs/performance.md).
 */
const MAX_GROUP_WEIGHT = 1000;

/** The callers at the head of the queue that one commit takes. */
function nextGroup(queue: Job[]): Job[] {
  let n = 0;
  let weight = 0;
  while (n < queue.length && n < MAX_GROUP && (n === 0 || weight + queue[n].weight <= MAX_GROUP_WEIGHT)) {
    weight += queue[n].weight;
    n += 1;
  }
  return queue.splice(0, n);
}
const savepoint = new Statement('SAVEPOINT job');
const release = new Statement('RELEASE job');
const rollbackTo = new Statement('ROLLBACK TO job');

/**
 * Group commit for SQLite, which has one writer anyway: callers that arrive while a transaction
 * runs wait, and then run together in the next one, each inside its own savepoint. A caller whose
 * work throws is rolled back to its savepoint alone; the others commit. Every caller's promise
 * settles only after the commit (or its failure), so nobody answers 2xx for uncommitted work.
 */
export function groupCommit(db: Kysely<Database>, prepare?: Prepare): Transact {
  const queue: Job[] = [];
  let running = false;

  async function runGroup(jobs: Job[]): Promise<void> {
    let trx;
    try {
      trx = await db.startTransaction().execute();
      // the transaction holds the one connection until it ends: its Statements may go straight to it
      if (prepare) runDirectly(trx, prepare);
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    }
    const done: { job: Job; value: unknown }[] = [];
    try {
      for (const job of jobs) {
        // savepoints as plain statements on the group's transaction (kysely's savepoint API makes
        // a transaction object per savepoint: measurable at thousands of jobs a second)
        await savepoint.run(trx, []);
        try {
          const value = await job.fn(trx);
          await release.run(trx, []);
          done.push({ job, value });
        } catch (err) {
          await rollbackTo.run(trx, []);
          await release.run(trx, []);
          job.reject(err);
        }
      }
      await trx.commit().execute();
    } catch (err) {
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      for (const job of jobs) job.reject(err); // (a job already rejected stays so)
      return;
    }
    for (const { job, value } of done) job.resolve(value);
  }

  async function drain(): Promise<void> {
    running = true;
    try {
      while (queue.length > 0) {
        // Let the requests whose bytes have arrived meanwhile reach the queue: a group runs in
        // microtasks and would otherwise never see them.
        await new Promise((r) => setImmediate(r));
        await runGroup(nextGroup(queue));
      }
    } finally {
      running = false;
    }
  }

  return <T>(fn: (trx: Transaction<Database>) => Promise<T>, weight = 1) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ fn, weight, resolve: resolve as (v: unknown) => void, reject });
      if (!running) void drain();
    });
}

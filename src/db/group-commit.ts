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

/** How many callers at the head of the queue one commit takes. */
function groupSize(queue: readonly { weight: number }[]): number {
  let n = 0;
  let weight = 0;
  while (n < queue.length && n < MAX_GROUP && (n === 0 || weight + queue[n].weight <= MAX_GROUP_WEIGHT)) {
    weight += queue[n].weight;
    n += 1;
  }
  return n;
}
const savepoint = new Statement('SAVEPOINT job');
const release = new Statement('RELEASE job');
const rollbackTo = new Statement('ROLLBACK TO job');

/**
 * Group commit for SQLite, which has one writer anyway: callers that arrive while a transaction
 * runs wait, and then run together in the next one, each inside its own savepoint. A caller whose
 * work throws is rolled back to its savepoint alone; the others commit. Every caller's promise
 * settles only after the commit (or its failure), so nobody answers 2xx for uncommitted work.
 * `between`, when given, is awaited before each group, while no transaction is open.
 */
export function groupCommit(db: Kysely<Database>, prepare?: Prepare, between?: () => Promise<void> | undefined): Transact {
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
        // work that must not meet a transaction of this connection (the log's reset) runs here
        await between?.();
        await runGroup(queue.splice(0, groupSize(queue)));
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

/** A job of a batched commit (batchCommit) with its caller's promise. */
interface BatchJob<J, R> {
  job: J;
  weight: number;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

export interface BatchCommitOptions {
  /** Groups in flight at once, each on a connection of its own (PostgreSQL's pool). */
  concurrency: number;
}

/**
 * Group commit for PostgreSQL, where the work of a group is done together rather than caller by
 * caller: `run` gets every job of a group and one transaction, and gives each job's result (in
 * their order). Jobs queued while `concurrency` groups are running wait and go together into the
 * next group (at most MAX_GROUP callers and about MAX_GROUP_WEIGHT of work, as on SQLite). A group
 * that fails — one bad job, a deadlock, a lost connection — is rolled back whole, and its jobs are
 * then run again one by one, each in a transaction of its own, so one bad job fails alone. Every
 * caller's promise settles only after the transaction that holds its work committed (or failed).
 * `run` is called again on a retry: it must start from its jobs, not from what a failed call left.
 */
export function batchCommit<J, R>(
  db: Kysely<Database>,
  run: (trx: Transaction<Database>, jobs: J[]) => Promise<R[]>,
  options: BatchCommitOptions,
): (job: J, weight?: number) => Promise<R> {
  const queue: BatchJob<J, R>[] = [];
  let running = 0;

  const inTransaction = (jobs: J[]) =>
    db.transaction().execute(async (trx) => {
      const results = await run(trx, jobs);
      if (results.length !== jobs.length) throw new Error(`a batched commit gave ${results.length} results for ${jobs.length} jobs`);
      return results;
    });

  async function runGroup(group: BatchJob<J, R>[]): Promise<void> {
    let results: R[];
    try {
      results = await inTransaction(group.map((g) => g.job));
    } catch (err) {
      if (group.length === 1) {
        group[0].reject(err);
        return;
      }
      for (const g of group) {
        try {
          g.resolve((await inTransaction([g.job]))[0]);
        } catch (alone) {
          g.reject(alone);
        }
      }
      return;
    }
    group.forEach((g, i) => g.resolve(results[i]));
  }

  async function drain(): Promise<void> {
    running += 1;
    try {
      while (queue.length > 0) {
        // as on SQLite: let the requests whose bytes have arrived meanwhile reach the queue
        await new Promise((r) => setImmediate(r));
        if (queue.length === 0) break;
        await runGroup(queue.splice(0, groupSize(queue)));
      }
    } finally {
      running -= 1;
    }
  }

  return (job: J, weight = 1) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ job, weight, resolve, reject });
      if (running < options.concurrency) void drain();
    });
}

import { performance } from 'node:perf_hooks';
import type { Pool, PoolClient } from 'pg';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { ReadTimeout } from '../errors';

/** Ingest counts as busy for this long after a group of callbacks began its transaction. */
const BUSY_MS = 200;
/** While ingest is busy, each read is followed by a rest this many times as long as it took. */
const REST_FACTOR = 1;
/** While ingest is busy, statements of reads running at once. */
const TURNS = 1;

/**
 * Reads yield to ingest on PostgreSQL. The server runs each read in a process of its own at ingest's
 * priority, so on a machine whose cores ingest keeps busy every read takes its time from ingest
 * (docs/performance.md, "Reads beside ingest on PostgreSQL"). On SQLite the read threads run 10
 * nicer than the ingest thread and the kernel arbitrates; PostgreSQL's processes belong to another
 * user and cannot be reniced from here, so the arbitration is this gate, at the statement:
 * - while ingest is quiet, reads run side by side, as many as the reads' pool holds, without rest;
 * - while it is busy (a group began within BUSY_MS), they take turns, one statement at a time, and
 *   each turn ends REST_FACTOR times its statement's time after it: reads then hold a server
 *   process at most 1/(1 + REST_FACTOR) of the time.
 * A statement's wait for its turn counts in its read's budget: past it, 503 `read_timeout`,
 * and it leaves the queue.
 */
export class ReadGate {
  private lastIngest = Number.NEGATIVE_INFINITY;
  /** Turns free now, and the statements waiting for one (oldest first). */
  private free = TURNS;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly budgetMs: number) {}

  /** Called when ingest begins a transaction. */
  noteIngest(): void {
    this.lastIngest = performance.now();
  }

  private busy(): boolean {
    return performance.now() - this.lastIngest < BUSY_MS;
  }

  private pass(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }

  /** Waits for the statement's turn (none needed while ingest is quiet); calls back with its duration when it ends. */
  async enter(): Promise<(ms: number) => void> {
    if (!this.busy()) return () => undefined;
    if (this.free > 0) this.free -= 1;
    else {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          clearTimeout(timer);
          resolve();
        };
        this.waiting.push(go);
        timer = setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(go), 1);
          reject(new ReadTimeout(this.budgetMs, 'yielding'));
        }, this.budgetMs);
      });
    }
    return (ms) => {
      if (this.busy()) setTimeout(() => this.pass(), ms * REST_FACTOR).unref();
      else this.pass();
    };
  }

  /** The pool as kysely takes it: each checkout waits for its turn, and its release ends the turn. */
  wrap(pool: Pool): PostgresPool {
    return {
      connect: async (): Promise<PostgresPoolClient> => {
        const leave = await this.enter();
        let client: PoolClient;
        try {
          client = await pool.connect();
        } catch (err) {
          leave(0);
          throw err;
        }
        const started = performance.now();
        const release = client.release.bind(client);
        // pg-pool sets release anew at every checkout, so this one lasts for this checkout only
        client.release = (err?: Error | boolean) => {
          leave(performance.now() - started);
          release(err);
        };
        return client;
      },
      end: () => pool.end(),
    };
  }
}

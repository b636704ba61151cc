import type SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, PostgresAdapter, type Kysely } from 'kysely';
import type { Database } from './types';

/** A synchronous SQLite connection's prepared statement for a SQL text (cached, src/db/connect.ts). */
export type Prepare = (sql: string) => SqliteDatabase.Statement;

/**
 * Transactions that hold SQLite's one connection for sure (a grouped commit's, src/db/group-commit.ts):
 * their Statements run on it directly, without kysely's per-query connection handling.
 */
const directly = new WeakMap<object, Prepare>();

/** Statements run on `trx` go straight to `prepare`'s connection until `trx` is gone. */
export function runDirectly(trx: object, prepare: Prepare): void {
  directly.set(trx, prepare);
}

/** Whether `db` (or a transaction of it) speaks PostgreSQL's SQL. */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * A fixed SQL statement of the ingest path, written once for both databases (`?` placeholders,
 * numbered `$n` on PostgreSQL). kysely's query builder costs more per call than SQLite takes to run
 * a small statement; these skip it and go straight to the driver (prepared once on SQLite,
 * src/db/connect.ts), inside whatever transaction `db` is — in a grouped commit's, straight to
 * the connection (runDirectly).
 */
export class Statement {
  private readonly postgres: string;

  constructor(private readonly sqlite: string) {
    let n = 0;
    this.postgres = sqlite.replace(/\?/g, () => `$${(n += 1)}`);
  }

  /** Through kysely, in the SQL of `db`'s dialect. */
  private viaKysely<R>(db: Kysely<Database>, params: readonly unknown[]) {
    const text = isPostgres(db) ? this.postgres : this.sqlite;
    return db.executeQuery<R>(CompiledQuery.raw(text, params as unknown[]));
  }

  async all<R>(db: Kysely<Database>, params: readonly unknown[]): Promise<R[]> {
    const prepare = directly.get(db);
    if (prepare) {
      const stmt = prepare(this.sqlite);
      if (stmt.reader) return stmt.all(params) as R[];
      stmt.run(params);
      return [];
    }
    return (await this.viaKysely<R>(db, params)).rows;
  }

  async first<R>(db: Kysely<Database>, params: readonly unknown[]): Promise<R | undefined> {
    return (await this.all<R>(db, params))[0];
  }

  async run(db: Kysely<Database>, params: readonly unknown[]): Promise<void> {
    await this.all(db, params);
  }

  /** Runs a statement that returns no rows; how many rows it changed. */
  async changes(db: Kysely<Database>, params: readonly unknown[]): Promise<number> {
    const prepare = directly.get(db);
    if (prepare) return prepare(this.sqlite).run(params).changes;
    return Number((await this.viaKysely(db, params)).numAffectedRows ?? 0);
  }
}

/** Rows (or ids) per multi-row statement: within SQLite's and PostgreSQL's limits on bound parameters. */
export const ROWS_PER_STATEMENT = 500;

/**
 * A multi-row `INSERT INTO table (columns) VALUES (?, …), … suffix` (suffix: `ON CONFLICT …`), sent
 * in chunks of ROWS_PER_STATEMENT rows; one prepared statement per chunk size.
 */
export function insertRows(table: string, columns: readonly string[], suffix = '') {
  const cache = new Map<number, Statement>();
  const row = `(${columns.map(() => '?').join(', ')})`;
  const statement = (rows: number) => {
    let stmt = cache.get(rows);
    if (!stmt) {
      stmt = new Statement(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}${suffix}`);
      cache.set(rows, stmt);
    }
    return stmt;
  };
  /** Each chunk's statement and parameters (Array.prototype.flat would cost more than the insert). */
  function* chunks(rows: readonly unknown[][]): Generator<[Statement, unknown[]]> {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const end = Math.min(rows.length, i + ROWS_PER_STATEMENT);
      const params: unknown[] = new Array((end - i) * columns.length);
      let n = 0;
      for (let r = i; r < end; r += 1) for (const value of rows[r]!) params[n++] = value;
      yield [statement(end - i), params];
    }
  }
  /** Inserts the rows; how many were inserted (with `ON CONFLICT … DO NOTHING`, the new ones). */
  const count = async (db: Kysely<Database>, rows: readonly unknown[][]): Promise<number> => {
    let inserted = 0;
    for (const [stmt, params] of chunks(rows)) inserted += await stmt.changes(db, params);
    return inserted;
  };
  return { count, run: async (db: Kysely<Database>, rows: readonly unknown[][]) => void (await count(db, rows)) };
}

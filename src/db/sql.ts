import { CompiledQuery, PostgresAdapter, type Kysely, type Selectable } from 'kysely';
import type { StoredStatement } from './stored-values';
import type { Database } from './types';

/** A synchronous SQLite connection's prepared statement for a SQL text (cached, src/db/connect.ts). */
export type Prepare = (sql: string) => StoredStatement;

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
 * Runs several reads on one snapshot. PostgreSQL: in a read-only REPEATABLE READ transaction, so a
 * rollup and its deltas are read as of one moment (a fold moving rows from one to the other between
 * two separate reads would count them twice or not at all). SQLite: as they are (its rollups have
 * no deltas; a read connection sees one snapshot per statement and nothing moves between tables).
 */
export async function onSnapshot<T>(db: Kysely<Database>, read: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  if (!isPostgres(db) || db.isTransaction) return read(db);
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute((trx) => read(trx));
}

/**
 * Two ways to SQL, and when each is used:
 * - **kysely's query builder** everywhere a query's shape depends on its input (the read API's
 *   filters, admin routes, migrations, the CLI): the compiler checks every column and value.
 * - **fixed statements** (this file) on the paths that run per report or per delivery attempt
 *   (ingest, the outbox, the raw-request store): the text is written once, prepared once on SQLite
 *   (src/db/connect.ts), and goes straight to the driver, skipping the builder's per-call cost
 *   (docs/performance.md measures it). They keep the builder's guarantee: `fixed` and `insertRows`
 *   take their values as objects keyed by column name and typed from the kysely `Database`
 *   interface, so a value bound to the wrong column, of the wrong type, or a column that does not
 *   exist fails `tsc`.
 */

/**
 * A SQL text run as it is, its values by position (`?`, numbered `$n` on PostgreSQL), inside
 * whatever transaction `db` is — in a grouped commit's, straight to the connection (runDirectly).
 * Use it bare only for statements without values (SAVEPOINT); statements with values are built by
 * `fixed` and `insertRows`, which bind them by column name.
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

type Table = keyof Database;
/** A row of table `T` as it is read (kysely's Selectable of the `Database` interface). */
export type Row<T extends Table> = Selectable<Database[T]>;
type Column<T extends Table> = keyof Row<T> & string;
/** The values of a statement on `T`, by column name, each typed as its column. */
export type Values<T extends Table, C extends Column<T>> = Pick<Row<T>, C>;

/** A fixed statement whose placeholders are columns of `T` (made by `fixed`). */
export class Fixed<T extends Table, C extends Column<T>> {
  private readonly statement: Statement;

  constructor(
    text: string,
    private readonly columns: readonly C[],
  ) {
    this.statement = new Statement(text);
  }

  private params(values: Values<T, C>): unknown[] {
    return this.columns.map((c) => values[c]);
  }

  /** The rows it selects (`R`: what its select list gives; a whole row by default). */
  all<R = Row<T>>(db: Kysely<Database>, values: Values<T, C>): Promise<R[]> {
    return this.statement.all<R>(db, this.params(values));
  }

  first<R = Row<T>>(db: Kysely<Database>, values: Values<T, C>): Promise<R | undefined> {
    return this.statement.first<R>(db, this.params(values));
  }

  run(db: Kysely<Database>, values: Values<T, C>): Promise<void> {
    return this.statement.run(db, this.params(values));
  }

  /** How many rows it changed. */
  changes(db: Kysely<Database>, values: Values<T, C>): Promise<number> {
    return this.statement.changes(db, this.params(values));
  }
}

/**
 * A fixed statement on table `table`, its values named by column: each `${'column'}` in the text is
 * a placeholder bound to that field of the values object, which is typed as that column.
 *
 *     const selectSeen = fixed('reports')`SELECT id FROM reports WHERE message_pk = ${'message_pk'} AND dedupe_key = ${'dedupe_key'}`;
 *     await selectSeen.first<{ id: string }>(trx, { message_pk: message.id, dedupe_key: key });
 */
export function fixed<T extends Table>(table: T) {
  return <C extends Column<T> = never>(strings: TemplateStringsArray, ...columns: C[]): Fixed<T, C> => {
    if (!new RegExp(`\\b${table}\\b`).test(strings.join(''))) throw new Error(`a fixed statement on ${table} does not name it`);
    return new Fixed<T, C>(strings.join('?'), columns);
  };
}

/** Rows (or ids) per multi-row statement: within SQLite's and PostgreSQL's limits on bound parameters. */
export const ROWS_PER_STATEMENT = 500;

/**
 * A multi-row `INSERT INTO table (columns) VALUES (?, …), … suffix` (suffix: `ON CONFLICT …`), sent
 * in chunks of ROWS_PER_STATEMENT rows; one prepared statement per chunk size. Rows are objects
 * keyed by column (each value typed as its column); their values are read in `columns`' order.
 */
export function insertRows<T extends Table, C extends Column<T>>(table: T, columns: readonly C[], suffix = '') {
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
  /** Each chunk's statement and parameters, filled in place (docs/performance.md: no intermediate arrays). */
  function* chunks(rows: readonly Values<T, C>[]): Generator<[Statement, unknown[]]> {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const end = Math.min(rows.length, i + ROWS_PER_STATEMENT);
      const params: unknown[] = new Array((end - i) * columns.length);
      let n = 0;
      for (let r = i; r < end; r += 1) {
        const row = rows[r];
        for (const column of columns) params[n++] = row[column];
      }
      yield [statement(end - i), params];
    }
  }
  /** Inserts the rows; how many were inserted (with `ON CONFLICT … DO NOTHING`, the new ones). */
  const count = async (db: Kysely<Database>, rows: readonly Values<T, C>[]): Promise<number> => {
    let inserted = 0;
    for (const [stmt, params] of chunks(rows)) inserted += await stmt.changes(db, params);
    return inserted;
  };
  return { count, run: async (db: Kysely<Database>, rows: readonly Values<T, C>[]) => void (await count(db, rows)) };
}

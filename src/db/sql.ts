import { CompiledQuery, PostgresAdapter, type Kysely } from 'kysely';
import type { Database } from './types';

/**
 * A fixed SQL statement of the ingest path, written once for both databases (`?` placeholders,
 * numbered `$n` on PostgreSQL). kysely's query builder costs more per call than SQLite takes to run
 * a small statement; these skip it and go straight to the driver (prepared once on SQLite,
 * src/db/connect.ts), inside whatever transaction `db` is.
 */
export class Statement {
  private readonly postgres: string;

  constructor(private readonly sqlite: string) {
    let n = 0;
    this.postgres = sqlite.replace(/\?/g, () => `$${(n += 1)}`);
  }

  async all<R>(db: Kysely<Database>, params: readonly unknown[]): Promise<R[]> {
    const text = db.getExecutor().adapter instanceof PostgresAdapter ? this.postgres : this.sqlite;
    return (await db.executeQuery<R>(CompiledQuery.raw(text, params as unknown[]))).rows;
  }

  async first<R>(db: Kysely<Database>, params: readonly unknown[]): Promise<R | undefined> {
    return (await this.all<R>(db, params))[0];
  }

  async run(db: Kysely<Database>, params: readonly unknown[]): Promise<void> {
    await this.all(db, params);
  }
}

/** `INSERT INTO table (columns) VALUES (?, …), … suffix` for `rows` rows at once; one Statement per row count. */
export function insertRows(table: string, columns: readonly string[], suffix = ''): (rows: number) => Statement {
  const cache = new Map<number, Statement>();
  const row = `(${columns.map(() => '?').join(', ')})`;
  return (rows) => {
    let stmt = cache.get(rows);
    if (!stmt) {
      stmt = new Statement(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}${suffix}`);
      cache.set(rows, stmt);
    }
    return stmt;
  };
}

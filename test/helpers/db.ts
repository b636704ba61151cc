import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { openDatabase, type Db } from '../../src/db/connect';
import { migrateToLatest } from '../../src/db/migrate';

/**
 * Which database the integration tests run on: SQLite (the `sqlite` jest project) or the
 * PostgreSQL server named by DLR_TEST_PG_URL (the `postgres` project, see jest.config.js).
 */
export const testDialect: 'sqlite' | 'postgres' = process.env.DLR_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

function adminUrl(): string {
  const url = process.env.DLR_TEST_PG_URL;
  if (!url) throw new Error('DLR_TEST_PG_URL is not set');
  return url;
}

/** One PostgreSQL database per test folder, so a test restarting "on the same database" finds it. */
function databaseName(dir: string): string {
  return `dlr_t_${createHash('sha256').update(dir).digest('hex').slice(0, 20)}`;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The DATABASE_URL of the test database that belongs to `dir` (created on first use). */
export async function databaseUrlFor(dir: string): Promise<string> {
  if (testDialect === 'sqlite') return `sqlite:${dir}/dlr.sqlite`;
  const name = databaseName(dir);
  await admin(async (c) => {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      await c.query(`CREATE DATABASE ${name}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile
      });
    }
  });
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops the PostgreSQL database of `dir` (SQLite: the folder goes with the test). */
export async function dropDatabaseFor(dir: string): Promise<void> {
  if (testDialect === 'sqlite') return;
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${databaseName(dir)} WITH (FORCE)`));
}

/**
 * A test file's own database, migrated to the latest version: a SQLite file in a new temp folder,
 * or a PostgreSQL database of that folder's; `close` drops it and the folder.
 */
export async function openTestDatabase(prefix: string): Promise<{ dbh: Db; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dbh = openDatabase(await databaseUrlFor(dir));
  await migrateToLatest(dbh);
  return {
    dbh,
    close: async () => {
      await dbh.close();
      await dropDatabaseFor(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

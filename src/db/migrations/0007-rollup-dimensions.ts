import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../connect';
import { timeText } from '../stored-values';

/**
 * Health over time by destination, with callbacks and report latency (issue #16,
 * src/status/timeseries.ts), all read from rollups, never from messages or the raw log:
 *
 * - `stats_rollup` (and its PostgreSQL deltas) gains `country`: the ISO region of a message's
 *   recipient ('' for e-mail or a number whose region is unknown), part of the key. The table is
 *   rebuilt (SQLite cannot change a primary key); rows counted before this migration keep ''.
 * - `series_rollup` counts, per bucket (minute 'm', hour 'h') and dimension, the callbacks by
 *   verdict (`series` 'callback', `key` the verdict; channel and country '') and the status reports
 *   by how late they came (`series` 'latency', `key` the upper bound of a latency bucket in seconds,
 *   or '+Inf'). The ingest transaction writes it (src/ingest/ingest.ts); PostgreSQL appends to
 *   `series_rollup_delta` and folds, as for stats (migration 0004). Callbacks are counted from the
 *   raw log here, once; the latency of reports received before this migration is not known.
 */
/**
 * SQLite: the rollups are stored in their key's order (WITHOUT ROWID), so a window's rows are one
 * range read with their counts, not an index range plus a table lookup per row (a day by the hour
 * over 10 M messages reads ~170,000 rows: p50 41 ms instead of 191 ms in `npm run bench`, timeseries_10m). PostgreSQL: as they are.
 */
function clustered(dialect: DialectName) {
  return <T extends CreateTableBuilder<string, string>>(table: T): T => (dialect === 'sqlite' ? (table.modifyEnd(sql`WITHOUT ROWID`) as T) : table);
}

export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('stats_rollup_next')
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('stats_rollup_pk', ['period', 'bucket', 'provider', 'account', 'channel', 'country', 'status', 'error_code'])
    .$call(clustered(dialect))
    .execute();
  await sql`INSERT INTO stats_rollup_next (period, bucket, provider, account, channel, country, status, error_code, n)
    SELECT period, bucket, provider, account, channel, '', status, error_code, n FROM stats_rollup`.execute(db);
  await db.schema.dropTable('stats_rollup').execute();
  await db.schema.alterTable('stats_rollup_next').renameTo('stats_rollup').execute();
  await db.schema
    .alterTable('stats_rollup_delta')
    .addColumn('country', 'text', (c) => c.notNull().defaultTo(''))
    .execute();

  await db.schema
    .createTable('series_rollup')
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('series', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('series_rollup_pk', ['period', 'series', 'bucket', 'provider', 'account', 'channel', 'country', 'key'])
    .$call(clustered(dialect))
    .execute();
  await db.schema
    .createTable('series_rollup_delta')
    .addColumn('id', dialect === 'postgres' ? sql`bigserial` : 'integer', (c) => c.primaryKey())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('series', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('series_rollup_delta_bucket').on('series_rollup_delta').columns(['period', 'series', 'bucket']).execute();

  // the callbacks received so far, by the verdict they were stored with (to an unknown provider or
  // account: counted as `unknown`, as src/raw/store.ts insertRaw counts them)
  const known = (column: string) => sql`CASE WHEN verdict = 'unknown_provider' THEN 'unknown' ELSE ${sql.ref(column)} END`;
  for (const [period, chars] of [
    ['m', 16],
    ['h', 13],
  ] as const) {
    await sql`
      INSERT INTO series_rollup (period, series, bucket, provider, account, channel, country, key, n)
      SELECT ${period}, 'callback', substr(${timeText('received_at', dialect)}, 1, ${sql.lit(chars)}), ${known('provider')}, ${known('account')}, '', '', verdict, count(*)
      FROM raw_requests
      GROUP BY substr(${timeText('received_at', dialect)}, 1, ${sql.lit(chars)}), ${known('provider')}, ${known('account')}, verdict`.execute(db);
  }
}

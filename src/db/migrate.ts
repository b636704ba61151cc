import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './connect';
import * as init from './migrations/0001-init';
import * as nonceUsers from './migrations/0002-nonce-users';
import * as readPaths from './migrations/0003-read-paths';
import * as rollupDeltas from './migrations/0004-rollup-deltas';
import * as supportReads from './migrations/0005-support-reads';
import * as staleMessages from './migrations/0006-stale-messages';
import * as rollupDimensions from './migrations/0007-rollup-dimensions';
import * as subscriptionSettings from './migrations/0008-subscription-settings';
import * as idempotencyKeys from './migrations/0009-idempotency-keys';
import * as reportsByMessage from './migrations/0010-reports-by-message';
import * as fanoutLater from './migrations/0011-fanout-later';
import * as deliveriesBySubscription from './migrations/0012-deliveries-by-subscription';
import * as noGlobalDueIndex from './migrations/0013-no-global-due-index';
import * as statsWindows from './migrations/0014-stats-windows';
import * as listKeys from './migrations/0015-list-keys';
import * as storedValues from './migrations/0016-stored-values';
import * as deliveriesByState from './migrations/0017-deliveries-by-state';
import * as windowKeys from './migrations/0018-window-keys';

/** Migrations in order; each receives the dialect for the few types that differ. */
const MIGRATIONS = {
  '0001-init': init,
  '0002-nonce-users': nonceUsers,
  '0003-read-paths': readPaths,
  '0004-rollup-deltas': rollupDeltas,
  '0005-support-reads': supportReads,
  '0006-stale-messages': staleMessages,
  '0007-rollup-dimensions': rollupDimensions,
  '0008-subscription-settings': subscriptionSettings,
  '0009-idempotency-keys': idempotencyKeys,
  '0010-reports-by-message': reportsByMessage,
  '0011-fanout-later': fanoutLater,
  '0012-deliveries-by-subscription': deliveriesBySubscription,
  '0013-no-global-due-index': noGlobalDueIndex,
  '0014-stats-windows': statsWindows,
  '0015-list-keys': listKeys,
  '0016-stored-values': storedValues,
  '0017-deliveries-by-state': deliveriesByState,
  '0018-window-keys': windowKeys,
} as const;

function provider(dbh: Db): MigrationProvider {
  return {
    getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(MIGRATIONS)) out[name] = { up: (db) => m.up(db, dbh.dialect) };
      return Promise.resolve(out);
    },
  };
}

/** What the migrator reports as its error (`unknown`: whatever a migration threw) as an Error. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export async function migrateToLatest(dbh: Db): Promise<string[]> {
  const migrator = new Migrator({ db: dbh.db, provider: provider(dbh) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw asError(error);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies the migrations up to and including `name` (tests of a migration on data written before it). */
export async function migrateTo(dbh: Db, name: keyof typeof MIGRATIONS): Promise<void> {
  const migrator = new Migrator({ db: dbh.db, provider: provider(dbh) });
  const { error } = await migrator.migrateTo(name);
  if (error) throw asError(error);
}

/** True when every known migration has been applied (readiness). */
export async function migrationsApplied(dbh: Db): Promise<boolean> {
  const migrator = new Migrator({ db: dbh.db, provider: provider(dbh) });
  const list = await migrator.getMigrations();
  return list.every((m) => m.executedAt !== undefined);
}

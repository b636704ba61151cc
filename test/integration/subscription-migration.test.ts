import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/connect';
import { migrateTo, migrateToLatest } from '../../src/db/migrate';
import { getSubscription } from '../../src/outbox/subscriptions';
import { databaseUrlFor, dropDatabaseFor, testDialect } from '../helpers/db';

describe(`migration 0008-subscription-settings (${testDialect})`, () => {
  it('keeps subscriptions made before it, with no headers, no rate limit and not failing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-0008-'));
    const dbh = openDatabase(await databaseUrlFor(dir));
    try {
      await migrateTo(dbh, '0007-rollup-dimensions');
      const now = new Date().toISOString();
      await dbh.db
        .insertInto('subscriptions')
        .values({
          id: 'sub_old',
          url: 'https://erp.example.com/hook',
          secret: 'whsec_b2xk',
          previous_secret: null,
          previous_secret_until: null,
          filter: '{}',
          description: 'before 0008',
          enabled: 1,
          disabled_reason: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await migrateToLatest(dbh);
      expect(await getSubscription(dbh.db, 'sub_old')).toMatchObject({
        id: 'sub_old',
        enabled: true,
        headers: {},
        rateLimitPerSecond: null,
        failing_since: null,
      });
    } finally {
      await dbh.close();
      await dropDatabaseFor(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

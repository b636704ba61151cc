import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connect';
import { timeText } from '../stored-values';

/**
 * A GET /v1/stats window in milliseconds whatever its edges (issue #20).
 *
 * Second rollups: `stats_rollup` also counts messages by the second of their
 * `created_at` (`period` 's', bucket `YYYY-MM-DDTHH:MM:SS`, country ''), so the parts of a
 * GET /v1/stats window that do not fill a minute come from rollups too and only what does not fill
 * a second is counted from the messages (src/status/rollups.ts countMessages). Before, a window
 * whose edges fell in busy minutes counted up to two minutes of messages row by row (580 ms on the
 * growth bench's database). This fills them from the messages that exist: on PostgreSQL the deltas
 * not folded yet hold no seconds, so the messages are the whole count.
 *
 * `messages_stale_created`: the stale messages first seen in a window (its `stale` count) are read
 * from the stale ones alone. Through `messages_stale` (by id) SQLite walked the window's range of
 * `messages_created` instead, every message of it (400 ms for four busy minutes).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await sql`
    INSERT INTO stats_rollup (period, bucket, provider, account, channel, country, status, error_code, n)
    SELECT 's', substr(${timeText('created_at', dialect)}, 1, 19), provider, account, channel, '', coalesce(status, ''), coalesce(error_code, ''), count(*)
    FROM messages
    GROUP BY substr(${timeText('created_at', dialect)}, 1, 19), provider, account, channel, coalesce(status, ''), coalesce(error_code, '')`.execute(db);
  await db.schema.createIndex('messages_stale_created').on('messages').column('created_at').where(sql.ref('stale_at'), 'is not', null).execute();
}

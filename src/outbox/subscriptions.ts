import type { Kysely } from 'kysely';
import { retryDeadlocks } from '../db/deadlock';
import { isPostgres } from '../db/sql';
import type { Database, SubscriptionRow } from '../db/types';
import { BadRequest, NotFound } from '../errors';
import { newId } from '../util/ids';
import { describeErrors, schemaValidator } from '../util/schemas';
import type { SubscriptionFilter } from './filter';
import { refusedDestination } from './destination';
import { checkCustomHeaders } from './custom-headers';
import { newSecret } from './sign';

/** During a rotation the old secret signs too, for this long (Standard Webhooks allows several signatures). */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export interface SubscriptionInput {
  url?: string;
  description?: string | null;
  enabled?: boolean;
  filter?: SubscriptionFilter;
  /** Custom request headers (null or {}: none); see src/outbox/custom-headers.ts. */
  headers?: Record<string, string> | null;
  /** Deliveries per second (null: no limit); see src/outbox/rate-limit.ts. */
  rateLimitPerSecond?: number | null;
}

const validateInput = schemaValidator<SubscriptionInput>('subscription.schema.json');

/** What a subscription URL may be, in words rather than the schema's pattern. */
const URL_SCHEMES = 'must be an absolute URL with the scheme http or https (https://erp.example.com/hooks/dlr)';
const schemeWords = (e: string) => (e.startsWith('url: must match pattern') ? `url: ${URL_SCHEMES}` : e);

async function checkInput(body: unknown, creating: boolean, allowPrivateNetworks: boolean): Promise<SubscriptionInput> {
  if (!validateInput(body)) throw new BadRequest(`invalid subscription: ${describeErrors().map(schemeWords).join('; ')}`);
  if (creating && !body.url) throw new BadRequest('invalid subscription: url: is required');
  if (body.url !== undefined) {
    try {
      const url = new URL(body.url);
      if (url.username || url.password) throw new Error('credentials');
    } catch {
      throw new BadRequest(`invalid subscription: url: ${URL_SCHEMES}, without credentials (user:password@)`);
    }
    const refusal = await refusedDestination(body.url, allowPrivateNetworks, { unresolved: 'allow' });
    if (refusal) throw new BadRequest(`invalid subscription: url: ${refusal}`);
  }
  if (body.headers) checkCustomHeaders(body.headers);
  return body;
}

export function subscriptionView(row: SubscriptionRow, now = new Date()) {
  return {
    id: row.id,
    url: row.url,
    filter: JSON.parse(row.filter) as SubscriptionFilter,
    description: row.description,
    enabled: row.enabled === 1,
    disabled_reason: row.disabled_reason,
    failing_since: row.failing_since,
    headers: row.headers === null ? {} : (JSON.parse(row.headers) as Record<string, string>),
    rateLimitPerSecond: row.rate_limit_per_second,
    rotating_until: row.previous_secret_until !== null && row.previous_secret_until > now.toISOString() ? row.previous_secret_until : null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The secrets that sign a delivery now: the current one, and the previous during a rotation. */
export function signingSecrets(row: Pick<SubscriptionRow, 'secret' | 'previous_secret' | 'previous_secret_until'>, now: Date): string[] {
  const live = row.previous_secret !== null && row.previous_secret_until !== null && row.previous_secret_until > now.toISOString();
  return live ? [row.secret, row.previous_secret!] : [row.secret];
}

async function load(db: Kysely<Database>, id: string): Promise<SubscriptionRow> {
  const row = await db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('subscription', id, 'GET /v1/subscriptions lists them');
  return row;
}

export async function createSubscription(db: Kysely<Database>, body: unknown, now: Date, allowPrivateNetworks: boolean) {
  const input = await checkInput(body, true, allowPrivateNetworks);
  const row: SubscriptionRow = {
    id: newId('sub'),
    url: input.url!,
    secret: newSecret(),
    previous_secret: null,
    previous_secret_until: null,
    filter: JSON.stringify(input.filter ?? {}),
    description: input.description ?? null,
    enabled: input.enabled === false ? 0 : 1,
    disabled_reason: null,
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    headers: storedHeaders(input.headers),
    rate_limit_per_second: input.rateLimitPerSecond ?? null,
    failing_since: null,
  };
  await db.insertInto('subscriptions').values(row).execute();
  return { ...subscriptionView(row, now), secret: row.secret };
}

/** The `headers` column: null for none. */
function storedHeaders(headers: Record<string, string> | null | undefined): string | null {
  return headers && Object.keys(headers).length > 0 ? JSON.stringify(headers) : null;
}

export async function listSubscriptions(db: Kysely<Database>) {
  const rows = await db.selectFrom('subscriptions').selectAll().orderBy('id').execute();
  return { items: rows.map((r) => subscriptionView(r)) };
}

export async function getSubscription(db: Kysely<Database>, id: string) {
  return subscriptionView(await load(db, id));
}

export async function updateSubscription(db: Kysely<Database>, id: string, body: unknown, now: Date, allowPrivateNetworks: boolean) {
  const input = await checkInput(body, false, allowPrivateNetworks);
  const before = await load(db, id);
  const changes: Partial<SubscriptionRow> = { updated_at: now.toISOString() };
  if (input.url !== undefined) changes.url = input.url;
  if (input.description !== undefined) changes.description = input.description;
  if (input.filter !== undefined) changes.filter = JSON.stringify(input.filter);
  if (input.headers !== undefined) changes.headers = storedHeaders(input.headers);
  if (input.rateLimitPerSecond !== undefined) changes.rate_limit_per_second = input.rateLimitPerSecond;
  if (input.enabled !== undefined) {
    changes.enabled = input.enabled ? 1 : 0;
    changes.disabled_reason = input.enabled ? null : 'disabled by request';
  }
  // Enabled again: it starts with a clean record (not failing), and its pending deliveries are due now.
  const resuming = input.enabled === true && before.enabled === 0;
  if (resuming) changes.failing_since = null;
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('subscriptions').set(changes).where('id', '=', id).execute();
    if (resuming) {
      await trx
        .updateTable('deliveries')
        .set({ next_attempt_at: now.toISOString(), updated_at: now.toISOString() })
        .where('subscription_id', '=', id)
        .where('state', '=', 'pending')
        .where('next_attempt_at', '>', now.toISOString())
        .execute();
    }
  });
  return subscriptionView(await load(db, id), now);
}

/** Deletes the subscription with its deliveries and their attempts. */
export async function deleteSubscription(db: Kysely<Database>, id: string): Promise<void> {
  await load(db, id);
  await retryDeadlocks(() =>
    db.transaction().execute(async (trx) => {
      // PostgreSQL: its deliveries locked first, in id order (the worker records attempts in it), so
      // no attempt row is added between deleting the attempts and deleting the deliveries
      if (isPostgres(trx)) await trx.selectFrom('deliveries').select('id').where('subscription_id', '=', id).orderBy('id').forUpdate().execute();
      const deliveries = trx.selectFrom('deliveries').select('id').where('subscription_id', '=', id);
      await trx.deleteFrom('delivery_attempts').where('delivery_id', 'in', deliveries).execute();
      await trx.deleteFrom('deliveries').where('subscription_id', '=', id).execute();
      await trx.deleteFrom('subscriptions').where('id', '=', id).execute();
    }),
  );
}

export async function rotateSecret(db: Kysely<Database>, id: string, now: Date) {
  const row = await load(db, id);
  const secret = newSecret();
  const until = new Date(now.getTime() + ROTATION_OVERLAP_MS).toISOString();
  await db
    .updateTable('subscriptions')
    .set({ secret, previous_secret: row.secret, previous_secret_until: until, updated_at: now.toISOString() })
    .where('id', '=', id)
    .execute();
  return { ...subscriptionView(await load(db, id), now), secret };
}

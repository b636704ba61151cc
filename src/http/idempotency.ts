import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context';
import type { Database, IdempotencyKeyTable } from '../db/types';
import { BadRequest, Conflict } from '../errors';

/**
 * `Idempotency-Key` on the admin POSTs (issue #18), the way Stripe's API takes it: a client that
 * did not hear the answer (a timeout, a dropped connection) sends the request again with the same
 * key, and gets the first answer — status and JSON body — instead of a second subscription, a second
 * rotation or a second retry. Keys are per token (`req.actor`), at most MAX_KEY_CHARS long, and kept
 * for KEY_TTL_MS (migration 0009; the retention job purges expired rows, src/replay/retention.ts).
 *
 * - same key, same request (method, path and body, keys of objects in any order): the first answer,
 *   with `Idempotent-Replayed: true`; the work is not done again;
 * - same key, another request: 409 `idempotency_key_reused`;
 * - same key while the first request is still being served: 409 `idempotency_key_in_use`;
 * - a first answer that is a 5xx is not kept (the work may not have been done: the key may be sent
 *   again), nor one over MAX_STORED_BODY_BYTES (only a bulk replay answers that much, and replaying
 *   again changes nothing).
 */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Set on an answer that is the stored first answer to the key (Stripe's name). */
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** How long a key and its first answer are kept. */
export const KEY_TTL_MS = 24 * 60 * 60 * 1000;
/** The longest key taken (Stripe's limit): a UUID (36) fits many times. */
export const MAX_KEY_CHARS = 255;
/** A first request unanswered for this long is taken as lost (the process stopped): its key may be used again. */
export const ABANDONED_AFTER_MS = 10 * 60 * 1000;
/** The largest first answer kept, in bytes of its JSON. */
export const MAX_STORED_BODY_BYTES = 1024 * 1024;

const KEY_PATTERN = new RegExp(`^[\\x21-\\x7e](?:[\\x20-\\x7e]{0,${MAX_KEY_CHARS - 2}}[\\x21-\\x7e])?$`);

/** JSON with the keys of every object sorted: the same body in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What makes two requests the same: method, path (and query) and body. */
function fingerprintOf(req: Request): string {
  return createHash('sha256')
    .update(`${req.method} ${req.originalUrl}\n${canonical(req.body ?? null)}`)
    .digest('hex');
}

function checkedKey(value: string): string {
  if (KEY_PATTERN.test(value)) return value;
  throw new BadRequest(
    `the ${IDEMPOTENCY_HEADER} header must be 1 to ${MAX_KEY_CHARS} printable ASCII characters (this one has ${value.length}): send a new UUID per request`,
  );
}

type Row = Pick<IdempotencyKeyTable, 'fingerprint' | 'status' | 'body' | 'created_at' | 'expires_at'>;

/** Claims (actor, key) for this request: true when claimed, else the row that holds it (live). */
async function claim(db: Kysely<Database>, actor: string, key: string, fingerprint: string, now: Date): Promise<true | Row> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({
        actor,
        key,
        fingerprint,
        status: null,
        body: null,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + KEY_TTL_MS).toISOString(),
      })
      .onConflict((oc) => oc.columns(['actor', 'key']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
    const row = await db
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'status', 'body', 'created_at', 'expires_at'])
      .where('actor', '=', actor)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) continue; // purged meanwhile: claim it
    const expired = row.expires_at <= now.toISOString();
    const abandoned = row.status === null && Date.parse(row.created_at) + ABANDONED_AFTER_MS <= now.getTime();
    if (!expired && !abandoned) return row;
    // expired (not purged yet) or lost: taken over, unless another request took it first
    await db.deleteFrom('idempotency_keys').where('actor', '=', actor).where('key', '=', key).where('created_at', '=', row.created_at).execute();
  }
  throw new Conflict('idempotency_key_in_use', `another request is taking this ${IDEMPOTENCY_HEADER} right now: retry in a moment to get its answer`, {});
}

/** The middleware: after the token check (it reads `req.actor`) and express.json (it reads `req.body`). */
export function idempotent(ctx: AppContext): RequestHandler {
  const db = ctx.dbh.db;
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.get(IDEMPOTENCY_HEADER);
    if (req.method !== 'POST' || given === undefined) return next();
    const actor = req.actor ?? 'unknown';
    const claimed = async (): Promise<boolean> => {
      const key = checkedKey(given);
      const fingerprint = fingerprintOf(req);
      const held = await claim(db, actor, key, fingerprint, new Date());
      if (held !== true) {
        answerFromRow(res, held, fingerprint);
        return false;
      }
      keepFirstAnswer(ctx, req, res, actor, key);
      return true;
    };
    claimed().then((proceed) => (proceed ? next() : undefined), next);
  };
}

function answerFromRow(res: Response, row: Row, fingerprint: string): void {
  if (row.fingerprint !== fingerprint) {
    throw new Conflict(
      'idempotency_key_reused',
      `this ${IDEMPOTENCY_HEADER} was used in the last 24 h for another request (another body, method or path): send a new key for a new request, or the first request's exact body to get its answer again`,
      {},
    );
  }
  if (row.status === null) {
    throw new Conflict(
      'idempotency_key_in_use',
      `the first request with this ${IDEMPOTENCY_HEADER} is still being served: retry in a moment to get its answer`,
      {},
    );
  }
  res
    .status(row.status)
    .set(REPLAYED_HEADER, 'true')
    .type('json')
    .send(row.body ?? '');
}

/** Wraps res.json: the answer is stored (or the key released) before it is sent, so a retry right after it finds it. */
function keepFirstAnswer(ctx: AppContext, req: Request, res: Response, actor: string, key: string): void {
  const db = ctx.dbh.db;
  const send = res.json.bind(res);
  let settled = false;
  const where = () => db.updateTable('idempotency_keys').where('actor', '=', actor).where('key', '=', key);
  const release = () => db.deleteFrom('idempotency_keys').where('actor', '=', actor).where('key', '=', key).where('status', 'is', null).execute();
  res.json = ((body: unknown) => {
    settled = true;
    const text = JSON.stringify(body) ?? 'null';
    const keep = res.statusCode < 500 && Buffer.byteLength(text) <= MAX_STORED_BODY_BYTES;
    const stored = keep ? where().set({ status: res.statusCode, body: text }).execute() : release();
    stored.catch((err: unknown) => req.log.warn({ err }, 'could not keep the answer of an Idempotency-Key request')).finally(() => send(body));
    return res;
  }) as Response['json'];
  // an answer that was not JSON (none of these routes sends one) or no answer: the key is free again
  res.on('finish', () => {
    if (!settled) release().catch((err: unknown) => req.log.warn({ err }, 'could not release an Idempotency-Key'));
  });
}

import type { AppContext } from '../context';
import type { RawRequestRow } from '../db/types';
import { AppError, isCallbackRefusal, NotFound, SignatureInvalid } from '../errors';
import { afterApply, applyReports, noReportDetail, resolveTarget, verdictOf, verifyAndParse, type Target } from '../ingest/ingest';
import { claimNonces } from '../ingest/nonces';
import type { Nonce } from '../providers/types';
import type { RawCallback } from '../raw/types';
import type { AppliedReport } from '../status/store';
import type { ProviderReport, StatusEvent } from '../status/types';
import { iso } from '../util/time';
import { audit } from './audit';
import { rawFromRow, updateVerdict } from '../raw/store';
import { walkRaw, type RawFilter } from '../raw/filter';

export interface ReplayChange {
  message_id: string;
  recipient: string;
  from: string | null;
  to: string;
  version: number;
}

export interface ReplayResult {
  raw_id: string;
  provider: string;
  account: string;
  previous_verdict: string;
  /** The verdict under today's code and config (unchanged when the request could not be replayed). */
  verdict: string;
  detail: string | null;
  /** The events the request produces now (status changes and engagements). */
  events: StatusEvent[];
  /** The status changes made — or, in a dry run, that would be made. */
  changes: ReplayChange[];
}

/** Thrown inside a dry run's transaction so that everything it wrote is rolled back. */
class DryRunRollback extends Error {
  constructor(readonly applied: AppliedReport[]) {
    super('dry run');
  }
}

function changesOf(applied: AppliedReport[]): ReplayChange[] {
  return applied
    .filter((a) => a.decision?.change && a.event?.status)
    .map((a) => ({ message_id: a.event!.message_id, recipient: a.event!.recipient, from: a.previousStatus, to: a.event!.status!, version: a.event!.version }));
}

export interface ReplayOptions {
  /**
   * An import of a line whose `received_at` is not trusted stores the import time as the receive
   * time (src/replay/transfer.ts); this is the time the file claimed, used only to say so when a
   * signature refused at the import time would have passed at it.
   */
  claimedReceivedAt?: Date;
  /** Rewrites the detail of a refusal before it is stored and answered (an import of redacted lines). */
  refusalDetail?: (verdict: string, detail: string) => string;
}

/** True unless verification refuses the request's signature at `at`. */
async function signatureHoldsAt(ctx: AppContext, target: Target, raw: RawCallback, at: Date): Promise<boolean> {
  try {
    await verifyAndParse(ctx, target, raw, at);
    return true;
  } catch (err) {
    return !(err instanceof SignatureInvalid);
  }
}

/**
 * Runs a stored request through today's verification (today's config and secrets, the stored
 * receive time for timestamp tolerance), parsing and state rules. Reports already applied are
 * duplicates, so replaying what was applied changes and forwards nothing. A dry run does all of it
 * inside a transaction that is rolled back: nothing written, nothing forwarded.
 *
 * Nonces (Mailgun tokens, generic `nonce`s): the stored receive time passes the timestamp check
 * whenever the request is replayed, so a copy of a genuine request — refused live as a second use
 * of its token — would pass it too. The replay's transaction therefore claims the request's nonces
 * (src/ingest/nonces.ts claimNonces): one another raw request used refuses the replay as
 * `signature_invalid`, naming that request; one this request used (or nobody) is recorded for it.
 */
export async function replayRow(ctx: AppContext, row: RawRequestRow, dryRun: boolean, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const result: ReplayResult = {
    raw_id: row.id,
    provider: row.provider,
    account: row.account,
    previous_verdict: row.verdict,
    verdict: row.verdict,
    detail: row.detail,
    events: [],
    changes: [],
  };
  if (row.verdict === 'too_large') return { ...result, detail: 'the body of a too-large request is not kept: nothing to replay' };
  if (row.verdict === 'overloaded')
    return { ...result, detail: 'the body of a request refused for the body budget was never read: nothing to replay (the provider retries)' };
  const raw = rawFromRow(row);
  /** A refusal under today's code: stored with its reason (unless a dry run) and answered. */
  const refused = async (verdict: string, message: string): Promise<ReplayResult> => {
    const detail = opts.refusalDetail ? opts.refusalDetail(verdict, message) : message;
    if (!dryRun && (verdict !== row.verdict || detail !== row.detail)) await updateVerdict(ctx.dbh.db, row.id, verdict, detail);
    return { ...result, verdict, detail };
  };
  let reports: ProviderReport[];
  let nonces: Nonce[];
  let target: Target | undefined;
  try {
    target = resolveTarget(ctx, row.provider, row.account);
    ({ reports, nonces } = await verifyAndParse(ctx, target, raw));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    if (!isCallbackRefusal(err)) return { ...result, detail: err.message };
    let message = err.message;
    const claimed = opts.claimedReceivedAt;
    if (err instanceof SignatureInvalid && claimed && target && (await signatureHoldsAt(ctx, target, raw, claimed))) {
      message += ` — checked against the import time ${row.received_at}, not the file's received_at ${iso(claimed)} (dlr raw import --trust-received-at trusts the file's: only for files this service exported)`;
    }
    return refused(err.verdict, message);
  }
  const t = target;
  const ownsUnnamed = row.verdict === 'accepted' || row.verdict === 'duplicate';
  const detail = noReportDetail(t.provider, raw, reports);
  let applied: AppliedReport[];
  try {
    applied = await ctx.dbh.transact(async (trx) => {
      await claimNonces(trx, t.provider.name, t.accountName, nonces, row.id, ownsUnnamed);
      const done = await applyReports(trx, ctx, t, raw, reports, true);
      if (dryRun) throw new DryRunRollback(done);
      const verdict = row.verdict === 'accepted' || row.verdict === 'duplicate' ? row.verdict : verdictOf(done);
      if (verdict !== row.verdict || row.detail !== detail) await updateVerdict(trx, row.id, verdict, detail);
      return done;
    }, reports.length);
  } catch (err) {
    if (err instanceof DryRunRollback) applied = err.applied;
    else if (err instanceof AppError && isCallbackRefusal(err)) return refused(err.verdict, err.message);
    else throw err;
  }
  if (!dryRun) afterApply(ctx, row.provider, applied);
  // The answer says what the request is under today's rules: `duplicate` when every report it carries
  // was applied before (docs/api.md). The raw log keeps `accepted` for the request that applied them.
  const verdict = verdictOf(applied);
  return { ...result, verdict, detail, events: applied.flatMap((a) => (a.event ? [a.event] : [])), changes: changesOf(applied) };
}

/** Replays one stored request by id, audited. */
export async function replayOne(ctx: AppContext, id: string, dryRun: boolean, actor: string): Promise<ReplayResult> {
  const row = await ctx.dbh.db.selectFrom('raw_requests').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('raw request', id, 'GET /v1/raw lists the stored requests (those older than retention.rawDays are purged)');
  const r = await replayRow(ctx, row, dryRun);
  await audit(
    ctx.dbh.db,
    actor,
    'replay',
    { filter: { ids: [id] }, dry_run: dryRun },
    { replayed: 1, by_verdict: { [r.verdict]: 1 }, changes: r.changes.length },
  );
  return r;
}

export interface BulkReplaySummary {
  dry_run: boolean;
  replayed: number;
  by_verdict: Record<string, number>;
  changes: number;
  results: ReplayResult[];
}

/** Requests replayed at once on SQLite (they share commits). */
const REPLAY_WINDOW = 128;

/** Replays every matching request, oldest first; `onProgress` hears about each one. */
export async function replayMany(
  ctx: AppContext,
  filter: RawFilter,
  opts: { dryRun: boolean; max: number; actor: string; keepResults?: boolean; onProgress?: (done: number, r: ReplayResult) => void },
): Promise<BulkReplaySummary> {
  const summary: BulkReplaySummary = { dry_run: opts.dryRun, replayed: 0, by_verdict: {}, changes: 0, results: [] };
  // On SQLite, requests in flight together share commits (src/db/group-commit.ts), applied in the
  // order they were read; PostgreSQL replays one at a time, so the order holds there too.
  const window = ctx.dbh.dialect === 'sqlite' ? REPLAY_WINDOW : 1;
  const inFlight: Promise<ReplayResult>[] = [];
  const settleOldest = async () => {
    const r = await inFlight.shift()!;
    summary.replayed += 1;
    summary.by_verdict[r.verdict] = (summary.by_verdict[r.verdict] ?? 0) + 1;
    summary.changes += r.changes.length;
    if (opts.keepResults !== false) summary.results.push(r);
    opts.onProgress?.(summary.replayed, r);
  };
  for await (const row of walkRaw(ctx.dbh.db, filter, opts.max)) {
    const replayed = replayRow(ctx, row, opts.dryRun);
    replayed.catch(() => undefined); // awaited in turn below; not an unhandled rejection meanwhile
    inFlight.push(replayed);
    if (inFlight.length >= window) await settleOldest();
  }
  while (inFlight.length > 0) await settleOldest();
  await audit(
    ctx.dbh.db,
    opts.actor,
    'replay',
    { filter, dry_run: opts.dryRun, max: opts.max },
    { replayed: summary.replayed, by_verdict: summary.by_verdict, changes: summary.changes },
  );
  return summary;
}

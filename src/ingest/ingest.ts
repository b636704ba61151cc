import type { AccountConfig } from '../config/config';
import type { AppContext } from '../context';
import { isCallbackRefusal, PayloadInvalid, SignatureInvalid, Unavailable, UnknownProvider, type CallbackRefusal } from '../errors';
import type { Transaction } from 'kysely';
import type { Db } from '../db/connect';
import { batchCommit } from '../db/group-commit';
import type { Database } from '../db/types';
import { createOutbox } from '../outbox/enqueue';
import { findProvider } from '../providers/registry';
import type { Ack, Nonce, Provider, VerifyContext } from '../providers/types';
import type { RawCallback } from '../raw/types';
import { insertRaw, insertRawAll, rowOf, storedForm, type StoredForm } from '../raw/store';
import type { ProviderReport } from '../status/types';
import { RollupDeltas, SeriesDeltas } from '../status/rollups';
import { applyAll, applyGroup, type ApplyContext, type AppliedReport, type Outbox } from '../status/store';
import { checkAccountProtection } from './access';
import { containsNul } from '../util/mask';
import { recordNonces } from './nonces';

export interface Target {
  provider: Provider;
  accountName: string;
  account: AccountConfig;
}

export interface IngestOutcome {
  verdict: 'accepted' | 'duplicate';
  rawId: string;
  applied: AppliedReport[];
  ack: Ack;
}

/** A provider route exists only for a registered provider with a configured account. */
export function resolveTarget(ctx: AppContext, providerName: string, accountName: string): Target {
  const provider = findProvider(providerName, ctx.config.providers);
  const accounts = provider ? ctx.config.providers[provider.name]?.accounts : undefined;
  // Own keys only: an account named "constructor" or "__proto__" is no account.
  const account = accounts && Object.hasOwn(accounts, accountName) ? accounts[accountName] : undefined;
  if (!provider || !account) throw new UnknownProvider(`no provider ${JSON.stringify(providerName)} with account ${JSON.stringify(accountName)} is configured`);
  return { provider, accountName, account };
}

/** Logs a refused request with its verdict before the refusal is answered. */
export async function recordRefusal(ctx: AppContext, raw: RawCallback, err: CallbackRefusal): Promise<void> {
  try {
    await insertRaw(ctx.dbh.db, rowOf(raw, err.verdict, err.message));
  } catch (dbErr) {
    ctx.logger.error({ err: dbErr, raw_id: raw.id }, 'could not record a refused callback');
    throw new Unavailable((dbErr as Error).message);
  }
}

/** Outbound GETs of verification (SNS certificates), bounded in time. */
const FETCH_TIMEOUT_MS = 5000;

export function verifyContext(ctx: AppContext): VerifyContext {
  return {
    fetchText:
      ctx.fetchText ??
      (async (url) => {
        const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
        if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
        return res.text();
      }),
  };
}

/**
 * Verification and parsing of a request. Signed timestamps are checked against `verifyAt`, by
 * default the request's receive time (replay passes another only to explain a refusal of an import,
 * src/replay/replay.ts).
 */
export async function verifyAndParse(
  ctx: AppContext,
  target: Target,
  raw: RawCallback,
  verifyAt: Date = raw.receivedAt,
): Promise<{ reports: ProviderReport[]; nonces: Nonce[] }> {
  checkAccountProtection(raw, target.account);
  const verified = await target.provider.verify?.(verifyAt === raw.receivedAt ? raw : { ...raw, receivedAt: verifyAt }, target.account, verifyContext(ctx));
  const reports = target.provider.parse(raw, target.account);
  if (containsNul(reports)) throw new PayloadInvalid('a report contains a NUL character');
  return { reports, nonces: verified?.nonces ?? [] };
}

/**
 * The request path after the bytes are read: protect → verify → parse → (one transaction:
 * apply the state rules to every report, write history and outbox, record the raw request) →
 * the provider's acknowledgement. A 2xx is only possible after that transaction committed.
 */
export async function ingest(ctx: AppContext, target: Target, raw: RawCallback): Promise<IngestOutcome> {
  let reports: ProviderReport[];
  let nonces: Nonce[];
  try {
    ({ reports, nonces } = await verifyAndParse(ctx, target, raw));
  } catch (err) {
    if (isCallbackRefusal(err)) await recordRefusal(ctx, raw, err);
    throw err;
  }

  const stored = storedForm(raw.body);
  let outcome: IngestOutcome;
  try {
    outcome =
      ctx.dbh.dialect === 'postgres'
        ? await groupedIngest(ctx.dbh)({ target, raw, reports, nonces, stored }, reports.length)
        : await ctx.dbh.transact(async (trx) => {
            await recordNonces(trx, target.provider.name, target.accountName, nonces, raw.id, raw.receivedAt);
            const applied = await applyReports(trx, ctx, target, raw, reports, false);
            const verdict = verdictOf(applied);
            await insertRaw(trx, rowOf(raw, verdict, noReportDetail(target.provider, raw, reports), stored), latencies(raw, target, reports, applied));
            return { verdict, rawId: raw.id, applied, ack: target.provider.ack(raw) };
          }, reports.length);
  } catch (err) {
    if (err instanceof PayloadInvalid || err instanceof SignatureInvalid) {
      await recordRefusal(ctx, raw, err);
      throw err;
    }
    ctx.logger.error({ err, raw_id: raw.id, provider: raw.provider }, 'ingest transaction failed');
    throw new Unavailable((err as Error).message);
  }

  afterApply(ctx, raw.provider, outcome.applied);
  target.provider.afterCommit?.(raw, target.account, verifyContext(ctx)).catch((err: unknown) => {
    ctx.logger.warn({ err, raw_id: raw.id, provider: raw.provider }, 'after-commit work failed');
  });
  return outcome;
}

/** A request's context for the state rules (src/status/store.ts), writing to `outbox` and `rollup`. */
function applyContext(target: Target, raw: RawCallback, lockRows: boolean, replay: boolean, outbox: Outbox, rollup: RollupDeltas): ApplyContext {
  return {
    provider: target.provider.name,
    account: target.accountName,
    channel: target.provider.channel,
    rawId: raw.id,
    receivedAt: raw.receivedAt,
    lockRows,
    replay,
    outbox,
    rollup,
    finalAfterSeconds: target.account.finalAfterSeconds,
  };
}

/**
 * Applies a request's reports inside the caller's transaction (live ingest or replay): state
 * rules, history, message rows, events and outbox deliveries.
 */
export async function applyReports(
  trx: Transaction<Database>,
  ctx: AppContext,
  target: Target,
  raw: RawCallback,
  reports: ProviderReport[],
  replay: boolean,
): Promise<AppliedReport[]> {
  const base = applyContext(target, raw, ctx.dbh.dialect === 'postgres', replay, createOutbox(trx, raw.receivedAt), new RollupDeltas());
  return applyAll(trx, base, reports);
}

/** A verified, parsed request waiting for its grouped commit (PostgreSQL). */
interface GroupJob {
  target: Target;
  raw: RawCallback;
  reports: ProviderReport[];
  nonces: Nonce[];
  stored: StoredForm;
}

/**
 * Grouped ingest transactions in flight at once per process (PostgreSQL): each holds a pool
 * connection while callbacks that arrive meanwhile queue for the next (docs/performance.md).
 */
const GROUPS_IN_FLIGHT = 2;

const batchers = new WeakMap<Db, (job: GroupJob, weight: number) => Promise<IngestOutcome>>();

/**
 * PostgreSQL: live ingest by group commit (src/db/group-commit.ts batchCommit). Callbacks that
 * arrive while a group's transaction runs are written together in the next: their nonces, then all
 * their reports as one batch (applyGroup: messages inserted and locked in key order, history, events,
 * message updates in a few statements for the whole group), their raw requests in one insert, one
 * commit. A failing group is retried request by request, so one bad request fails alone; each
 * caller hears back after the commit that holds its request.
 */
function groupedIngest(dbh: Db): (job: GroupJob, weight: number) => Promise<IngestOutcome> {
  let batcher = batchers.get(dbh);
  if (!batcher) {
    // each group tells the reads' gate that ingest is busy (src/db/read-gate.ts)
    const run = (trx: Transaction<Database>, jobs: GroupJob[]) => {
      dbh.noteIngest?.();
      return ingestTogether(trx, jobs);
    };
    batcher = batchCommit(dbh.db, run, { concurrency: GROUPS_IN_FLIGHT });
    batchers.set(dbh, batcher);
  }
  return batcher;
}

/** One transaction's work for a group of requests (groupedIngest): what each request's ingest gives. */
async function ingestTogether(trx: Transaction<Database>, jobs: GroupJob[]): Promise<IngestOutcome[]> {
  for (const { target, raw, nonces } of jobs) await recordNonces(trx, target.provider.name, target.accountName, nonces, raw.id, raw.receivedAt);
  const shared = { outbox: createOutbox(trx, jobs[0].raw.receivedAt), rollup: new RollupDeltas() };
  const applied = await applyGroup(
    trx,
    shared,
    jobs.map(({ target, raw, reports }) => ({ ctx: applyContext(target, raw, true, false, shared.outbox, shared.rollup), reports })),
  );
  const series = new SeriesDeltas();
  const verdicts = applied.map(verdictOf);
  const rows = jobs.map(({ target, raw, reports, stored }, i) => {
    latencies(raw, target, reports, applied[i], series);
    return rowOf(raw, verdicts[i], noReportDetail(target.provider, raw, reports), stored);
  });
  await insertRawAll(trx, rows, series);
  return jobs.map(({ target, raw }, i) => ({ verdict: verdicts[i], rawId: raw.id, applied: applied[i], ack: target.provider.ack(raw) }));
}

/**
 * The raw log's detail for an accepted request that carries no report, when its provider says why
 * (an SNS subscription message, a notification with no event); null otherwise.
 */
export function noReportDetail(provider: Provider, raw: RawCallback, reports: ProviderReport[]): string | null {
  if (reports.length > 0 || !provider.noReportReason) return null;
  const reason = provider.noReportReason(raw);
  return reason === null ? null : `no report: ${reason}`;
}

/** How late each status report of a request came (duplicates left out), for the timeseries' latency. */
function latencies(raw: RawCallback, target: Target, reports: ProviderReport[], applied: AppliedReport[], series = new SeriesDeltas()): SeriesDeltas {
  applied.forEach((a, i) => {
    if (a.reported === null || a.duplicate || a.delaySeconds === null) return;
    series.latency(raw.receivedAt, raw.provider, raw.account, target.provider.channel, reports[i].recipient, a.delaySeconds);
  });
  return series;
}

/** `duplicate` when every report of a request was one; `accepted` otherwise (an empty batch too). */
export function verdictOf(applied: AppliedReport[]): 'accepted' | 'duplicate' {
  return applied.length > 0 && applied.every((a) => a.duplicate) ? 'duplicate' : 'accepted';
}

/**
 * After a commit: wake the worker when deliveries were queued, count the transitions and the status
 * reports (not duplicates), and time each report's delay (live ingest; a replay has none).
 */
export function afterApply(ctx: AppContext, provider: string, applied: AppliedReport[]): void {
  if (applied.some((a) => a.queued > 0)) ctx.wakeWorker?.();
  for (const a of applied) {
    if (a.decision?.change && a.event?.status) {
      ctx.metrics.transitions.inc({ provider, from: a.previousStatus ?? 'none', to: a.event.status });
    }
    if (a.reported === null || a.duplicate) continue;
    ctx.metrics.reports.inc({ provider, status: a.reported });
    if (a.delaySeconds !== null) ctx.metrics.reportLatency.observe({ provider }, Math.max(0, a.delaySeconds));
  }
}

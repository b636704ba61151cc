import { useState } from 'preact/hooks';
import { api } from '../api';
import { useI18n } from '../i18n';
import { consolePath, messagePath } from '../router';
import type { BulkReplay, ReplayResult } from '../types';
import { ErrorBox, StatusBadge, VerdictBadge } from './common';
import { Link } from './Link';

/** What a replay did (or would do): verdict before → after, each status change, the events. */
export function ReplayDiff(props: { result: ReplayResult; applied: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  const r = props.result;
  return (
    <div class="diff">
      <p>
        {t('replay.verdict')}: <VerdictBadge verdict={r.previous_verdict} /> <span aria-hidden="true">→</span>
        <span class="sr-only">{t('replay.to')}</span> <VerdictBadge verdict={r.verdict} />
      </p>
      {r.detail ? <p class="wrap">{t('raw.detail')}: {r.detail}</p> : null}
      <h4>
        {props.applied ? t('replay.changesMade') : t('replay.changesWould')} ({r.changes.length})
      </h4>
      {r.changes.length === 0 ? (
        <p class="muted">{t('replay.noChanges')}</p>
      ) : (
        <div class="scroll">
          <table>
            <caption class="sr-only">{props.applied ? t('replay.changesMade') : t('replay.changesWould')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('common.messageId')}</th>
                <th scope="col">{t('common.recipient')}</th>
                <th scope="col">{t('replay.from')}</th>
                <th scope="col">{t('replay.toCol')}</th>
                <th scope="col">{t('common.version')}</th>
              </tr>
            </thead>
            <tbody>
              {r.changes.map((c, i) => (
                <tr key={i}>
                  <td class="wrap mono">
                    {r.provider ? (
                      <Link href={messagePath({ provider: r.provider, account: r.account, message_id: c.message_id, recipient: c.recipient })}>{c.message_id}</Link>
                    ) : (
                      c.message_id
                    )}
                  </td>
                  <td class="wrap mono">{c.recipient}</td>
                  <td>
                    <StatusBadge status={c.from} />
                  </td>
                  <td>
                    <StatusBadge status={c.to} />
                  </td>
                  <td>{c.version ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h4>
        {props.applied ? t('replay.eventsMade') : t('replay.eventsWould')} ({r.events.length})
      </h4>
      {r.events.length === 0 ? (
        <p class="muted">{t('events.none')}</p>
      ) : (
        <div class="scroll">
          <table>
            <caption class="sr-only">{props.applied ? t('replay.eventsMade') : t('replay.eventsWould')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('events.type')}</th>
                <th scope="col">{t('common.status')}</th>
                <th scope="col">{t('common.messageId')}</th>
                <th scope="col">{t('common.recipient')}</th>
                <th scope="col">{t('common.error')}</th>
              </tr>
            </thead>
            <tbody>
              {r.events.slice(0, 200).map((e, i) => (
                <tr key={i}>
                  <td class="mono">{e.type}</td>
                  <td>
                    <StatusBadge status={e.status} action={e.action} />
                  </td>
                  <td class="wrap mono">{e.message_id}</td>
                  <td class="wrap mono">{e.recipient}</td>
                  <td class="wrap">{e.error ? `${e.error.code ?? ''} ${e.error.message ?? ''}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** Replay of one stored request: a dry run first, and only then Apply. */
export function ReplayOne(props: { id: string; onApplied: () => void }) {
  const { t } = useI18n();
  const [dry, setDry] = useState<ReplayResult | null>(null);
  const [applied, setApplied] = useState<ReplayResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (dryRun: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<ReplayResult>(`/v1/raw/${encodeURIComponent(props.id)}/replay`, { method: 'POST', body: { dry_run: dryRun } });
      if (dryRun) {
        setDry(r);
        setApplied(null);
      } else {
        setApplied(r);
        setDry(null);
        props.onApplied();
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="replay-one-h">
      <h2 id="replay-one-h">{t('replay.title')}</h2>
      <p class="muted">{t('replay.explain')}</p>
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => run(true)}>
          {t('replay.dryRun')}
        </button>
        {dry ? (
          <button type="button" class="danger" disabled={busy} onClick={() => run(false)}>
            {t('replay.apply')}
          </button>
        ) : null}
      </div>
      <div aria-live="polite">
        {busy ? <p role="status">{t('common.working')}</p> : null}
        <ErrorBox error={error} />
        {dry ? (
          <div class="result">
            <h3>{t('replay.dryResult')}</h3>
            <ReplayDiff result={dry} applied={false} />
          </div>
        ) : null}
        {applied ? (
          <div class="result">
            <h3>{t('replay.appliedResult')}</h3>
            <ReplayDiff result={applied} applied />
          </div>
        ) : null}
      </div>
    </section>
  );
}

export interface RawFilterValues {
  provider?: string;
  account?: string;
  verdict?: string;
  since?: string;
  until?: string;
  q?: string;
}

function BulkSummary(props: { result: BulkReplay }) {
  const i18n = useI18n();
  const { t } = i18n;
  const r = props.result;
  const verdicts = Object.entries(r.by_verdict ?? {});
  return (
    <div class="diff">
      <p>
        {t('bulk.requests', { n: i18n.num(r.replayed) })} · {t('bulk.changes', { n: i18n.num(r.changes) })}
      </p>
      <table>
        <caption>{t('bulk.byVerdict')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('raw.verdict')}</th>
            <th scope="col">{t('common.count')}</th>
          </tr>
        </thead>
        <tbody>
          {verdicts.map(([v, n]) => (
            <tr key={v}>
              <td>
                <VerdictBadge verdict={v} />
              </td>
              <td>{i18n.num(n)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {(r.results ?? []).length > 0 ? (
        <div class="scroll">
          <table>
            <caption>{t('bulk.perRequest')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('raw.id')}</th>
                <th scope="col">{t('replay.verdict')}</th>
                <th scope="col">{t('bulk.changesCol')}</th>
                <th scope="col">{t('raw.detail')}</th>
              </tr>
            </thead>
            <tbody>
              {r.results.slice(0, 100).map((x) => (
                <tr key={x.raw_id}>
                  <td class="mono">
                    <Link href={consolePath(['raw', x.raw_id])}>{x.raw_id}</Link>
                  </td>
                  <td>
                    <VerdictBadge verdict={x.previous_verdict} /> <span aria-hidden="true">→</span>
                    <span class="sr-only">{t('replay.to')}</span> <VerdictBadge verdict={x.verdict} />
                  </td>
                  <td>{x.changes.length}</td>
                  <td class="wrap">{x.detail ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {r.results.length > 100 ? <p class="muted">{t('events.more', { n: r.results.length - 100 })}</p> : null}
        </div>
      ) : null}
    </div>
  );
}

/** Replay of every request the current filter matches: a dry-run summary first, then Apply. */
export function ReplayBulk(props: { filter: RawFilterValues }) {
  const { t } = useI18n();
  const [dry, setDry] = useState<BulkReplay | null>(null);
  const [applied, setApplied] = useState<BulkReplay | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const filter: Record<string, string> = {};
  for (const [k, v] of Object.entries(props.filter)) if (v) filter[k] = v;
  const key = JSON.stringify(filter);
  const [forKey, setForKey] = useState(key);
  if (forKey !== key) {
    // the filter changed: an earlier dry run no longer says what Apply would do
    setForKey(key);
    setDry(null);
    setApplied(null);
  }
  const run = async (dryRun: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<BulkReplay>('/v1/replay', { method: 'POST', body: { filter, dry_run: dryRun } });
      if (dryRun) {
        setDry(r);
        setApplied(null);
      } else {
        setApplied(r);
        setDry(null);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="replay-bulk-h">
      <h2 id="replay-bulk-h">{t('bulk.title')}</h2>
      <p class="muted">{t('bulk.explain')}</p>
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => run(true)}>
          {t('bulk.dryRun')}
        </button>
        {dry ? (
          <button type="button" class="danger" disabled={busy || dry.replayed === 0} onClick={() => run(false)}>
            {t('bulk.apply', { n: dry.replayed })}
          </button>
        ) : null}
      </div>
      <div aria-live="polite">
        {busy ? <p role="status">{t('common.working')}</p> : null}
        <ErrorBox error={error} />
        {dry ? (
          <div class="result">
            <h3>{t('replay.dryResult')}</h3>
            <BulkSummary result={dry} />
          </div>
        ) : null}
        {applied ? (
          <div class="result">
            <h3>{t('replay.appliedResult')}</h3>
            <BulkSummary result={applied} />
          </div>
        ) : null}
      </div>
    </section>
  );
}

import { useMemo, useState } from 'preact/hooks';
import { useStateFor } from '../state';
import { apiPath, useApi } from '../api';
import { HBars, RateLines, StackedBars, type Series, type Slot } from '../components/Chart';
import { ErrorBox, Loading, PageTitle } from '../components/common';
import { Link } from '../components/Link';
import { useI18n, type I18n, type Key } from '../i18n';
import { consolePath, navigate } from '../router';
import { useSession } from '../session';
import type { Bucket, Outbox, Stats, Timeseries } from '../types';
import { VERDICTS } from './RawList';

const WINDOWS: Record<string, { seconds: number; interval: '1m' | '1h' | '1d'; key: Key }> = {
  '1h': { seconds: 3600, interval: '1m', key: 'health.window.1h' },
  '24h': { seconds: 86400, interval: '1h', key: 'health.window.24h' },
  '7d': { seconds: 7 * 86400, interval: '1h', key: 'health.window.7d' },
};
const STEP_MS: Record<string, number> = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 };
const STATUSES = ['delivered', 'sent', 'queued', 'deferred', 'failed', 'expired', 'rejected', 'none'];
const PALETTE = 8;

function seriesOf(keys: Iterable<string>, known: string[], prefix: 'status' | 'verdict', cls: string, i18n: I18n): Series[] {
  const all = new Set(keys);
  const ordered = [...known.filter((k) => all.has(k)), ...[...all].filter((k) => !known.includes(k)).sort()];
  return ordered.map((k) => ({ key: k, label: i18n.code(prefix, k), cls: /^[a-z_]+$/.test(k) ? `${cls}-${k}` : 'c-other' }));
}

/** Every slot of the window (empty ones too), with the buckets summed into it. */
function slotsOf(buckets: Bucket[], since: number, until: number, interval: string, pick: (b: Bucket) => Record<string, number>): Slot[] {
  const step = STEP_MS[interval]!;
  const first = Math.floor(since / step) * step;
  const slots: Slot[] = [];
  const index = new Map<number, Slot>();
  for (let t = first; t < until; t += step) {
    const s: Slot = { start: new Date(t).toISOString(), values: {} };
    slots.push(s);
    index.set(t, s);
  }
  for (const b of buckets) {
    const t = Math.floor(new Date(b.start).getTime() / step) * step;
    const slot = index.get(t);
    if (!slot) continue;
    for (const [k, v] of Object.entries(pick(b))) slot.values[k] = (slot.values[k] ?? 0) + (v ?? 0);
  }
  return slots;
}

export function Health(props: { query: URLSearchParams }) {
  const i18n = useI18n();
  const { t } = i18n;
  const session = useSession();
  const q = props.query;
  const win = WINDOWS[q.get('window') ?? ''] ? q.get('window')! : '24h';
  const { seconds, interval } = WINDOWS[win]!;
  const filters = { provider: q.get('provider') ?? '', account: q.get('account') ?? '', channel: q.get('channel') ?? '' };
  const groupBy = ['provider', 'account', 'channel'].includes(q.get('group_by') ?? '') ? q.get('group_by')! : '';
  const [nonce, setNonce] = useState(0);
  // the window ends now: computed once per query (and per Refresh), not per render
  const range = useMemo(() => {
    const until = Date.now();
    const step = STEP_MS[interval]!;
    const since = Math.floor((until - seconds * 1000) / step) * step;
    return { since, until };
  }, [q.toString(), nonce]);
  const sinceIso = new Date(range.since).toISOString();
  const untilIso = new Date(range.until).toISOString();
  const ts = useApi<Timeseries>(apiPath('/v1/stats/timeseries', { interval, since: sinceIso, until: untilIso, group_by: groupBy, ...filters }));
  const stats = useApi<Stats>(apiPath('/v1/stats', { since: sinceIso, until: untilIso, ...filters }));
  const outbox = useApi<Outbox>('/v1/outbox');
  const [form, setForm] = useStateFor(() => ({ window: win, groupBy, ...filters }), q.toString());
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  const buckets = ts.data?.buckets ?? [];
  const realInterval = ts.data?.interval ?? interval;
  const statusSlots = slotsOf(buckets, range.since, range.until, realInterval, (b) => b.by_status ?? {});
  const statusSeries = seriesOf(
    buckets.flatMap((b) => Object.keys(b.by_status ?? {})),
    STATUSES,
    'status',
    'c-st',
    i18n,
  );
  const verdictSlots = slotsOf(buckets, range.since, range.until, realInterval, (b) => b.callbacks ?? {});
  const verdictSeries = seriesOf(
    buckets.flatMap((b) => Object.keys(b.callbacks ?? {})),
    VERDICTS,
    'verdict',
    'c-vd',
    i18n,
  );
  // delivery rate per group (or overall): delivered / final in each slot
  const groups = [...new Set(buckets.map((b) => (groupBy ? (b.group ?? '') : '')))].sort();
  const rateSeries: Series[] = groups.map((g, i) => ({ key: `g:${g}`, label: groupBy ? g || t('common.none') : t('health.rate'), cls: `c-line-${i % PALETTE}` }));
  const finals = slotsOf(buckets, range.since, range.until, realInterval, (b) => ({ [`g:${groupBy ? (b.group ?? '') : ''}`]: b.final ?? 0 }));
  const delivered = slotsOf(buckets, range.since, range.until, realInterval, (b) => ({ [`g:${groupBy ? (b.group ?? '') : ''}`]: b.delivered ?? 0 }));
  const rateSlots: Slot[] = finals.map((s, i) => {
    const values: Record<string, number | null> = {};
    for (const x of rateSeries) {
      const f = s.values[x.key] ?? 0;
      values[x.key] = f > 0 ? (delivered[i]!.values[x.key] ?? 0) / f : null;
    }
    return { start: s.start, values };
  });
  const sum = (slots: Slot[], key: string) => slots.reduce((a, s) => a + (s.values[key] ?? 0), 0);
  const describe = (series: Series[], slots: Slot[]) =>
    series.map((x) => `${x.label} ${i18n.num(sum(slots, x.key))}`).join(', ') || t('chart.empty');
  const windowLabel = t(WINDOWS[win]!.key);
  const st = stats.data;

  return (
    <div>
      <PageTitle>{t('health.title')}</PageTitle>
      <form
        class="filters"
        aria-label={t('health.filters')}
        onSubmit={(e) => {
          e.preventDefault();
          navigate(
            consolePath(['health'], {
              window: form.window === '24h' ? '' : form.window,
              provider: form.provider,
              account: form.account,
              channel: form.channel,
              group_by: form.groupBy,
            }),
          );
        }}
      >
        <div class="field">
          <label for="h-window">{t('health.window')}</label>
          <select id="h-window" value={form.window} onChange={set('window')}>
            {Object.entries(WINDOWS).map(([k, w]) => (
              <option key={k} value={k}>
                {t(w.key)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="h-provider">{t('common.provider')}</label>
          <input id="h-provider" value={form.provider} onInput={set('provider')} autocomplete="off" />
        </div>
        <div class="field">
          <label for="h-account">{t('common.account')}</label>
          <input id="h-account" value={form.account} onInput={set('account')} autocomplete="off" />
        </div>
        <div class="field">
          <label for="h-channel">{t('common.channel')}</label>
          <select id="h-channel" value={form.channel} onChange={set('channel')}>
            <option value="">{t('common.any')}</option>
            <option value="sms">{i18n.code('channel', 'sms')}</option>
            <option value="email">{i18n.code('channel', 'email')}</option>
          </select>
        </div>
        <div class="field">
          <label for="h-group">{t('health.groupBy')}</label>
          <select id="h-group" value={form.groupBy} onChange={set('groupBy')}>
            <option value="">{t('health.group.none')}</option>
            <option value="provider">{t('common.provider')}</option>
            <option value="account">{t('common.account')}</option>
            <option value="channel">{t('common.channel')}</option>
          </select>
        </div>
        <div class="field buttons">
          <button type="submit">{t('common.apply')}</button>
          <button
            type="button"
            onClick={() => {
              setNonce((n) => n + 1);
              outbox.reload();
            }}
          >
            {t('common.refresh')}
          </button>
        </div>
      </form>

      <section aria-labelledby="summary-h" class="panel">
        <h2 id="summary-h">{t('health.summary', { window: windowLabel })}</h2>
        <ErrorBox error={stats.error} />
        {st ? (
          <ul class="tiles">
            <li>
              <span class="tile-label">{t('health.rate')}</span>
              <span class="tile-value">{i18n.percent(st.delivery_rate)}</span>
            </li>
            <li>
              <span class="tile-label">{t('health.total')}</span>
              <span class="tile-value">{i18n.num(st.total)}</span>
            </li>
            <li>
              <span class="tile-label">{t('health.final')}</span>
              <span class="tile-value">{i18n.num(st.final)}</span>
            </li>
            <li>
              <span class="tile-label">{t('health.delivered')}</span>
              <span class="tile-value">{i18n.num(st.delivered)}</span>
            </li>
          </ul>
        ) : null}
      </section>

      <section aria-labelledby="charts-h">
        <h2 id="charts-h">{t('health.overTime', { window: windowLabel })}</h2>
        <Loading when={ts.loading} />
        <ErrorBox error={ts.error} />
        {ts.data ? (
          <div class="charts">
            <RateLines id="ch-rate" title={t('health.chart.rate')} summary={describeRate(rateSeries, rateSlots, i18n)} series={rateSeries} slots={rateSlots} interval={realInterval} />
            <StackedBars id="ch-status" title={t('health.chart.status')} summary={describe(statusSeries, statusSlots)} series={statusSeries} slots={statusSlots} interval={realInterval} />
            <StackedBars id="ch-verdict" title={t('health.chart.callbacks')} summary={describe(verdictSeries, verdictSlots)} series={verdictSeries} slots={verdictSlots} interval={realInterval} />
          </div>
        ) : null}
        {st ? (
          <HBars
            id="ch-errors"
            title={t('health.chart.errors')}
            labelHeader={t('health.errorCode')}
            valueHeader={t('common.count')}
            rows={(st.top_error_codes ?? []).map((e) => ({ label: `${e.provider} ${e.code}`, value: e.count }))}
          />
        ) : null}
      </section>

      <section aria-labelledby="outbox-h" class="panel">
        <h2 id="outbox-h">{t('health.outbox')}</h2>
        <Loading when={outbox.loading} />
        <ErrorBox error={outbox.error} />
        {outbox.data ? (
          <>
            <ul class="tiles">
              <li>
                <span class="tile-label">{t('health.pending')}</span>
                <span class="tile-value">{i18n.num(outbox.data.pending)}</span>
              </li>
              <li>
                <span class="tile-label">{t('health.dead')}</span>
                <span class={outbox.data.dead > 0 ? 'tile-value bad' : 'tile-value'}>{i18n.num(outbox.data.dead)}</span>
              </li>
              <li>
                <span class="tile-label">{t('health.oldest')}</span>
                <span class="tile-value">{i18n.duration(outbox.data.oldest_pending_age_seconds)}</span>
              </li>
            </ul>
            {outbox.data.subscriptions.length === 0 ? (
              <p class="muted">{t('subs.none')}</p>
            ) : (
              <div class="scroll">
                <table>
                  <caption>{t('health.perSubscription')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('subs.url')}</th>
                      <th scope="col">{t('subs.enabled')}</th>
                      <th scope="col">{t('health.pending')}</th>
                      <th scope="col">{t('health.dead')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {outbox.data.subscriptions.map((s) => (
                      <tr key={s.id}>
                        <td class="wrap mono">{session.can('admin') ? <Link href={consolePath(['subscriptions', s.id])}>{s.url}</Link> : s.url}</td>
                        <td>{s.enabled ? t('common.yes') : t('common.no')}</td>
                        <td>{i18n.num(s.pending)}</td>
                        <td class={s.dead > 0 ? 'bad' : undefined}>{i18n.num(s.dead)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        ) : null}
      </section>
    </div>
  );
}

function describeRate(series: Series[], slots: Slot[], i18n: I18n): string {
  const parts = series.map((x) => {
    const vals = slots.map((s) => s.values[x.key]).filter((v): v is number => v !== null && v !== undefined);
    if (vals.length === 0) return `${x.label} ${i18n.t('common.none')}`;
    return `${x.label} ${i18n.percent(Math.min(...vals))}–${i18n.percent(Math.max(...vals))}`;
  });
  return parts.join(', ') || i18n.t('chart.empty');
}

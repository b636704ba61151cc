import { useState } from 'preact/hooks';
import { useStateFor } from '../state';
import { api, apiPath, useApi } from '../api';
import { CopyButton, Disclosure, ErrorBox, Facts, JsonBlock, Loading, PageTitle, Time } from '../components/common';
import { Link } from '../components/Link';
import { Attempts } from '../components/RawView';
import { useI18n } from '../i18n';
import { consolePath, navigate } from '../router';
import type { Delivery, DeliveryDetail, Page, Subscription, SubscriptionFilter } from '../types';

const CHANNELS = ['sms', 'email'];
const STATUSES = ['queued', 'sent', 'deferred', 'delivered', 'failed', 'expired', 'rejected'];
const TYPES = ['message.status', 'message.engagement'];
const STATES = ['pending', 'succeeded', 'dead'];

function filterText(f: SubscriptionFilter | null, none: string): string {
  if (!f) return none;
  const parts = Object.entries(f)
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k, v]) => `${k}: ${(v as string[]).join(', ')}`);
  return parts.length ? parts.join(' · ') : none;
}

/** The secret, shown once (after creation or rotation), with a copy button. */
function SecretOnce(props: { secret: string; onDismiss: () => void }) {
  const { t } = useI18n();
  return (
    <div class="secret" role="status">
      <p>
        <strong>{t('subs.secretOnce')}</strong>
      </p>
      <p>
        <code class="mono wrap" id="secret-value">
          {props.secret}
        </code>
      </p>
      <div class="actions">
        <CopyButton text={props.secret} label={t('subs.copySecret')} />
        <button type="button" onClick={props.onDismiss}>
          {t('subs.secretDone')}
        </button>
      </div>
    </div>
  );
}

function Checkboxes(props: { legend: string; name: string; options: string[]; label: (v: string) => string; value: string[]; onChange: (v: string[]) => void }) {
  return (
    <fieldset class="checks">
      <legend>{props.legend}</legend>
      {props.options.map((o) => (
        <label key={o}>
          <input
            type="checkbox"
            name={props.name}
            value={o}
            checked={props.value.includes(o)}
            onChange={(e) => {
              const on = (e.currentTarget as HTMLInputElement).checked;
              props.onChange(on ? [...props.value, o] : props.value.filter((x) => x !== o));
            }}
          />{' '}
          {props.label(o)}
        </label>
      ))}
    </fieldset>
  );
}

function CreateForm(props: { onCreated: (s: Subscription) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const empty = { url: '', description: '', providers: '', channels: [] as string[], statuses: [] as string[], types: [] as string[], enabled: true };
  const [form, setForm] = useState(empty);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="panel create"
      aria-labelledby="create-h"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        const filter: SubscriptionFilter = {};
        const providers = form.providers
          .split(/[\s,]+/)
          .map((p) => p.trim())
          .filter(Boolean);
        if (providers.length) filter.providers = [...new Set(providers)];
        if (form.channels.length) filter.channels = form.channels;
        if (form.statuses.length) filter.statuses = form.statuses;
        if (form.types.length) filter.types = form.types;
        try {
          const created = await api<Subscription>('/v1/subscriptions', {
            method: 'POST',
            body: { url: form.url.trim(), description: form.description.trim() || null, enabled: form.enabled, ...(Object.keys(filter).length ? { filter } : {}) },
          });
          setForm(empty);
          props.onCreated(created);
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2 id="create-h">{t('subs.create')}</h2>
      <div class="field wide">
        <label for="s-url">{t('subs.url')}</label>
        <input id="s-url" type="url" required value={form.url} placeholder={t('subs.urlPlaceholder')} onInput={(e) => setForm({ ...form, url: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      <div class="field wide">
        <label for="s-desc">{t('subs.description')}</label>
        <input id="s-desc" value={form.description} maxLength={500} onInput={(e) => setForm({ ...form, description: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      <div class="field wide">
        <label for="s-providers">{t('subs.providers')}</label>
        <input id="s-providers" value={form.providers} aria-describedby="s-providers-hint" onInput={(e) => setForm({ ...form, providers: (e.currentTarget as HTMLInputElement).value })} />
        <span id="s-providers-hint" class="muted hint">
          {t('subs.providersHint')}
        </span>
      </div>
      <Checkboxes legend={t('subs.channels')} name="channels" options={CHANNELS} label={(v) => i18n.code('channel', v)} value={form.channels} onChange={(v) => setForm({ ...form, channels: v })} />
      <Checkboxes legend={t('subs.statuses')} name="statuses" options={STATUSES} label={(v) => i18n.code('status', v)} value={form.statuses} onChange={(v) => setForm({ ...form, statuses: v })} />
      <Checkboxes legend={t('subs.types')} name="types" options={TYPES} label={(v) => v} value={form.types} onChange={(v) => setForm({ ...form, types: v })} />
      <p class="muted">{t('subs.filterHint')}</p>
      <label class="inline">
        <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: (e.currentTarget as HTMLInputElement).checked })} /> {t('subs.enabled')}
      </label>
      <div class="actions">
        <button type="submit" disabled={busy}>
          {t('subs.createSubmit')}
        </button>
      </div>
      <ErrorBox error={error} />
    </form>
  );
}

export function Subscriptions() {
  const { t } = useI18n();
  const res = useApi<{ items: Subscription[] }>('/v1/subscriptions');
  const [created, setCreated] = useState<Subscription | null>(null);
  const items = res.data?.items ?? [];
  return (
    <div>
      <PageTitle>{t('subs.title')}</PageTitle>
      {created?.secret ? (
        <section class="panel" aria-labelledby="created-h">
          <h2 id="created-h">{t('subs.created')}</h2>
          <p>
            <Link href={consolePath(['subscriptions', created.id])} class="mono">
              {created.url}
            </Link>
          </p>
          <SecretOnce secret={created.secret} onDismiss={() => setCreated(null)} />
        </section>
      ) : null}
      <Loading when={res.loading && !res.data} />
      <ErrorBox error={res.error} />
      {res.data ? (
        <section aria-labelledby="subs-h">
          <h2 id="subs-h">{t('subs.list', { n: items.length })}</h2>
          {items.length === 0 ? (
            <p>{t('subs.none')}</p>
          ) : (
            <div class="scroll">
              <table>
                <caption class="sr-only">{t('subs.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('subs.url')}</th>
                    <th scope="col">{t('subs.description')}</th>
                    <th scope="col">{t('subs.filter')}</th>
                    <th scope="col">{t('subs.enabled')}</th>
                    <th scope="col">{t('subs.createdAt')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((s) => (
                    <tr key={s.id}>
                      <td class="wrap mono">
                        <Link href={consolePath(['subscriptions', s.id])}>{s.url}</Link>
                      </td>
                      <td class="wrap">{s.description ?? ''}</td>
                      <td class="wrap">{filterText(s.filter, t('subs.everything'))}</td>
                      <td>
                        {s.enabled ? t('common.yes') : t('common.no')}
                        {s.disabled_reason ? <span class="muted wrap"> ({s.disabled_reason})</span> : null}
                      </td>
                      <td>
                        <Time iso={s.created_at} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ) : null}
      <CreateForm
        onCreated={(s) => {
          setCreated(s);
          res.reload();
          window.scrollTo(0, 0);
        }}
      />
    </div>
  );
}

function DeliveryAttempts(props: { id: string }) {
  const res = useApi<DeliveryDetail>(`/v1/deliveries/${encodeURIComponent(props.id)}`);
  if (res.loading) return <Loading when />;
  if (res.error) return <ErrorBox error={res.error} />;
  return res.data ? <Attempts attempts={res.data.attempt_log ?? []} /> : null;
}

function DeliveryRow(props: { d: Delivery; onRetried: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const d = props.d;
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <li class="delivery">
      <p>
        <span class={`badge dl-${/^[a-z]+$/.test(d.state) ? d.state : 'x'}`}>{i18n.code('state', d.state)}</span> <span class="mono">{d.id}</span>{' '}
        <span class="muted">
          {t('deliveries.attempts', { n: d.attempts })}
          {d.last_status !== null ? ` · ${t('deliveries.httpStatus', { n: d.last_status })}` : ''}
        </span>
      </p>
      <Facts
        rows={[
          [t('deliveries.event'), <span class="mono">{d.event_id}</span>],
          [t('deliveries.lastErrorLabel'), <span class="wrap">{d.last_error ?? t('common.none')}</span>],
          [t('deliveries.lastAttempt'), <Time iso={d.last_attempt_at} />],
          [t('deliveries.next'), <Time iso={d.next_attempt_at} />],
          [t('subs.createdAt'), <Time iso={d.created_at} />],
        ]}
      />
      <div class="actions">
        <button
          type="button"
          disabled={busy}
          aria-label={t('deliveries.retryOne', { id: d.id })}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await api(`/v1/deliveries/${encodeURIComponent(d.id)}/retry`, { method: 'POST' });
              props.onRetried();
            } catch (err) {
              setError(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          {t('deliveries.retry')}
        </button>
      </div>
      <ErrorBox error={error} />
      <Disclosure class="sub" summary={t('deliveries.showAttempts')}>
        {() => <DeliveryAttempts id={d.id} />}
      </Disclosure>
    </li>
  );
}

export function SubscriptionPage(props: { id: string; query: URLSearchParams }) {
  const i18n = useI18n();
  const { t } = i18n;
  const sub = useApi<Subscription>(`/v1/subscriptions/${encodeURIComponent(props.id)}`);
  const state = STATES.includes(props.query.get('state') ?? '') ? props.query.get('state')! : '';
  const cursor = props.query.get('cursor') ?? '';
  const deliveries = useApi<Page<Delivery>>(apiPath(`/v1/subscriptions/${encodeURIComponent(props.id)}/deliveries`, { state, cursor, limit: 50 }));
  const [secret, setSecret] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // The confirmation of a one-delivery retry lives here, not in its row: the reload that follows
  // takes the row out of a state-filtered list (a dead delivery is pending again).
  const [retried, setRetried] = useStateFor(() => '', `${state} ${cursor}`);
  const [stateSel, setStateSel] = useStateFor(() => state, state);
  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setMessage('');
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const s = sub.data;
  const base = `/v1/subscriptions/${encodeURIComponent(props.id)}`;
  return (
    <div>
      <PageTitle>{t('subs.one')}</PageTitle>
      <p>
        <Link href={consolePath(['subscriptions'])}>{t('subs.back')}</Link>
      </p>
      <Loading when={sub.loading && !s} />
      <ErrorBox error={sub.error} />
      {s ? (
        <section class="panel" aria-labelledby="sub-h">
          <h2 id="sub-h" class="wrap mono">
            {s.url}
          </h2>
          <Facts
            rows={[
              [t('subs.id'), <span class="mono">{s.id}</span>],
              [t('subs.description'), <span class="wrap">{s.description ?? t('common.none')}</span>],
              [t('subs.filter'), <span class="wrap">{filterText(s.filter, t('subs.everything'))}</span>],
              [t('subs.enabled'), `${s.enabled ? t('common.yes') : t('common.no')}${s.disabled_reason ? ` (${s.disabled_reason})` : ''}`],
              [t('subs.rotatingUntil'), <Time iso={s.rotating_until} />],
              [t('subs.createdAt'), <Time iso={s.created_at} />],
              [t('subs.updatedAt'), <Time iso={s.updated_at} />],
            ]}
          />
          <Disclosure class="sub" summary={t('subs.asJson')}>
            {() => <JsonBlock value={{ ...s }} label={t('subs.asJson')} />}
          </Disclosure>
          <div class="actions">
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                act(async () => {
                  await api(base, { method: 'PATCH', body: { enabled: !s.enabled } });
                  setMessage(s.enabled ? t('subs.disabledNow') : t('subs.enabledNow'));
                  sub.reload();
                })
              }
            >
              {s.enabled ? t('subs.disable') : t('subs.enable')}
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                act(async () => {
                  const r = await api<Subscription>(`${base}/rotate-secret`, { method: 'POST' });
                  setSecret(r.secret ?? null);
                  sub.reload();
                })
              }
            >
              {t('subs.rotate')}
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                act(async () => {
                  const r = await api<{ requeued: number }>(`${base}/retry-dead`, { method: 'POST' });
                  setMessage(t('subs.requeued', { n: r.requeued }));
                  deliveries.reload();
                })
              }
            >
              {t('subs.retryDead')}
            </button>
          </div>
          <p role="status" class="inline-status">
            {message}
          </p>
          <ErrorBox error={error} />
          {secret ? <SecretOnce secret={secret} onDismiss={() => setSecret(null)} /> : null}
        </section>
      ) : null}
      <section aria-labelledby="deliveries-h">
        <h2 id="deliveries-h">{t('deliveries.title')}</h2>
        <form
          class="filters"
          aria-label={t('deliveries.filter')}
          onSubmit={(e) => {
            e.preventDefault();
            navigate(consolePath(['subscriptions', props.id], { state: stateSel }));
          }}
        >
          <div class="field">
            <label for="d-state">{t('deliveries.state')}</label>
            <select id="d-state" value={stateSel} onChange={(e) => setStateSel((e.currentTarget as HTMLSelectElement).value)}>
              <option value="">{t('common.any')}</option>
              {STATES.map((x) => (
                <option key={x} value={x}>
                  {i18n.code('state', x)}
                </option>
              ))}
            </select>
          </div>
          <div class="field buttons">
            <button type="submit">{t('common.apply')}</button>
          </div>
        </form>
        <p role="status" class="inline-status">
          {retried}
        </p>
        <Loading when={deliveries.loading && !deliveries.data} />
        <ErrorBox error={deliveries.error} />
        {deliveries.data ? (
          <>
            {deliveries.data.items.length === 0 ? <p>{t('deliveries.noneHere')}</p> : null}
            <ul class="plain">
              {deliveries.data.items.map((d) => (
                <DeliveryRow
                  key={d.id}
                  d={d}
                  onRetried={() => {
                    setRetried(t('deliveries.retried'));
                    deliveries.reload();
                  }}
                />
              ))}
            </ul>
            <nav class="pager" aria-label={t('common.pages')}>
              {cursor ? <Link href={consolePath(['subscriptions', props.id], { state })}>{t('common.firstPage')}</Link> : null}
              {deliveries.data.next_cursor ? <Link href={consolePath(['subscriptions', props.id], { state, cursor: deliveries.data.next_cursor })}>{t('common.nextPage')}</Link> : null}
            </nav>
          </>
        ) : null}
      </section>
    </div>
  );
}

import { useState } from 'preact/hooks';
import { apiBlob, useApi } from '../api';
import { bodyKind, formFields, headerValue, prettyJson, prettyXml } from '../format';
import { useI18n, type Key } from '../i18n';
import { consolePath, messagePath } from '../router';
import type { Body, EventDelivery, EventItem, RawRequest } from '../types';
import { Disclosure, ErrorBox, Facts, KeyValues, Loading, StatusBadge, Time, VerdictBadge } from './common';
import { Link } from './Link';

/** A request body, decoded and pretty-printed as text: JSON and XML indented, form fields as a table, base64 as base64. */
export function BodyView(props: { body: Body | null; contentType: string | undefined; label: string }) {
  const { t } = useI18n();
  const body = props.body;
  if (!body) return <p class="muted">{t('raw.noBody')}</p>;
  const kind = bodyKind(props.contentType, body.encoding, body.content);
  const truncated = body.truncated ? <p class="muted">{t('raw.truncated')}</p> : null;
  if (kind === 'form') {
    const fields = formFields(body.content) ?? [];
    return (
      <div>
        <p class="muted">{t('raw.kind.form')}</p>
        <table class="kv">
          <caption class="sr-only">{props.label}</caption>
          <thead>
            <tr>
              <th scope="col">{t('raw.field')}</th>
              <th scope="col">{t('common.value')}</th>
            </tr>
          </thead>
          <tbody>
            {fields.map(([k, v], i) => (
              <tr key={i}>
                <th scope="row" class="wrap">
                  {k}
                </th>
                <td class="wrap">{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <details class="sub">
          <summary>{t('raw.asSent')}</summary>
          <pre class="code" tabIndex={0} aria-label={t('raw.asSent')}>
            {body.content}
          </pre>
        </details>
        {truncated}
      </div>
    );
  }
  const text = kind === 'json' ? prettyJson(body.content) : kind === 'xml' ? prettyXml(body.content) : body.content;
  return (
    <div>
      <p class="muted">{t(`raw.kind.${kind}` as Key)}</p>
      <pre class="code" tabIndex={0} aria-label={props.label}>
        {text ?? body.content}
      </pre>
      {truncated}
    </div>
  );
}

/** Fetches the stored bytes with the bearer header and offers them as a download (never rendered). */
function DownloadBody(props: { id: string }) {
  const { t } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div>
      <button
        type="button"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            const blob = await apiBlob(`/v1/raw/${encodeURIComponent(props.id)}/body`);
            const url = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
            const a = document.createElement('a');
            a.href = url;
            a.download = `${props.id.replace(/[^A-Za-z0-9_-]/g, '_')}.body`;
            document.body.appendChild(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 10_000);
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        {t('raw.download')}
      </button>
      <ErrorBox error={error} />
    </div>
  );
}

/** Each subscriber's delivery of one event, with every attempt. */
export function EventDeliveries(props: { eventId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const res = useApi<{ items: EventDelivery[] }>(`/v1/events/${encodeURIComponent(props.eventId)}/deliveries`);
  if (res.loading) return <Loading when />;
  if (res.error) return <ErrorBox error={res.error} />;
  const items = res.data?.items ?? [];
  if (items.length === 0) return <p class="muted">{t('deliveries.none')}</p>;
  return (
    <ul class="plain">
      {items.map((d) => (
        <li key={d.id} class="delivery">
          <p>
            <span class={`badge dl-${/^[a-z]+$/.test(d.state) ? d.state : 'x'}`}>{i18n.code('state', d.state)}</span>{' '}
            <span class="wrap mono">{d.url}</span>{' '}
            <span class="muted">
              {t('deliveries.attempts', { n: d.attempts })}
              {d.last_status !== null ? ` · ${t('deliveries.httpStatus', { n: d.last_status })}` : ''}
            </span>
          </p>
          {d.last_error ? <p class="wrap">{t('deliveries.lastError', { error: d.last_error })}</p> : null}
          {d.next_attempt_at ? (
            <p>
              {t('deliveries.next')} <Time iso={d.next_attempt_at} />
            </p>
          ) : null}
          <Attempts attempts={d.attempt_list} />
        </li>
      ))}
    </ul>
  );
}

export function Attempts(props: { attempts: { attempt: number; trigger: string; started_at: string; duration_ms: number | null; status_code: number | null; error: string | null }[] }) {
  const i18n = useI18n();
  const { t } = i18n;
  if (props.attempts.length === 0) return <p class="muted">{t('attempts.none')}</p>;
  return (
    <div class="scroll">
      <table>
        <caption class="sr-only">{t('attempts.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('attempts.attempt')}</th>
            <th scope="col">{t('attempts.trigger')}</th>
            <th scope="col">{t('attempts.started')}</th>
            <th scope="col">{t('attempts.duration')}</th>
            <th scope="col">{t('attempts.status')}</th>
            <th scope="col">{t('attempts.error')}</th>
          </tr>
        </thead>
        <tbody>
          {props.attempts.map((a) => (
            <tr key={a.attempt}>
              <td>{a.attempt}</td>
              <td>{i18n.code('trigger', a.trigger)}</td>
              <td>
                <Time iso={a.started_at} />
              </td>
              <td>{a.duration_ms === null ? t('common.none') : t('attempts.ms', { n: a.duration_ms })}</td>
              <td>{a.status_code ?? t('common.none')}</td>
              <td class="wrap">{a.error ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const MAX_EVENTS = 100;

/** The events a request produced; each opens to its deliveries. */
export function EventsList(props: { events: EventItem[]; highlight?: string | null; heading: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const shown = props.events.slice(0, MAX_EVENTS);
  return (
    <section>
      <h3>
        {props.heading} ({props.events.length})
      </h3>
      {props.events.length === 0 ? <p class="muted">{t('events.none')}</p> : null}
      <ul class="plain events">
        {shown.map((e) => (
          <li key={e.id} class={e.id === props.highlight ? 'event current' : 'event'}>
            <p>
              <StatusBadge status={e.status} action={e.action} /> <span class="mono">{e.type}</span>{' '}
              <Link href={messagePath(e)} class="mono wrap">
                {e.message_id}
              </Link>{' '}
              <span class="mono wrap">{e.recipient}</span>
              {e.version !== undefined ? <span class="muted"> · {t('events.version', { n: e.version })}</span> : null}
              {e.id === props.highlight ? <span class="muted"> · {t('events.thisReport')}</span> : null}
            </p>
            {e.error ? (
              <p class="wrap">
                {t('common.error')}: <span class="mono">{e.error.code ?? ''}</span> {e.error.message ?? ''}
              </p>
            ) : null}
            <Disclosure class="sub" open={e.id === props.highlight} summary={t('events.deliveries', { id: e.id })}>
              {() => <EventDeliveries eventId={e.id} />}
            </Disclosure>
          </li>
        ))}
      </ul>
      {props.events.length > MAX_EVENTS ? <p class="muted">{t('events.more', { n: props.events.length - MAX_EVENTS })}</p> : null}
    </section>
  );
}

/** One stored request in full: method, URL, headers, the decoded body, verdict, detail, events. */
export function RawRequestView(props: { raw: RawRequest; highlightEvent?: string | null; showLink?: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  const r = props.raw;
  return (
    <div class="raw">
      <Facts
        rows={[
          [
            t('raw.id'),
            props.showLink ? (
              <Link href={consolePath(['raw', r.id])} class="mono">
                {r.id}
              </Link>
            ) : (
              <span class="mono">{r.id}</span>
            ),
          ],
          [t('raw.request'), <span class="mono wrap">{`${r.method} ${r.url}`}</span>],
          [t('common.provider'), `${r.provider} / ${r.account}`],
          [t('raw.received'), <Time iso={r.received_at} />],
          [t('raw.remote'), r.remote_addr ?? t('common.none')],
          [t('raw.verdict'), <VerdictBadge verdict={r.verdict} />],
          [t('raw.detail'), <span class="wrap">{r.detail ?? t('common.none')}</span>],
          [t('raw.size'), r.body_size === null ? t('common.none') : t('raw.bytes', { n: i18n.num(r.body_size) })],
        ]}
      />
      <h3>{t('raw.headers')}</h3>
      <KeyValues value={r.headers} caption={t('raw.headers')} />
      <h3>{t('raw.body')}</h3>
      <BodyView body={r.body} contentType={headerValue(r.headers, 'content-type')} label={t('raw.body')} />
      {r.body ? <DownloadBody id={r.id} /> : null}
      <EventsList events={r.events ?? []} highlight={props.highlightEvent} heading={t('events.heading')} />
    </div>
  );
}

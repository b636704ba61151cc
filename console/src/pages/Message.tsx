import type { ComponentChildren } from 'preact';
import { ApiError, apiPath, useApi } from '../api';
import { Disclosure, ErrorBox, Facts, isTerminal, JsonBlock, KeyValues, Loading, PageTitle, StatusBadge, Time } from '../components/common';
import { Link } from '../components/Link';
import { RawRequestView } from '../components/RawView';
import { useI18n } from '../i18n';
import { messagePath } from '../router';
import type { Ambiguous, MessageAnswer, RawRequest, Report } from '../types';

function AmbiguousList(props: { provider: string; messageId: string; account: string | null; body: Ambiguous }) {
  const { t } = useI18n();
  const { recipients, accounts } = props.body;
  const account = props.account ?? (accounts.length === 1 ? accounts[0] : null);
  return (
    <section class="panel" aria-labelledby="ambiguous-h">
      <h2 id="ambiguous-h">{t('message.ambiguous')}</h2>
      <p>{t('message.ambiguousExplain', { n: recipients.length })}</p>
      <ul>
        {recipients.map((r) => (
          <li key={r}>
            <Link href={messagePath({ provider: props.provider, message_id: props.messageId, recipient: r, account })} class="mono">
              {r}
            </Link>
          </li>
        ))}
      </ul>
      {accounts.length > 1 && !props.account ? (
        <>
          <p>{t('message.ambiguousAccounts')}</p>
          <ul>
            {accounts.map((a) => (
              <li key={a}>
                <Link href={messagePath({ provider: props.provider, message_id: props.messageId, account: a })}>{a}</Link>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function RawOfReport(props: { rawId: string; eventId: string | null }) {
  const { t } = useI18n();
  const res = useApi<RawRequest>(`/v1/raw/${encodeURIComponent(props.rawId)}`);
  return (
    <div class="nested">
      <h3>{t('message.rawRequest')}</h3>
      <Loading when={res.loading} />
      <ErrorBox error={res.error} />
      {res.data ? <RawRequestView raw={res.data} highlightEvent={props.eventId} showLink /> : null}
    </div>
  );
}

function ReportItem(props: { report: Report; index: number }) {
  const i18n = useI18n();
  const { t } = i18n;
  const r = props.report;
  const summary = (
    <span class="report-line">
      <span class="muted">#{props.index + 1}</span> <StatusBadge status={r.status} action={r.action} />{' '}
      {r.error?.code ? <span class="mono">{r.error.code}</span> : null}{' '}
      <span>
        {t('message.occurred')} <Time iso={r.occurred_at} />
      </span>{' '}
      <span>
        {t('message.received')} <Time iso={r.received_at} />
      </span>{' '}
      {r.changed ? <span class="badge changed">{t('message.changed')}</span> : <span class="badge unchanged">{t('message.unchanged', { reason: i18n.code('reason', r.reason) })}</span>}
    </span>
  );
  return (
    <li class="report">
      <Disclosure summary={summary}>
        {() => (
          <div class="report-body">
            <Facts
              rows={[
                [t('message.reportId'), <span class="mono">{r.id}</span>],
                [t('events.type'), <span class="mono">{r.type}</span>],
                [t('common.error'), r.error ? <span class="wrap">{`${r.error.code ?? ''} ${r.error.message ?? ''}`}</span> : t('common.none')],
                [t('message.changedQ'), r.changed ? t('common.yes') : `${t('common.no')} (${i18n.code('reason', r.reason)})`],
                [t('message.eventId'), r.event_id ? <span class="mono">{r.event_id}</span> : t('common.none')],
              ]}
            />
            <h3>{t('message.attributes')}</h3>
            <KeyValues value={r.attributes} caption={t('message.attributes')} />
            {r.raw_id ? <RawOfReport rawId={r.raw_id} eventId={r.event_id} /> : <p class="muted">{t('message.noRaw')}</p>}
          </div>
        )}
      </Disclosure>
    </li>
  );
}

export function MessagePage(props: { provider: string; messageId: string; recipient: string | null; account: string | null }) {
  const i18n = useI18n();
  const { t } = i18n;
  const path = apiPath(`/v1/messages/${encodeURIComponent(props.provider)}/${encodeURIComponent(props.messageId)}`, {
    account: props.account,
    recipient: props.recipient,
  });
  const res = useApi<MessageAnswer>(path);
  const ambiguous = res.error instanceof ApiError && res.error.status === 409 && (res.error.body as Ambiguous | null)?.error === 'ambiguous' ? (res.error.body as Ambiguous) : null;
  const m = res.data?.message;
  return (
    <div>
      <PageTitle>
        {t('message.title')} <span class="mono wrap">{props.messageId}</span>
      </PageTitle>
      <p class="muted">
        {props.provider}
        {props.account ? ` / ${props.account}` : ''}
        {props.recipient ? ` · ${props.recipient}` : ''}
      </p>
      <Loading when={res.loading} />
      {ambiguous ? (
        <AmbiguousList provider={props.provider} messageId={props.messageId} account={props.account} body={ambiguous} />
      ) : (
        <ErrorBox error={res.error} />
      )}
      {m && res.data ? (
        <>
          <section aria-labelledby="current-h" class="panel">
            <h2 id="current-h">{t('message.current')}</h2>
            <Facts
              rows={[
                [
                  t('common.status'),
                  <>
                    <StatusBadge status={m.status} /> {m.terminal || isTerminal(m.status) ? t('message.terminal') : t('message.notTerminal')}
                  </>,
                ],
                [t('common.version'), String(m.version)],
                [t('common.channel'), i18n.code('channel', m.channel)],
                [t('common.provider'), `${m.provider} / ${m.account}`],
                [t('common.recipient'), <span class="mono wrap">{m.recipient}</span>],
                [t('common.error'), m.error ? <span class="wrap">{`${m.error.code ?? ''} ${m.error.message ?? ''}`}</span> : t('common.none')],
                [t('message.occurred'), <Time iso={m.occurred_at} />],
                [t('message.firstSeen'), <Time iso={m.created_at} />],
                [t('search.lastChange'), <Time iso={m.updated_at} />],
                ...(m.stale_since
                  ? [
                      [
                        t('message.staleSince'),
                        <>
                          <Time iso={m.stale_since} /> <span class="muted">{t('message.staleHint')}</span>
                        </>,
                      ] as [string, ComponentChildren],
                    ]
                  : []),
              ]}
            />
            <h3>{t('message.attributes')}</h3>
            <KeyValues value={m.attributes} caption={t('message.attributes')} />
          </section>
          <section aria-labelledby="registration-h" class="panel">
            <h2 id="registration-h">{t('message.registration')}</h2>
            <Facts
              rows={[
                [t('common.reference'), <span class="wrap">{m.reference ?? t('common.none')}</span>],
                [t('message.metadata'), m.metadata === null || m.metadata === undefined ? t('common.none') : <JsonBlock value={m.metadata} label={t('message.metadata')} />],
              ]}
            />
          </section>
          <section aria-labelledby="timeline-h">
            <h2 id="timeline-h">{t('message.timeline', { n: res.data.history.length })}</h2>
            {res.data.history_truncated ? <p class="muted">{t('message.truncated')}</p> : null}
            <ol class="timeline">
              {res.data.history.map((r, i) => (
                <ReportItem key={r.id} report={r} index={i} />
              ))}
            </ol>
          </section>
        </>
      ) : null}
    </div>
  );
}

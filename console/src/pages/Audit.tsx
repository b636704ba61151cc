import { useStateFor } from '../state';
import { apiPath, useApi } from '../api';
import { ErrorBox, JsonBlock, Loading, PageTitle, Time } from '../components/common';
import { Link } from '../components/Link';
import { useI18n } from '../i18n';
import { consolePath, navigate } from '../router';
import type { AuditEntry, Page } from '../types';

const ACTIONS = ['replay', 'import', 'purge'];

export function Audit(props: { query: URLSearchParams }) {
  const i18n = useI18n();
  const { t } = i18n;
  const action = ACTIONS.includes(props.query.get('action') ?? '') ? props.query.get('action')! : '';
  const cursor = props.query.get('cursor') ?? '';
  const res = useApi<Page<AuditEntry>>(apiPath('/v1/audit', { action, cursor, limit: 50 }));
  const [sel, setSel] = useStateFor(() => action, action);
  const items = res.data?.items ?? [];
  return (
    <div>
      <PageTitle>{t('audit.title')}</PageTitle>
      <p class="muted">{t('audit.explain')}</p>
      <form
        class="filters"
        aria-label={t('audit.filter')}
        onSubmit={(e) => {
          e.preventDefault();
          navigate(consolePath(['audit'], { action: sel }));
        }}
      >
        <div class="field">
          <label for="a-action">{t('audit.action')}</label>
          <select id="a-action" value={sel} onChange={(e) => setSel((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">{t('common.any')}</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {i18n.code('auditAction', a)}
              </option>
            ))}
          </select>
        </div>
        <div class="field buttons">
          <button type="submit">{t('common.apply')}</button>
        </div>
      </form>
      <Loading when={res.loading} />
      <ErrorBox error={res.error} />
      {res.data ? (
        <section aria-labelledby="audit-h">
          <h2 id="audit-h">{t('audit.list', { n: items.length })}</h2>
          {items.length === 0 ? (
            <p>{t('audit.none')}</p>
          ) : (
            <div class="scroll">
              <table class="audit">
                <caption class="sr-only">{t('audit.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('audit.at')}</th>
                    <th scope="col">{t('audit.actor')}</th>
                    <th scope="col">{t('audit.action')}</th>
                    <th scope="col">{t('audit.parameters')}</th>
                    <th scope="col">{t('audit.result')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((a) => (
                    <tr key={a.id}>
                      <td>
                        <Time iso={a.at} />
                      </td>
                      <td class="wrap">{a.actor}</td>
                      <td>{i18n.code('auditAction', a.action)}</td>
                      <td>
                        <JsonBlock value={a.parameters} label={t('audit.parametersOf', { id: a.id })} />
                      </td>
                      <td>
                        <JsonBlock value={a.result} label={t('audit.resultOf', { id: a.id })} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label={t('common.pages')}>
            {cursor ? <Link href={consolePath(['audit'], { action })}>{t('common.firstPage')}</Link> : null}
            {res.data.next_cursor ? <Link href={consolePath(['audit'], { action, cursor: res.data.next_cursor })}>{t('common.nextPage')}</Link> : null}
          </nav>
        </section>
      ) : null}
    </div>
  );
}

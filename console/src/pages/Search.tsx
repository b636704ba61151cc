import { useStateFor } from '../state';
import { apiPath, useApi } from '../api';
import { ErrorBox, Loading, PageTitle, StatusBadge, Time } from '../components/common';
import { Link } from '../components/Link';
import { useI18n } from '../i18n';
import { consolePath, messagePath, navigate } from '../router';
import type { SearchItem } from '../types';

export function SearchPage(props: { q: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const [text, setText] = useStateFor(() => props.q, props.q);
  const q = props.q.trim();
  const res = useApi<{ items: SearchItem[] }>(q ? apiPath('/v1/search', { q }) : null);
  const items = res.data?.items ?? [];
  return (
    <div>
      <PageTitle>{t('search.title')}</PageTitle>
        <form
          class="searchform"
          role="search"
          aria-label={t('search.landmark')}
          onSubmit={(e) => {
            e.preventDefault();
            navigate(consolePath(['search'], { q: text.trim() }));
          }}
        >
          <label for="q">{t('search.label')}</label>
          <input id="q" type="search" name="q" value={text} aria-describedby="q-hint" autocomplete="off" spellcheck={false} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} />
          <button type="submit">{t('search.submit')}</button>
          <p id="q-hint" class="muted hint">
            {t('search.hint')}
          </p>
        </form>
      <Loading when={res.loading} />
      <ErrorBox error={res.error} />
      {q && res.data ? (
        <section aria-labelledby="results-h">
          <h2 id="results-h">{t('search.results', { n: items.length, q })}</h2>
          {items.length === 0 ? (
            <p>{t('search.none')}</p>
          ) : (
            <div class="scroll">
              <table class="results">
                <caption class="sr-only">{t('search.results', { n: items.length, q })}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('common.status')}</th>
                    <th scope="col">{t('common.provider')}</th>
                    <th scope="col">{t('common.account')}</th>
                    <th scope="col">{t('common.messageId')}</th>
                    <th scope="col">{t('common.recipient')}</th>
                    <th scope="col">{t('common.reference')}</th>
                    <th scope="col">{t('search.lastChange')}</th>
                    <th scope="col">{t('search.matched')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((m, i) => (
                    <tr key={i}>
                      <td>
                        <StatusBadge status={m.status} />
                      </td>
                      <td>{m.provider}</td>
                      <td>{m.account}</td>
                      <td class="wrap mono">
                        <Link href={messagePath(m)}>{m.message_id}</Link>
                      </td>
                      <td class="wrap mono">{m.recipient}</td>
                      <td class="wrap">{m.reference ?? ''}</td>
                      <td>
                        <Time iso={m.updated_at} />
                      </td>
                      <td>{i18n.code('matched', m.matched)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ) : null}
    </div>
  );
}

import { useStateFor } from '../state';
import { apiPath, useApi } from '../api';
import { ErrorBox, Loading, PageTitle, Time, VerdictBadge } from '../components/common';
import { Link } from '../components/Link';
import { ReplayBulk, type RawFilterValues } from '../components/Replay';
import { isoToLocal, localToIso } from '../format';
import { useI18n } from '../i18n';
import { consolePath, navigate } from '../router';
import { useSession } from '../session';
import type { Page, RawItem } from '../types';

export const VERDICTS = ['accepted', 'duplicate', 'signature_invalid', 'payload_invalid', 'too_large', 'unknown_provider', 'overloaded'];

const FIELDS = ['provider', 'account', 'verdict', 'since', 'until', 'q'] as const;

export function RawList(props: { query: URLSearchParams }) {
  const i18n = useI18n();
  const { t } = i18n;
  const session = useSession();
  const filter: RawFilterValues = {};
  for (const f of FIELDS) filter[f] = props.query.get(f) ?? '';
  const cursor = props.query.get('cursor') ?? '';
  const [form, setForm] = useStateFor(() => ({ ...filter, since: isoToLocal(filter.since ?? null), until: isoToLocal(filter.until ?? null) }), props.query.toString());
  const res = useApi<Page<RawItem>>(apiPath('/v1/raw', { ...filter, cursor, limit: 50 }));
  const set = (k: keyof RawFilterValues) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const items = res.data?.items ?? [];
  return (
    <div>
      <PageTitle>{t('raw.title')}</PageTitle>
      <form
        class="filters"
        aria-label={t('raw.filters')}
        onSubmit={(e) => {
          e.preventDefault();
          navigate(consolePath(['raw'], { ...form, since: localToIso(form.since ?? ''), until: localToIso(form.until ?? '') }));
        }}
      >
        <div class="field">
          <label for="f-provider">{t('common.provider')}</label>
          <input id="f-provider" value={form.provider} onInput={set('provider')} autocomplete="off" />
        </div>
        <div class="field">
          <label for="f-account">{t('common.account')}</label>
          <input id="f-account" value={form.account} onInput={set('account')} autocomplete="off" />
        </div>
        <div class="field">
          <label for="f-verdict">{t('raw.verdict')}</label>
          <select id="f-verdict" value={form.verdict} onChange={set('verdict')}>
            <option value="">{t('common.any')}</option>
            {VERDICTS.map((v) => (
              <option key={v} value={v}>
                {i18n.code('verdict', v)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-since">{t('common.since')}</label>
          <input id="f-since" type="datetime-local" value={form.since} onInput={set('since')} />
        </div>
        <div class="field">
          <label for="f-until">{t('common.until')}</label>
          <input id="f-until" type="datetime-local" value={form.until} onInput={set('until')} />
        </div>
        <div class="field">
          <label for="f-q">{t('raw.q')}</label>
          <input id="f-q" value={form.q} onInput={set('q')} autocomplete="off" spellcheck={false} />
        </div>
        <div class="field buttons">
          <button type="submit">{t('common.apply')}</button>
          <Link href={consolePath(['raw'])} class="button-link">
            {t('common.clear')}
          </Link>
        </div>
      </form>
      <Loading when={res.loading} />
      <ErrorBox error={res.error} />
      {res.data ? (
        <section aria-labelledby="rawlist-h">
          <h2 id="rawlist-h">{cursor ? t('raw.listMore', { n: items.length }) : t('raw.list', { n: items.length })}</h2>
          {items.length === 0 ? (
            <p>{t('raw.none')}</p>
          ) : (
            <div class="scroll">
              <table>
                <caption class="sr-only">{t('raw.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('raw.received')}</th>
                    <th scope="col">{t('common.provider')}</th>
                    <th scope="col">{t('common.account')}</th>
                    <th scope="col">{t('raw.verdict')}</th>
                    <th scope="col">{t('raw.detail')}</th>
                    <th scope="col">{t('raw.size')}</th>
                    <th scope="col">{t('raw.id')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <Time iso={r.received_at} />
                      </td>
                      <td>{r.provider}</td>
                      <td>{r.account}</td>
                      <td>
                        <VerdictBadge verdict={r.verdict} />
                      </td>
                      <td class="wrap clip">{r.detail ?? ''}</td>
                      <td>{r.body_size === null ? '' : i18n.num(r.body_size)}</td>
                      <td class="mono">
                        <Link href={consolePath(['raw', r.id])}>{r.id}</Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label={t('common.pages')}>
            {cursor ? <Link href={consolePath(['raw'], { ...filter })}>{t('common.firstPage')}</Link> : null}
            {res.data.next_cursor ? <Link href={consolePath(['raw'], { ...filter, cursor: res.data.next_cursor })}>{t('common.nextPage')}</Link> : null}
          </nav>
        </section>
      ) : null}
      {session.can('replay') ? <ReplayBulk filter={filter} /> : null}
    </div>
  );
}

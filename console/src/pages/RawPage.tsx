import { useApi } from '../api';
import { ErrorBox, Loading, PageTitle } from '../components/common';
import { RawRequestView } from '../components/RawView';
import { ReplayOne } from '../components/Replay';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import type { RawRequest } from '../types';

export function RawPage(props: { id: string }) {
  const { t } = useI18n();
  const session = useSession();
  const res = useApi<RawRequest>(`/v1/raw/${encodeURIComponent(props.id)}`);
  return (
    <div>
      <PageTitle>
        {t('raw.one')} <span class="mono wrap">{props.id}</span>
      </PageTitle>
      <Loading when={res.loading && !res.data} />
      <ErrorBox error={res.error} />
      {res.data ? (
        <>
          {session.can('replay') ? <ReplayOne id={res.data.id} onApplied={res.reload} /> : null}
          <section aria-labelledby="rawreq-h">
            <h2 id="rawreq-h">{t('raw.request')}</h2>
            <RawRequestView raw={res.data} />
          </section>
        </>
      ) : null}
    </div>
  );
}

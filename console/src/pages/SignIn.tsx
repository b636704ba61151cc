import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { errorText, PageTitle } from '../components/common';
import { useI18n } from '../i18n';
import { useSession } from '../session';

export function SignIn() {
  const i18n = useI18n();
  const { t } = i18n;
  const session = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const notice = session.notice;
  return (
    <div class="signin">
      <PageTitle>{t('signin.title')}</PageTitle>
      {notice?.kind === 'expired' ? (
        <p class="error" role="alert">
          {t('signin.expired')} {notice.detail ?? ''}
        </p>
      ) : null}
      {notice?.kind === 'signedOut' ? <p role="status">{t('signin.signedOut')}</p> : null}
      <p class="muted">{t('signin.explain')}</p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (!token.trim()) return;
          setBusy(true);
          setError(null);
          try {
            await session.signIn(token.trim());
          } catch (err) {
            setError(err);
            setBusy(false);
          }
        }}
      >
        <label for="token">{t('signin.token')}</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
          aria-describedby={error ? 'signin-error' : undefined}
        />
        <button type="submit" disabled={busy}>
          {t('signin.submit')}
        </button>
      </form>
      {error ? (
        <p id="signin-error" class="error" role="alert">
          {error instanceof ApiError && error.status === 401 ? `${t('signin.refused')} ${error.detail ?? ''}` : errorText(error, i18n)}
        </p>
      ) : null}
    </div>
  );
}

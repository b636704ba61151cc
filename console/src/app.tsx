import { useEffect } from 'preact/hooks';
import { Link } from './components/Link';
import { PageTitle } from './components/common';
import { useI18n, type Key, type Lang } from './i18n';
import { applyHeadingFocus, consolePath, headingFocusTicket, navigate, useLocation, type Loc } from './router';
import { useSession } from './session';
import { Audit } from './pages/Audit';
import { Health } from './pages/Health';
import { MessagePage } from './pages/Message';
import { RawList } from './pages/RawList';
import { RawPage } from './pages/RawPage';
import { SearchPage } from './pages/Search';
import { SignIn } from './pages/SignIn';
import { SubscriptionPage, Subscriptions } from './pages/Subscriptions';

type Section = 'search' | 'raw' | 'health' | 'subscriptions' | 'audit';

const NAV: { section: Section; key: Key; admin?: boolean }[] = [
  { section: 'search', key: 'nav.search' },
  { section: 'raw', key: 'nav.raw' },
  { section: 'health', key: 'nav.health' },
  { section: 'subscriptions', key: 'nav.subscriptions', admin: true },
  { section: 'audit', key: 'nav.audit' },
];

function sectionOf(loc: Loc): Section | null {
  const first = loc.segments[0] ?? '';
  if (first === '' || first === 'search' || first === 'messages') return 'search';
  if (first === 'raw' || first === 'health' || first === 'subscriptions' || first === 'audit') return first;
  return null;
}

function NotFound() {
  const { t } = useI18n();
  return (
    <div>
      <PageTitle>{t('notFound.title')}</PageTitle>
      <p>
        <Link href={consolePath([])}>{t('notFound.back')}</Link>
      </p>
    </div>
  );
}

function Forbidden() {
  const { t } = useI18n();
  return (
    <div>
      <PageTitle>{t('forbidden.title')}</PageTitle>
      <p>{t('forbidden.explain')}</p>
    </div>
  );
}

function Page(props: { loc: Loc }) {
  const { segments: s, query } = props.loc;
  const session = useSession();
  const first = s[0] ?? '';
  if (s.length === 0 || (first === 'search' && s.length === 1)) return <SearchPage q={query.get('q') ?? ''} />;
  if (first === 'messages' && s.length === 3)
    return <MessagePage provider={s[1]!} messageId={s[2]!} recipient={query.get('recipient')} account={query.get('account')} />;
  if (first === 'raw' && s.length === 1) return <RawList query={query} />;
  if (first === 'raw' && s.length === 2) return <RawPage id={s[1]!} />;
  if (first === 'health' && s.length === 1) return <Health query={query} />;
  if (first === 'subscriptions' && s.length <= 2) {
    if (!session.can('admin')) return <Forbidden />;
    return s.length === 1 ? <Subscriptions /> : <SubscriptionPage id={s[1]!} query={query} />;
  }
  if (first === 'audit' && s.length === 1) return <Audit query={query} />;
  return <NotFound />;
}

function LanguageSelect() {
  const { t, lang, setLang } = useI18n();
  return (
    <select class="lang" aria-label={t('lang.label')} value={lang} onChange={(e) => setLang((e.currentTarget as HTMLSelectElement).value as Lang)}>
      <option value="en" lang="en">
        {t('lang.en')}
      </option>
      <option value="zh-CN" lang="zh-CN">
        {t('lang.zh')}
      </option>
    </select>
  );
}

export function App() {
  const i18n = useI18n();
  const { t } = i18n;
  const session = useSession();
  const loc = useLocation();
  const section = sectionOf(loc);
  const signedIn = session.who !== null;

  // a new page (navigation, sign-in, sign-out): its heading takes the focus, so a screen reader hears it
  const focusTicket = headingFocusTicket();
  useEffect(() => applyHeadingFocus(focusTicket));

  useEffect(() => {
    const h = document.getElementById('page-title')?.textContent;
    document.title = h ? `${h} · ${t('app.name')}` : t('app.name');
  });

  // a bare /console (no slash) or a page that needs a sign-in: the address stays, the page asks for the token
  useEffect(() => {
    if (window.location.pathname === '/console') navigate('/console/', { replace: true });
  }, []);

  return (
    <>
      <a class="skip" href="#main">
        {t('app.skip')}
      </a>
      <header class="top">
        <span class="brand">{t('app.name')}</span>
        {signedIn ? (
          <nav aria-label={t('nav.label')}>
            <ul>
              {NAV.filter((n) => !n.admin || session.can('admin')).map((n) => (
                <li key={n.section}>
                  <Link href={consolePath(n.section === 'search' ? [] : [n.section])} current={section === n.section}>
                    {t(n.key)}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        <div class="tools">
          {signedIn ? (
            <span class="who" title={session.who!.scopes.join(', ')}>
              {t('app.signedInAs', { name: session.who!.name })}
            </span>
          ) : null}
          <LanguageSelect />
          {signedIn ? (
            <button type="button" onClick={() => session.signOut()}>
              {t('app.signOut')}
            </button>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {session.checking ? <p role="status">{t('common.loading')}</p> : signedIn ? <Page loc={loc} /> : <SignIn />}
      </main>
    </>
  );
}

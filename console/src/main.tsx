import { render } from 'preact';
import { App } from './app';
import { I18nProvider } from './i18n';
import { SessionProvider } from './session';

render(
  <I18nProvider>
    <SessionProvider>
      <App />
    </SessionProvider>
  </I18nProvider>,
  document.getElementById('app')!,
);

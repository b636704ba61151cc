import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, NetworkError } from '../api';
import { useI18n, type I18n } from '../i18n';
import { jsonText } from '../format';

/** The text to show for a failed call: the API's own `detail` (it says what to do). */
export function errorText(error: unknown, i18n: I18n): string {
  if (error instanceof ApiError) {
    if (error.detail) return error.detail;
    if (error.code) return i18n.t('error.code', { code: error.code, status: error.status });
    return i18n.t('error.http', { status: error.status });
  }
  if (error instanceof NetworkError) return i18n.t('error.network');
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorBox(props: { error: unknown }) {
  const i18n = useI18n();
  if (!props.error) return null;
  return (
    <div class="error" role="alert">
      <strong>{i18n.t('error.title')}</strong> {errorText(props.error, i18n)}
    </div>
  );
}

export function Loading(props: { when: boolean }) {
  const { t } = useI18n();
  return props.when ? (
    <p class="loading" role="status">
      {t('common.loading')}
    </p>
  ) : null;
}

/** A time in the browser's zone; the UTC ISO value on hover. */
export function Time(props: { iso: string | null | undefined }) {
  const i18n = useI18n();
  if (!props.iso) return <span class="muted">{i18n.t('common.none')}</span>;
  return (
    <time dateTime={props.iso} title={props.iso}>
      {i18n.time(props.iso)}
    </time>
  );
}

const TERMINAL = new Set(['delivered', 'failed', 'expired', 'rejected']);

export function StatusBadge(props: { status: string | null | undefined; action?: string | null }) {
  const i18n = useI18n();
  if (!props.status && props.action) return <span class="badge badge-action">{i18n.code('action', props.action)}</span>;
  if (!props.status) return <span class="muted">{i18n.t('common.none')}</span>;
  const s = props.status;
  const cls = /^[a-z_]+$/.test(s) ? `badge st-${s}` : 'badge';
  return <span class={cls}>{i18n.code('status', props.status)}</span>;
}

export function isTerminal(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && TERMINAL.has(status);
}

export function VerdictBadge(props: { verdict: string | null | undefined }) {
  const i18n = useI18n();
  const v = props.verdict ?? '';
  const cls = /^[a-z_]+$/.test(v) ? `badge vd-${v}` : 'badge';
  return <span class={cls}>{i18n.code('verdict', v)}</span>;
}

/** Any API value as indented JSON text. */
export function JsonBlock(props: { value: unknown; label?: string }) {
  return (
    <pre class="code" tabIndex={0} aria-label={props.label}>
      {jsonText(props.value)}
    </pre>
  );
}

/** A flat object as a two-column table (values that are objects as JSON text). */
export function KeyValues(props: { value: Record<string, unknown> | null | undefined; caption: string }) {
  const { t } = useI18n();
  const entries = Object.entries(props.value ?? {});
  if (entries.length === 0) return <p class="muted">{t('common.nothing')}</p>;
  return (
    <table class="kv">
      <caption class="sr-only">{props.caption}</caption>
      <thead class="sr-only">
        <tr>
          <th scope="col">{t('common.name')}</th>
          <th scope="col">{t('common.value')}</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td class="wrap">{typeof v === 'string' ? v : jsonText(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A definition list of label → value rows. */
export function Facts(props: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {props.rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A button that copies `text` to the clipboard and says so. */
export function CopyButton(props: { text: string; label: string }) {
  const { t } = useI18n();
  const [done, setDone] = useState<'' | 'ok' | 'fail'>('');
  return (
    <span>
      <button
        type="button"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(props.text);
            setDone('ok');
          } catch {
            setDone('fail');
          }
        }}
      >
        {props.label}
      </button>
      <span role="status" class="inline-status">
        {done === 'ok' ? t('common.copied') : done === 'fail' ? t('common.copyFailed') : ''}
      </span>
    </span>
  );
}

export function PageTitle(props: { children: ComponentChildren }) {
  return (
    <h1 id="page-title" tabIndex={-1}>
      {props.children}
    </h1>
  );
}

/** A <details> whose content is rendered (and so fetched) only once it is open. */
export function Disclosure(props: { summary: ComponentChildren; open?: boolean; class?: string; children: () => ComponentChildren }) {
  const [open, setOpen] = useState(!!props.open);
  return (
    <details class={props.class} open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{props.summary}</summary>
      {open ? props.children() : null}
    </details>
  );
}

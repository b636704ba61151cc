/**
 * zh-CN and English. Every visible string comes from the two dictionaries (i18n/en.ts, i18n/zh.ts,
 * the same keys: the compiler checks). The language follows navigator.language (zh* → zh-CN, else
 * en) until the "Language" control picks one, which is kept in localStorage (the only thing there).
 */
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { en, type Key } from './i18n/en';
import { zh } from './i18n/zh';

export type Lang = 'en' | 'zh-CN';
export type { Key };

const DICTS: Record<Lang, Record<Key, string>> = { en, 'zh-CN': zh };
const LANG_KEY = 'dlr-console-lang';

export function initialLang(): Lang {
  try {
    const kept = window.localStorage.getItem(LANG_KEY);
    if (kept === 'en' || kept === 'zh-CN') return kept;
  } catch {
    /* storage disabled */
  }
  return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  /** The string for `key`, `{name}` placeholders filled from `params`. */
  t(key: Key, params?: Record<string, string | number>): string;
  /** A known code (status, verdict, reason…) translated, or the code itself when the dictionary has none. */
  code(prefix: 'status' | 'verdict' | 'reason' | 'state' | 'action' | 'channel' | 'matched' | 'trigger' | 'auditAction', value: string | null | undefined): string;
  /** An ISO time in the browser's zone. */
  time(iso: string): string;
  /** A bucket start for a chart axis (short). */
  shortTime(iso: string, interval: string): string;
  num(n: number): string;
  percent(rate: number | null): string;
  duration(seconds: number | null): string;
}

function fill(s: string, params?: Record<string, string | number>): string {
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

function makeI18n(lang: Lang, setLang: (l: Lang) => void): I18n {
  const dict = DICTS[lang];
  const timeFmt = new Intl.DateTimeFormat(lang, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
  const hm = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hour12: false });
  const md = new Intl.DateTimeFormat(lang, { month: '2-digit', day: '2-digit' });
  const mdh = new Intl.DateTimeFormat(lang, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  const numFmt = new Intl.NumberFormat(lang);
  const pctFmt = new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 });
  const t = (key: Key, params?: Record<string, string | number>) => fill(dict[key] ?? en[key] ?? key, params);
  return {
    lang,
    setLang,
    t,
    code(prefix, value) {
      if (value === null || value === undefined || value === '') return t('common.none');
      const key = `${prefix}.${value}` as Key;
      return key in dict ? dict[key] : value;
    },
    time(iso) {
      const d = new Date(iso);
      return Number.isNaN(d.getTime()) ? iso : timeFmt.format(d);
    },
    shortTime(iso, interval) {
      const d = new Date(iso);
      if (Number.isNaN(d.getTime())) return iso;
      return interval === '1d' ? md.format(d) : interval === '1m' ? hm.format(d) : mdh.format(d);
    },
    num: (n) => numFmt.format(n),
    percent: (rate) => (rate === null || rate === undefined ? t('common.none') : pctFmt.format(rate)),
    duration(seconds) {
      if (seconds === null || seconds === undefined) return t('common.none');
      const s = Math.round(seconds);
      if (s < 60) return t('duration.s', { n: s });
      if (s < 3600) return t('duration.m', { m: Math.floor(s / 60), s: s % 60 });
      if (s < 86400) return t('duration.h', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
      return t('duration.d', { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) });
    },
  };
}

const Ctx = createContext<I18n>(makeI18n('en', () => {}));

export function I18nProvider(props: { children: ComponentChildren }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const value = useMemo(
    () =>
      makeI18n(lang, (l) => {
        try {
          window.localStorage.setItem(LANG_KEY, l);
        } catch {
          /* storage disabled */
        }
        setLangState(l);
      }),
    [lang],
  );
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  return <Ctx.Provider value={value}>{props.children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  return useContext(Ctx);
}

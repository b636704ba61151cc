/**
 * A tiny history-API router for the console under /console/. Paths are built from segments with
 * encodeURIComponent (provider-supplied ids never reach an href any other way) and parsed back by
 * splitting on "/" and decoding each segment.
 */
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/console';

export interface Loc {
  /** Decoded path segments after /console/ ([] for the search page). */
  segments: string[];
  query: URLSearchParams;
  /** pathname + search, as in the address bar. */
  href: string;
}

type QueryValue = string | number | null | undefined;

/** `/console/<seg>/<seg>?k=v`, every segment and value percent-encoded; empty values left out. */
export function consolePath(segments: string[], query: Record<string, QueryValue> = {}): string {
  const path = `${BASE}/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

export function messagePath(m: { provider: string; message_id: string; recipient?: string | null; account?: string | null }): string {
  return consolePath(['messages', m.provider, m.message_id], { recipient: m.recipient, account: m.account });
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function currentLoc(): Loc {
  const { pathname, search } = window.location;
  let rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  rest = rest.replace(/^\/+/, '').replace(/\/+$/, '');
  return {
    segments: rest === '' ? [] : rest.split('/').map(decode),
    query: new URLSearchParams(search),
    href: pathname + search,
  };
}

const listeners = new Set<() => void>();

/**
 * Heading focus is asked for by number: each request (a navigation, a sign-in or sign-out) takes the
 * next number, and only an effect of a render made after it may move the focus. Preact runs a
 * component's still-pending effects from its previous render at the start of its next one, on the
 * old DOM: a plain flag let such an effect focus the old page's heading, which the new render then
 * removed, leaving the focus on <body> (seen in CI under load).
 */
let focusWanted = 0;
let focusDone = 0;

/** The next page's heading takes the focus (after a navigation or a sign-in/out, not on the first load). */
export function requestHeadingFocus(): void {
  focusWanted++;
}

/** Read during a render: the request that render answers. */
export function headingFocusTicket(): number {
  return focusWanted;
}

/** In an effect of the render that read `ticket`: focus the page's heading if that render is the latest request's. */
export function applyHeadingFocus(ticket: number): void {
  if (ticket !== focusWanted || focusDone === focusWanted) return;
  const h = document.getElementById('page-title');
  if (!h) return;
  focusDone = focusWanted;
  h.focus();
}

export function navigate(href: string, opts: { replace?: boolean } = {}): void {
  if (!href.startsWith(`${BASE}/`) && href !== BASE) href = `${BASE}/`;
  if (!opts.replace) requestHeadingFocus();
  if (opts.replace) window.history.replaceState(null, '', href);
  else if (href !== window.location.pathname + window.location.search) window.history.pushState(null, '', href);
  for (const l of listeners) l();
}

window.addEventListener('popstate', () => {
  requestHeadingFocus();
  for (const l of listeners) l();
});

export function useLocation(): Loc {
  const [loc, setLoc] = useState(currentLoc);
  useEffect(() => {
    const update = () => setLoc(currentLoc());
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return loc;
}

/** A plain left click on a console link navigates in place; any modifier lets the browser do its thing. */
export function onLinkClick(e: MouseEvent): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.currentTarget as HTMLAnchorElement;
  if (a.target && a.target !== '_self') return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith(`${BASE}/`)) return;
  e.preventDefault();
  navigate(href);
}

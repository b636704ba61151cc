/**
 * Every call to the service's API: `Authorization: Bearer <token>` from sessionStorage (never
 * localStorage, never a cookie, never a URL). A 401 anywhere signs out with the API's detail; every
 * other refusal is thrown as an ApiError carrying the API's `detail` for the page to show.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

const TOKEN_KEY = 'dlr-console-token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    readonly detail: string | null,
    readonly body: unknown,
  ) {
    super(detail ?? code ?? `HTTP ${status}`);
  }
}

/** Thrown when the request never got an answer (server down, network). */
export class NetworkError extends Error {}

export function storedToken(): string | null {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token === null) window.sessionStorage.removeItem(TOKEN_KEY);
    else window.sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    /* storage disabled: the token lives for this page only */
  }
  memoryToken = token;
}

let memoryToken: string | null = storedToken();
let unauthorized: (detail: string | null) => void = () => {};

/** Called with the API's detail when any call (but the sign-in probe) is answered 401. */
export function onUnauthorized(handler: (detail: string | null) => void): void {
  unauthorized = handler;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** The sign-in probe passes the token it tries; its 401 does not sign anyone out. */
  token?: string;
}

async function send(path: string, opts: CallOptions): Promise<Response> {
  const token = opts.token ?? memoryToken;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new NetworkError((err as Error).message);
  }
}

async function refusal(res: Response, opts: CallOptions): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const b = (body ?? {}) as { error?: unknown; detail?: unknown };
  const err = new ApiError(res.status, typeof b.error === 'string' ? b.error : null, typeof b.detail === 'string' ? b.detail : null, body);
  if (res.status === 401 && opts.token === undefined) unauthorized(err.detail);
  return err;
}

export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const res = await send(path, opts);
  if (!res.ok) throw await refusal(res, opts);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** GET that answers the bytes (the raw body download). */
export async function apiBlob(path: string): Promise<Blob> {
  const res = await send(path, {});
  if (!res.ok) throw await refusal(res, {});
  return res.blob();
}

/** `/v1/...?k=v` with the empty values left out. */
export function apiPath(path: string, query: Record<string, string | number | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (null: nothing) whenever it changes; the previous request is aborted. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: path !== null });
  const [nonce, setNonce] = useState(0);
  const current = useRef<AbortController | null>(null);
  const lastPath = useRef<string | null>(null);
  useEffect(() => {
    const samePath = lastPath.current === path;
    lastPath.current = path;
    current.current?.abort();
    if (path === null) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    const ctl = new AbortController();
    current.current = ctl;
    setState((s) => ({ data: samePath ? s.data : null, error: null, loading: true }));
    api<T>(path, { signal: ctl.signal }).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted) setState({ data: null, error, loading: false });
      },
    );
    return () => ctl.abort();
  }, [path, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}

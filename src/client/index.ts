import type { components, paths } from './openapi-types';

/**
 * A small typed client of dlr-receiver's HTTP API (`require('dlr-receiver/client')`, issue #18).
 * Every path, parameter, body and answer is typed from the OpenAPI document (openapi/openapi.json,
 * through the generated src/client/openapi-types.ts), so a change of the API that breaks a caller
 * breaks its build. It imports nothing but those types and uses the global `fetch` (Node 18+).
 *
 *   const dlr = createClient({ baseUrl: 'http://127.0.0.1:8080', token: process.env.DLR_TOKEN });
 *   const { message, history } = await dlr.get('/v1/messages/{provider}/{message_id}', { path: { provider: 'aliyun', message_id: id } });
 *
 * A non-2xx answer throws a `DlrApiError` with its status, `error` code and `detail`.
 */
export type { components, paths } from './openapi-types';
export type Schemas = components['schemas'];

type Method = 'get' | 'post' | 'patch' | 'delete';
/** The paths that have operation `M`. */
export type PathsWith<M extends Method> = { [P in keyof paths]: paths[P][M] extends { responses: unknown } ? P : never }[keyof paths];
type Operation<P extends keyof paths, M extends Method> = paths[P][M] & { parameters: unknown; responses: unknown };
type Parameters<O> = O extends { parameters: infer X } ? X : never;
type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : R extends { content?: never } ? undefined : unknown;
type Success<O> = O extends { responses: infer R } ? { [S in keyof R]: S extends 200 | 201 | 202 | 204 ? JsonOf<R[S]> : never }[keyof R] : never;
type Body<O> = O extends { requestBody?: never }
  ? never
  : O extends { requestBody: { content: { 'application/json': infer B } } }
    ? B
    : O extends { requestBody?: { content: { 'application/json': infer B } } }
      ? B | undefined
      : never;

/** What one call takes: `path` and `query` parameters, and a JSON `body` where the operation has one. */
export type Options<P extends keyof paths, M extends Method> = (Parameters<Operation<P, M>> extends { path: infer X } ? { path: X } : { path?: undefined }) & {
  query?: Parameters<Operation<P, M>> extends { query?: infer Q } ? Q : undefined;
} & ([Body<Operation<P, M>>] extends [never] ? { body?: undefined } : { body?: Body<Operation<P, M>> });

/** The JSON answer of a successful call. */
export type Answer<P extends keyof paths, M extends Method> = Success<Operation<P, M>>;

export interface ClientOptions {
  /** e.g. `http://127.0.0.1:8080` */
  baseUrl: string;
  /** an API token (`Authorization: Bearer …`); routes without a token need none */
  token?: string;
  /** another fetch (tests, proxies); the global one by default */
  fetch?: typeof fetch;
  /** headers sent with every request */
  headers?: Record<string, string>;
}

/** A non-2xx answer: its status, the API's `error` code and `detail`, and the whole body. */
export class DlrApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: unknown,
    readonly body: unknown,
  ) {
    super(`${status} ${code}${typeof detail === 'string' ? `: ${detail}` : ''}`);
    this.name = 'DlrApiError';
  }
}

/** `/v1/messages/{provider}/{message_id}` with its parameters filled in (each encoded as one segment). */
function fillPath(template: string, params: Record<string, string> | undefined): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new TypeError(`the path parameter "${name}" of ${template} is missing`);
    return encodeURIComponent(value);
  });
}

function queryString(query: object | undefined): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) q.append(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;

  async function call(method: Method, path: string, opts: unknown): Promise<unknown> {
    const o = (opts ?? {}) as { path?: Record<string, string>; query?: object; body?: unknown };
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await doFetch(`${base}${fillPath(path, o.path)}${queryString(o.query)}`, {
      method: method.toUpperCase(),
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    const text = await res.text();
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!res.ok) {
      const err = (body ?? {}) as { error?: unknown; detail?: unknown };
      throw new DlrApiError(res.status, typeof err.error === 'string' ? err.error : 'http_error', err.detail, body);
    }
    return body;
  }

  return {
    get: <P extends PathsWith<'get'>>(path: P, ...opts: OptionalIfEmpty<Options<P, 'get'>>) => call('get', path, opts[0]) as Promise<Answer<P, 'get'>>,
    post: <P extends PathsWith<'post'>>(path: P, ...opts: OptionalIfEmpty<Options<P, 'post'>>) => call('post', path, opts[0]) as Promise<Answer<P, 'post'>>,
    patch: <P extends PathsWith<'patch'>>(path: P, ...opts: OptionalIfEmpty<Options<P, 'patch'>>) =>
      call('patch', path, opts[0]) as Promise<Answer<P, 'patch'>>,
    delete: <P extends PathsWith<'delete'>>(path: P, ...opts: OptionalIfEmpty<Options<P, 'delete'>>) =>
      call('delete', path, opts[0]) as Promise<Answer<P, 'delete'>>,
  };
}

/** Options may be left out where the operation has no path parameter. */
type OptionalIfEmpty<O> = O extends { path: infer X } ? ([X] extends [undefined] ? [opts?: O] : [opts: O]) : [opts?: O];

export type DlrClient = ReturnType<typeof createClient>;

import { createApp } from '../../src/http/app';
import { seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { openApi } from '../helpers/openapi';

/**
 * The router and the OpenAPI document describe the same routes (issue #18): every route express
 * serves is in the document, and every operation the document lists is served. The routes are read
 * from the app's own router (express 5 keeps each layer's `rawPath`), not from a list kept by hand.
 */

interface Layer {
  rawPath?: string | string[];
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** An express 5 path (path-to-regexp 8) as OpenAPI templates: `:name` and `*name` become `{name}`, an optional `{…}` group gives a path with it and one without. */
export function templates(expressPath: string): { path: string; emptyWildcard: boolean }[] {
  const group = /\{([^{}]*)\}/.exec(expressPath);
  if (!group) return [{ path: expressPath.replace(/[:*](\w+)/g, '{$1}'), emptyWildcard: false }];
  const before = expressPath.slice(0, group.index);
  const after = expressPath.slice(group.index + group[0].length);
  const without = templates(before + after).map((t) => ({ ...t, emptyWildcard: t.emptyWildcard || group[1].startsWith('*') }));
  return [...without, ...templates(before + group[1] + after)];
}

/** Every `METHOD path` the app routes, with whether it is a wildcard's empty form (`/console/assets/`). */
function routesOf(stack: Layer[], prefix = ''): { key: string; emptyWildcard: boolean }[] {
  const out: { key: string; emptyWildcard: boolean }[] = [];
  for (const layer of stack) {
    if (layer.route) {
      const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
      for (const p of [layer.route.path].flat())
        for (const t of templates(prefix + p)) for (const m of methods) out.push({ key: `${m.toUpperCase()} ${t.path}`, emptyWildcard: t.emptyWildcard });
    } else if (layer.handle?.stack) {
      for (const mount of [layer.rawPath ?? '/'].flat()) out.push(...routesOf(layer.handle.stack, prefix + (mount === '/' ? '' : mount)));
    }
  }
  return out;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

describe('the OpenAPI document and the router', () => {
  let app: TestApp;
  let served: { key: string; emptyWildcard: boolean }[];
  beforeAll(async () => {
    app = await startTestApp(seedConfig());
    served = routesOf((createApp(app.running.ctx) as unknown as { router: { stack: Layer[] } }).router.stack);
  });
  afterAll(() => app.close());

  const documented = () =>
    Object.entries(openApi().doc.paths).flatMap(([p, item]) =>
      Object.keys(item)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${p}`),
    );

  it('finds the routes it knows are there (the introspection works)', () => {
    const keys = served.map((r) => r.key);
    expect(keys).toEqual(
      expect.arrayContaining(['GET /healthz', 'POST /v1/callbacks/{provider}/{account}', 'GET /v1/messages/{provider}/{message_id}', 'GET /console/']),
    );
    expect(keys.length).toBeGreaterThan(30);
  });

  it('documents every route the server serves', () => {
    const doc = new Set(documented());
    const undocumented = served.filter((r) => !r.emptyWildcard && !doc.has(r.key)).map((r) => r.key);
    expect(undocumented).toEqual([]);
  });

  it('serves every operation the document lists', () => {
    const keys = new Set(served.map((r) => r.key));
    expect(documented().filter((k) => !keys.has(k))).toEqual([]);
  });

  it('expands express paths into OpenAPI templates', () => {
    expect(templates('/v1/callbacks/:provider{/:account}').map((t) => t.path)).toEqual(['/v1/callbacks/{provider}', '/v1/callbacks/{provider}/{account}']);
    expect(templates('/console/{*path}')).toEqual([
      { path: '/console/', emptyWildcard: true },
      { path: '/console/{path}', emptyWildcard: false },
    ]);
  });
});

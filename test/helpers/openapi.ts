import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Answers checked against the OpenAPI document (openapi/openapi.json, issue #18): the status must
 * be one the operation documents and a JSON body must match its schema. `watchContract` does it for
 * every answer a test server sends (test/helpers/app.ts hooks it into startTestApp), so the
 * integration tests check the document as they run; `checkResponse` checks one supertest answer.
 */
export const DOCUMENT_FILE = path.join(__dirname, '..', '..', 'openapi', 'openapi.json');

type Json = Record<string, unknown>;
interface MediaType {
  schema?: Json;
}
interface ResponseObject {
  $ref?: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  responses: Record<string, ResponseObject>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, ResponseObject>; schemas: Record<string, Json> };
  webhooks: Record<string, { post: { requestBody: { content: Record<string, MediaType & { example?: unknown }> } } }>;
}

let loaded: { doc: OpenApiDocument; ajv: Ajv2020; routes: Route[] } | undefined;

interface Route {
  template: string;
  pattern: RegExp;
  /** literal characters: the most specific template wins (/console/assets/{path} over /console/{path}) */
  weight: number;
}

/** An OpenAPI path template as a pattern: `{path}` (the console's wildcard) spans segments, other parameters one. */
export function templatePattern(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part === '{path}' ? '.+' : part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`, 'i');
}

export function openApi() {
  if (!loaded) {
    const doc = JSON.parse(fs.readFileSync(DOCUMENT_FILE, 'utf8')) as OpenApiDocument;
    // strict off: the document's schemas carry OpenAPI's own words (example, …) beside JSON Schema's
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, 'openapi.json');
    const routes = Object.keys(doc.paths)
      .map((template) => ({ template, pattern: templatePattern(template), weight: template.replace(/\{[^}]+\}/g, '').length }))
      .sort((a, b) => b.weight - a.weight);
    loaded = { doc, ajv, routes };
  }
  return loaded;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const validators = new Map<string, ValidateFunction>();

function validatorAt(ptr: string): ValidateFunction {
  let v = validators.get(ptr);
  if (!v) {
    v = openApi().ajv.compile({ $ref: `openapi.json#/${ptr}` });
    validators.set(ptr, v);
  }
  return v;
}

/** The documented path a request path falls under, or undefined. */
export function documentedPath(urlPath: string): string | undefined {
  return openApi().routes.find((r) => r.pattern.test(urlPath))?.template;
}

/** The media type of `content` that a Content-Type matches (exact, then `type/*`, then any). */
function mediaFor(content: Record<string, MediaType>, contentType: string): string | undefined {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return (
    Object.keys(content).find((m) => m === type) ??
    Object.keys(content).find((m) => m === `${type.split('/')[0]}/*`) ??
    Object.keys(content).find((m) => m === '*/*')
  );
}

export interface Answer {
  method: string;
  /** the request's URL (its query is ignored) */
  url: string;
  status: number;
  contentType: string | undefined;
  /** the answer's bytes; undefined: not kept (too large), only the status is checked */
  body: Buffer | undefined;
}

/**
 * Why an answer does not match the document, or null when it does (or is not the document's:
 * a path it does not describe answered 404 or 405 — test/contract/routes.test.ts checks that no
 * route goes undescribed).
 */
export function contractViolation(answer: Answer): string | null {
  const { doc } = openApi();
  const urlPath = answer.url.split('?')[0];
  const what = `${answer.method} ${urlPath} → ${answer.status}`;
  const template = documentedPath(urlPath);
  const operation = template ? doc.paths[template][answer.method.toLowerCase()] : undefined;
  if (!template || !operation) return answer.status === 404 || answer.status === 405 ? null : `${what}: the document describes no such operation`;
  const key = [String(answer.status), `${String(answer.status)[0]}XX`, 'default'].find((k) => operation.responses[k]);
  if (!key) return `${what}: ${answer.method} ${template} documents no ${answer.status} (only ${Object.keys(operation.responses).join(', ')})`;
  let response = operation.responses[key];
  let base = pointer('paths', template, answer.method.toLowerCase(), 'responses', key);
  if (response.$ref) {
    const name = response.$ref.split('/').pop()!;
    response = doc.components.responses[name];
    base = pointer('components', 'responses', name);
  }
  const content = response.content;
  if (!content || answer.body === undefined || answer.body.length === 0 || answer.method === 'HEAD') return null;
  const media = answer.contentType ? mediaFor(content, answer.contentType) : undefined;
  if (!media) return `${what}: content type ${answer.contentType ?? '(none)'} is not one of ${Object.keys(content).join(', ')}`;
  if (!content[media].schema || !media.includes('json')) return null;
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return `${what}: the body is not JSON`;
  }
  const validate = validatorAt(`${base}/${pointer('content', media, 'schema')}`);
  if (validate(body)) return null;
  const errors = (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`);
  return `${what}: the body does not match ${template}'s ${key} schema: ${errors.join('; ')} — body: ${answer.body.toString('utf8').slice(0, 300)}`;
}

/** A supertest answer checked against the document: throws what does not match. */
export function checkResponse(res: { status: number; headers: Record<string, string>; text?: string; body?: unknown }): void {
  // (superagent keeps the node request it sent, which its types leave out)
  const { req } = res as unknown as { req?: { method: string; path: string } };
  if (!req) throw new Error('checkResponse takes a supertest answer');
  const text = res.text ?? (Buffer.isBuffer(res.body) ? res.body.toString('utf8') : JSON.stringify(res.body ?? ''));
  const violation = contractViolation({
    method: req.method,
    url: req.path,
    status: res.status,
    contentType: res.headers['content-type'],
    body: Buffer.from(text),
  });
  if (violation) throw new Error(violation);
}

/** Bodies past this are not kept: the status is still checked (raw body downloads, large pages). */
const MAX_KEPT_BYTES = 4 * 1024 * 1024;

/**
 * Records every answer the server sends and what in them the document does not allow. Listens
 * before the server's own request listener, keeping a copy of each answer's bytes as they are written.
 */
export function watchContract(server: Server): { violations: string[]; stop(): void } {
  const violations: string[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const chunks: Buffer[] = [];
    let kept = 0;
    let overflow = false;
    let declaredType: string | undefined;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || overflow) return;
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      kept += buf.length;
      if (kept > MAX_KEPT_BYTES) overflow = true;
      else chunks.push(Buffer.from(buf));
    };
    type Fn = (...args: unknown[]) => unknown;
    const original = { write: res.write.bind(res) as Fn, end: res.end.bind(res) as Fn, writeHead: res.writeHead.bind(res) as Fn };
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((a) => typeof a === 'object' && a !== null) as OutgoingHttpHeaders | string[] | undefined;
      if (Array.isArray(headers)) {
        for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === 'content-type') declaredType = String(headers[i + 1]);
      } else if (headers) {
        for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === 'content-type') declaredType = String(v);
      }
      return original.writeHead(...args);
    }) as ServerResponse['writeHead'];
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk, rest[0]);
      return original.write(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk, rest[0]);
      return original.end(chunk, ...rest);
    }) as ServerResponse['end'];
    res.once('finish', () => {
      const type = res.getHeader('content-type');
      const violation = contractViolation({
        method,
        url,
        status: res.statusCode,
        contentType: declaredType ?? (type === undefined ? undefined : String(type)),
        body: overflow ? undefined : Buffer.concat(chunks),
      });
      if (violation) violations.push(violation);
    });
  };
  server.prependListener('request', onRequest);
  return { violations, stop: () => server.off('request', onRequest) };
}

import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import type { AppContext } from '../../context';
import { ROOT } from '../../paths';
import { requireScope } from '../auth';
import { queryParams } from '../query-params';

/** The OpenAPI document, built from openapi/source.mjs by `npm run openapi:types` (docs/api.md). */
export const OPENAPI_FILE = path.join(ROOT, 'openapi', 'openapi.json');

const noQuery = queryParams('none');

type Json = Record<string, unknown>;

interface Document {
  components: { schemas: Record<string, Json> };
  webhooks: Record<
    string,
    { post: { summary: string; description?: string; requestBody: { content: { 'application/json': { schema: Json; example: Json } } } } }
  >;
}

/** A schema with every `#/components/schemas/…` reference replaced by its target: it stands alone (no cycles in these). */
function standalone(schema: unknown, schemas: Record<string, Json>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => standalone(s, schemas));
  if (schema === null || typeof schema !== 'object') return schema;
  const { $ref, ...rest } = schema as Json;
  const PREFIX = '#/components/schemas/';
  if (typeof $ref === 'string' && $ref.startsWith(PREFIX)) return standalone({ ...schemas[$ref.slice(PREFIX.length)], ...rest }, schemas);
  return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, standalone(v, schemas)]));
}

/** The event types of the document's `webhooks`, each with its JSON Schema (2020-12, standalone) and an example. */
export function eventTypes(doc: Document) {
  return {
    event_types: Object.entries(doc.webhooks).map(([name, { post }]) => {
      const media = post.requestBody.content['application/json'];
      return {
        name,
        description: post.summary,
        schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', ...(standalone(media.schema, doc.components.schemas) as Json) },
        example: media.example,
      };
    }),
  };
}

/**
 * The contract documents (issue #18): GET /v1/openapi.json (no token: a client reads it before it
 * has one) and GET /v1/event-types (scope `read`), read once from openapi/openapi.json (which a
 * container image needs beside schemas/: `COPY openapi ./openapi` in the Dockerfile).
 */
export function contractRouter(ctx: AppContext): Router {
  const router = Router();
  // read at the first request, not at start-up: an installation without openapi/ still serves everything else
  let loaded: { text: string; types: string } | undefined;
  const documents = () => {
    if (!loaded) {
      const text = fs.readFileSync(OPENAPI_FILE, 'utf8');
      loaded = { text, types: JSON.stringify(eventTypes(JSON.parse(text) as Document)) };
    }
    return loaded;
  };

  router.get('/openapi.json', (req, res) => {
    noQuery(req.query);
    res.type('json').send(documents().text);
  });

  router.get('/event-types', requireScope(ctx.config.tokens, 'read'), (req, res) => {
    noQuery(req.query);
    res.type('json').send(documents().types);
  });

  return router;
}

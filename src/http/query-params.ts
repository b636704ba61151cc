import fs from 'node:fs';
import path from 'node:path';
import { BadRequest } from '../errors';
import { SCHEMAS_DIR } from '../paths';
import { describeErrors, schemaValidator } from '../util/schemas';

/**
 * Query strings of the management API, checked like bodies are: each route has a JSON Schema in
 * schemas/query-params.schema.json (no other parameters, each at most once, enums for the
 * filters that take a fixed set of values). An unknown parameter is a 400 that names it instead of
 * being ignored — `?reference=` on GET /v1/messages would otherwise answer every message.
 * Callback routes take providers' own parameters and are not checked here.
 */
const FILE = 'query-params.schema.json';

export type QueryRoute = 'none' | 'message' | 'messages' | 'stats' | 'raw-list' | 'deliveries' | 'audit';

interface RouteSchema {
  properties: Record<string, { enum?: string[] }>;
}

let definitions: Record<string, RouteSchema> | undefined;
function routeSchema(route: QueryRoute): RouteSchema {
  definitions ??= (JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, FILE), 'utf8')) as { definitions: Record<string, RouteSchema> }).definitions;
  return definitions[route]!;
}

/** A name from the URL as a refusal repeats it: quoted, at most 64 characters. */
function quoted(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}

/** Why the query failed its schema, in the words of the route's parameters. */
function explain(route: QueryRoute, query: Record<string, unknown>): string {
  const { properties } = routeSchema(route);
  const names = Object.keys(properties);
  const unknown = Object.keys(query).find((k) => !Object.hasOwn(properties, k));
  if (unknown !== undefined) {
    return `unknown query parameter ${quoted(unknown)}; ${names.length > 0 ? `this route takes ${names.join(', ')}` : 'this route takes no query parameters'}`;
  }
  const repeated = names.find((k) => Array.isArray(query[k]));
  if (repeated !== undefined) return `query parameter "${repeated}" is given more than once; give it once`;
  const outside = names.find((k) => properties[k]!.enum && query[k] !== undefined && !properties[k]!.enum!.includes(query[k] as string));
  if (outside !== undefined) return `${outside} must be one of ${properties[outside]!.enum!.filter(Boolean).join(', ')}`;
  return `invalid query: ${describeErrors().join('; ')}`;
}

/**
 * A checker of one route's query: the query back, typed by its parameters (`K`, as the route's
 * schema lists them), or a 400 `bad_request` naming the parameter.
 */
export function queryParams<K extends string = never>(route: QueryRoute): (query: unknown) => Partial<Record<K, string>> {
  const validate = schemaValidator<Partial<Record<K, string>>>(`${FILE}#/definitions/${route}`);
  return (query) => {
    if (validate(query)) return query;
    throw new BadRequest(explain(route, query as Record<string, unknown>));
  };
}

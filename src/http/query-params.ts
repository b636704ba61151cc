import fs from 'node:fs';
import path from 'node:path';
import { decodeCursor, DEFAULT_PAGE, MAX_PAGE } from '../db/paging';
import { BadRequest, quoted } from '../errors';
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

export type QueryRoute = 'none' | 'message' | 'messages' | 'stats' | 'raw-list' | 'deliveries' | 'audit' | 'search' | 'timeseries' | 'daily';

interface RouteSchema {
  properties: Record<string, { enum?: string[] }>;
}

let definitions: Record<string, RouteSchema> | undefined;
function routeSchema(route: QueryRoute): RouteSchema {
  definitions ??= (JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, FILE), 'utf8')) as { definitions: Record<string, RouteSchema> }).definitions;
  return definitions[route];
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
  const outside = names.find((k) => properties[k].enum && query[k] !== undefined && !properties[k].enum.includes(query[k] as string));
  if (outside !== undefined) return `${outside} must be one of ${properties[outside].enum!.filter(Boolean).join(', ')}`;
  return `invalid query: ${describeErrors().join('; ')}`;
}

/** `?limit=`: DEFAULT_PAGE when absent or empty, else 1 to MAX_PAGE. */
export function pageLimit(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_PAGE;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw new BadRequest(`limit must be an integer from 1 to ${MAX_PAGE}`);
  return n;
}

/** An ISO-8601 time parameter, normalized to the stored form. */
export function timeParam(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new BadRequest(`${name} must be an ISO-8601 time, e.g. 2026-11-24T08:00:00Z`);
  return new Date(ms).toISOString();
}

/** A route's query as its handler takes it: `limit` a number (when the route pages), the rest strings or absent. */
export type Query<K extends string> = Partial<Record<Exclude<K, 'limit'>, string>> & ('limit' extends K ? { limit: number } : unknown);

/**
 * A checker of one route's query: a 400 `bad_request` naming the parameter, or the query typed by
 * its parameters (`K`, as the route's schema lists them) and made ready for the query modules in
 * one place: `since`/`until` normalized ISO times, `cursor` decoded, `limit` a number (DEFAULT_PAGE
 * when absent) on routes that page; an empty filter value is no filter (src/db/filters.ts).
 */
export function queryParams<K extends string = never>(route: QueryRoute): (query: unknown) => Query<K> {
  const validate = schemaValidator<Partial<Record<string, string>>>(`${FILE}#/definitions/${route}`);
  return (query) => {
    if (!validate(query)) throw new BadRequest(explain(route, query as Record<string, unknown>));
    const q: Record<string, string | number | undefined> = { ...query };
    if ('since' in q) q.since = timeParam('since', query.since);
    if ('until' in q) q.until = timeParam('until', query.until);
    if ('cursor' in q) q.cursor = decodeCursor(query.cursor);
    if (Object.hasOwn(routeSchema(route).properties, 'limit')) q.limit = pageLimit(query.limit);
    return q as Query<K>;
  };
}

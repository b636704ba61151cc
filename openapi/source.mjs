/**
 * The source of dlr-receiver's OpenAPI 3.1 document (issue #18). `npm run openapi:types` builds it into
 * openapi/openapi.json (served at GET /v1/openapi.json), inlining the JSON Schemas of schemas/ that
 * `$ref: '../schemas/…'` names here, and generates src/client/openapi-types.ts from it. Edit this
 * file, never the built ones: test/contract/ fails when they are stale, when a route of the server
 * is missing here (or one here is not served), and when an integration test receives an answer
 * this document does not allow.
 *
 * Written as a module, not YAML, so that the answers every route shares (errors, pages, scopes) are
 * helpers rather than copies, and the query parameters are read from schemas/query-params.schema.json
 * (the file the server checks queries against) instead of being restated.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const querySchemas = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'query-params.schema.json'), 'utf8')).definitions;

const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema) => ({ 'application/json': { schema } });
const nullable = (schema) => ({ oneOf: [schema, { type: 'null' }] });
const str = { type: 'string' };
const int = { type: 'integer' };
const counts = { type: 'object', additionalProperties: int };
const obj = (required, properties, extra = {}) => ({ type: 'object', required, properties, ...extra });

/** The query parameters of a route, from its definition in schemas/query-params.schema.json. */
function query(route) {
  const def = querySchemas[route];
  return Object.entries(def.properties).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query',
    required: (def.required ?? []).includes(name),
    ...(description ? { description } : {}),
    schema,
  }));
}

const pathParam = (name, description) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });

const error = (description) => ({ description, content: json(ref('Error')) });

/** What every management route may answer besides its own: a bad query, missing token or scope, rate limit, a bug. */
function apiErrors(scope) {
  return {
    400: { $ref: '#/components/responses/BadRequest' },
    ...(scope === null ? {} : { 401: { $ref: '#/components/responses/Unauthorized' } }),
    ...(scope ? { 403: { $ref: '#/components/responses/Forbidden' } } : {}),
    429: { $ref: '#/components/responses/TooManyRequests' },
    500: { $ref: '#/components/responses/Internal' },
    503: { $ref: '#/components/responses/Unavailable' },
  };
}

/** The POSTs that take an `Idempotency-Key` header (src/http/idempotency.ts): every admin POST, and replay. */
const IDEMPOTENT = new Set(['registerMessage', 'createSubscription', 'rotateSecret', 'testSubscription', 'retryDead', 'retryDelivery', 'replayRaw', 'replay']);

/**
 * One operation of the management API. `scope`: the bearer scope it needs ('' any valid token, null
 * none). `notFound`: what a 404 means. `body`: the request body's schema (JSON).
 */
function op({ id, tag, summary, description, scope, params = [], body, ok, okStatus = 200, notFound, conflict, extra = {} }) {
  const responses = { [okStatus]: ok, ...apiErrors(scope) };
  if (notFound) responses[404] = error(notFound);
  if (conflict) responses[409] = conflict;
  if (IDEMPOTENT.has(id)) {
    params = [...params, { $ref: '#/components/parameters/IdempotencyKey' }];
    responses[409] = { $ref: '#/components/responses/IdempotencyConflict' };
  }
  if (body) responses[413] = { $ref: '#/components/responses/PayloadTooLarge' };
  Object.assign(responses, extra);
  return {
    operationId: id,
    tags: [tag],
    summary,
    ...(description ? { description } : {}),
    security: scope === null ? [] : [{ bearer: scope ? [scope] : [] }],
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: { required: body.required ?? true, content: json(body.schema) } } : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

const answer = (description, schema) => ({ description, content: json(schema) });
const page = (item) => obj(['items', 'next_cursor'], { items: { type: 'array', items: ref(item) }, next_cursor: nullable(str) });

const errorInfo = nullable(obj(['code', 'message'], { code: str, message: nullable(str) }));

/** A callback's answer: the acknowledgement each provider expects (JSON, XML, text or empty; providers.md). */
const ack = {
  description:
    'accepted (also a duplicate): the acknowledgement the provider expects — e.g. Aliyun `{"code":0,"msg":"接收成功"}`, Tencent `{"result":0,"errmsg":"OK"}`; see GET /v1/providers (`ack`)',
  content: { '*/*': { schema: {} } },
};

/** A callback operation: POST, or GET for the providers whose reports come in a query string. */
const callbackOperation = (withAccount, method) => ({
  operationId: `${method}Callback${withAccount ? 'ForAccount' : ''}`,
  tags: ['callbacks'],
  summary:
    method === 'get'
      ? `A provider reports in a GET query string${withAccount ? ', for one of its accounts' : ' (account `default`)'}`
      : `A provider posts delivery reports${withAccount ? ' for one of its accounts' : ' (account `default`)'}`,
  description:
    method === 'get'
      ? 'Only for providers whose callbacks come as a GET with the report in the query string (any other answers 404 here); recorded, verified and answered as a POST is. No bearer token.'
      : "The provider's own format, verified on the raw bytes (signature, token, allowIps) before it is parsed; every request, accepted or not, is in the raw log with its verdict before the answer is sent. No bearer token. The query string is the provider's (e.g. `?token=`), not checked here.",
  security: [],
  parameters: [
    pathParam('provider', 'a built-in provider, a preset or a provider defined by configuration (GET /v1/providers)'),
    ...(withAccount ? [pathParam('account', 'the configured account')] : []),
  ],
  ...(method === 'post' ? { requestBody: { required: false, content: { '*/*': { schema: {} } } } } : {}),
  responses: {
    200: ack,
    201: ack,
    202: ack,
    204: { description: 'accepted, for a provider whose acknowledgement is an empty answer' },
    400: error("payload_invalid: the body is not this provider's format (`detail` says what and where)"),
    401: error('signature_invalid: token, allowIps, signature, timestamp or nonce refused (`detail` says why)'),
    404: error('unknown_provider: no such provider or account configured'),
    408: error('request_timeout: the body did not arrive within server.bodyTimeoutSeconds'),
    413: error('payload_too_large: the body is over server.bodyLimitBytes'),
    429: { $ref: '#/components/responses/TooManyRequests' },
    500: { $ref: '#/components/responses/Internal' },
    503: {
      description: 'unavailable (the database) or overloaded (the body budget, with Retry-After): the provider retries',
      headers: { 'Retry-After': { schema: int, description: 'seconds, when overloaded' } },
      content: json(ref('Error')),
    },
  },
});

/** HEAD: a provider that checks its URL before it posts (Mandrill); only where the definition lists HEAD. */
const callbackHead = (withAccount) => ({
  operationId: `headCallback${withAccount ? 'ForAccount' : ''}`,
  tags: ['callbacks'],
  summary: `A provider checks its callback URL${withAccount ? ', for one of its accounts' : ' (account `default`)'}`,
  description:
    'Only for providers whose definition lists HEAD in format.methods (any other answers 404); answered 200 with no body, nothing recorded. No bearer token.',
  security: [],
  parameters: [pathParam('provider', 'a provider whose definition takes HEAD'), ...(withAccount ? [pathParam('account', 'the configured account')] : [])],
  responses: {
    200: { description: 'the URL takes this provider’s callbacks' },
    404: { description: 'no such provider or account, or it takes no HEAD' },
  },
});

const callback = (withAccount) => ({
  get: callbackOperation(withAccount, 'get'),
  head: callbackHead(withAccount),
  post: callbackOperation(withAccount, 'post'),
});

const subscriptionId = pathParam('id', 'the subscription id (`sub_…`)');
const deliveryId = pathParam('id', 'the delivery id (`dlv_…`)');
const rawId = pathParam('id', 'the raw request id (`raw_…`)');

/** One event type's schema: schemas/status-event.schema.json (its if/then says what each type carries) with `type` fixed. */
const eventSchema = (type) => ({ allOf: [ref('StatusEvent'), { type: 'object', properties: { type: { const: type } } }] });

const STATUS_EXAMPLE = {
  id: 'evt_01JDQ2Z8M4V1KX3T5N7P9R2S4W',
  type: 'message.status',
  provider: 'aliyun',
  account: 'default',
  channel: 'sms',
  message_id: '1234^5678',
  recipient: '+8613800000000',
  status: 'delivered',
  previous_status: 'sent',
  terminal: true,
  version: 2,
  error: null,
  occurred_at: '2026-11-24T08:00:01Z',
  received_at: '2026-11-24T08:00:03.123Z',
  raw_id: 'raw_01JDQ2Z8M2A6B8C0D2E4F6G8H0',
  attributes: { out_id: 'order-42' },
};

/** An example of each event type (GET /v1/event-types answers them; test/contract/ checks each against its schema). */
export const EXAMPLES = {
  'message.status': STATUS_EXAMPLE,
  'message.engagement': {
    ...Object.fromEntries(Object.entries(STATUS_EXAMPLE).filter(([k]) => !['status', 'previous_status', 'terminal'].includes(k))),
    type: 'message.engagement',
    provider: 'sendgrid',
    channel: 'email',
    message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
    recipient: 'user@example.com',
    action: 'open',
    version: 3,
    attributes: { useragent: 'Mozilla/5.0' },
  },
  'message.stale': {
    ...Object.fromEntries(Object.entries(STATUS_EXAMPLE).filter(([k]) => k !== 'previous_status')),
    type: 'message.stale',
    status: 'sent',
    terminal: false,
    version: 1,
    occurred_at: '2026-11-24T08:00:00Z',
    received_at: '2026-11-27T08:00:00.412Z',
    raw_id: null,
  },
  'webhook.test': {
    id: 'evt_01JDQ2Z8M4V1KX3T5N7P9R2S4X',
    type: 'webhook.test',
    subscription_id: 'sub_01JDQ2Z8M4V1KX3T5N7P9R2S4Y',
    occurred_at: '2026-11-24T08:00:05.000Z',
  },
};

const webhook = (type, summary, schema, example, description) => ({
  post: {
    operationId: `webhook_${type.replace('.', '_')}`,
    tags: ['webhooks'],
    summary,
    description:
      description ??
      'POSTed to each subscription whose filter matches, signed per Standard Webhooks: `webhook-id` (the event id), `webhook-timestamp`, `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), plus the subscription\'s custom `headers`. Any 2xx within delivery.timeoutSeconds ends the delivery; 410 disables the subscription; anything else is retried on the schedule.',
    security: [],
    parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({ name, in: 'header', required: true, schema: str })),
    requestBody: { required: true, content: { 'application/json': { schema, example } } },
    responses: {
      '2XX': { description: 'received: the delivery ends' },
      410: { description: 'gone: the subscription is disabled' },
      default: { description: 'anything else (or no answer within the timeout): retried on the schedule, then dead' },
    },
  },
});

export default {
  openapi: '3.1.0',
  info: {
    title: 'dlr-receiver',
    version: '1',
    summary: 'Delivery reports from SMS and e-mail providers, as one trustworthy status stream.',
    description:
      'Every HTTP route of dlr-receiver: provider callbacks, the read API, replay, subscribers (outbound webhooks, described under `webhooks`), send registration, the contract documents and the operations routes. Docs: docs/api.md.',
    license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
  },
  servers: [{ url: 'http://127.0.0.1:8080', description: 'a local server (`npm start`; PORT and HOST set the address)' }],
  tags: [
    { name: 'callbacks', description: 'Provider callbacks (no bearer token)' },
    { name: 'read', description: 'Messages, statistics, the raw log, support queries (scope `read`)' },
    { name: 'replay', description: 'Replay of stored requests (scope `replay`) and the audit (scope `read`)' },
    { name: 'subscribers', description: 'Subscriptions and deliveries (scope `admin`)' },
    { name: 'registration', description: 'Send registration (scope `admin`)' },
    { name: 'contract', description: 'This document, the event types and the providers' },
    { name: 'operations', description: 'Health, readiness, metrics and the console (no API token)' },
    { name: 'webhooks', description: 'What subscribers receive' },
  ],
  security: [{ bearer: [] }],
  paths: {
    '/v1/callbacks/{provider}': callback(false),
    '/v1/callbacks/{provider}/{account}': callback(true),

    '/v1/messages/{provider}/{message_id}': {
      get: op({
        id: 'getMessage',
        tag: 'read',
        summary: 'One message and its history',
        description: 'The newest 1,000 reports, oldest first (`history_truncated: true` when there were more).',
        scope: 'read',
        params: [pathParam('provider', 'the provider'), pathParam('message_id', "the provider's message id"), ...query('message')],
        ok: answer('the message', ref('MessageAnswer')),
        notFound: 'not_found: no such message',
        conflict: answer('ambiguous: the id covers several messages; add `recipient` (and `account`)', ref('Ambiguous')),
      }),
    },
    '/v1/messages': {
      get: op({
        id: 'listMessages',
        tag: 'read',
        summary: 'Messages, newest first',
        description:
          "`since`/`until` filter on the last change; `stale=true` lists the messages past their account's `finalAfterSeconds` without a final status.",
        scope: 'read',
        params: query('messages'),
        ok: answer('a page of messages', page('Message')),
      }),
      post: op({
        id: 'registerMessage',
        tag: 'registration',
        summary: 'Register a send (its reference and metadata)',
        scope: 'admin',
        body: { schema: ref('RegistrationInput') },
        okStatus: 201,
        ok: answer('registered', ref('Registration')),
      }),
    },
    '/v1/stats': {
      get: op({
        id: 'getStats',
        tag: 'read',
        summary: 'Counts by status, delivery rate, top error codes',
        scope: 'read',
        params: query('stats'),
        ok: answer('statistics', ref('Stats')),
      }),
    },
    '/v1/stats/timeseries': {
      get: op({
        id: 'getTimeseries',
        tag: 'read',
        summary: 'Delivery health over time',
        scope: 'read',
        params: query('timeseries'),
        ok: answer('buckets, empty ones left out', ref('Timeseries')),
      }),
    },
    '/v1/reports/daily': {
      get: op({
        id: 'getDailyReport',
        tag: 'read',
        summary: 'The reconciliation report: messages per local day, provider, account and status',
        scope: 'read',
        params: query('daily'),
        ok: {
          description: 'the report; CSV with `Accept: text/csv`',
          content: { ...json(ref('DailyReport')), 'text/csv': { schema: str } },
        },
      }),
    },
    '/v1/raw': {
      get: op({
        id: 'listRaw',
        tag: 'read',
        summary: 'Raw requests, newest first (body previews)',
        scope: 'read',
        params: query('raw-list'),
        ok: answer('a page of raw requests', page('RawItem')),
      }),
    },
    '/v1/raw/{id}': {
      get: op({
        id: 'getRaw',
        tag: 'read',
        summary: 'One raw request, its whole body and the events it produced',
        scope: 'read',
        params: [rawId, ...query('none')],
        ok: answer('the raw request', ref('RawRequest')),
        notFound: 'not_found: no such raw request',
      }),
    },
    '/v1/raw/{id}/body': {
      get: op({
        id: 'getRawBody',
        tag: 'read',
        summary: 'The exact stored bytes, as a download',
        scope: 'read',
        params: [rawId, ...query('none')],
        ok: {
          description: "the bytes, with the request's own Content-Type (or application/octet-stream)",
          content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
        },
        notFound: 'not_found: no such raw request',
      }),
    },
    '/v1/raw/{id}/replay': {
      post: op({
        id: 'replayRaw',
        tag: 'replay',
        summary: "Replay one stored request through today's verification, parsing and state rules",
        description: 'The body must name `dry_run` (`true`: see what would change, nothing written; `false`: apply): 400 naming it when absent.',
        scope: 'replay',
        params: [rawId, ...query('none')],
        body: { schema: ref('ReplayInput') },
        ok: answer('the result', ref('ReplayResult')),
        notFound: 'not_found: no such raw request',
      }),
    },
    '/v1/replay': {
      post: op({
        id: 'replay',
        tag: 'replay',
        summary: 'Replay every matching stored request, oldest first',
        description: 'The body must name `dry_run` (`true`: see what would change, nothing written; `false`: apply): 400 naming it when absent.',
        scope: 'replay',
        params: query('none'),
        body: { schema: ref('ReplayInput') },
        ok: answer('the summary', ref('BulkReplay')),
      }),
    },
    '/v1/audit': {
      get: op({
        id: 'listAudit',
        tag: 'replay',
        summary: 'Who replayed, imported or purged what',
        scope: 'read',
        params: query('audit'),
        ok: answer('a page of audit entries', page('AuditEntry')),
      }),
    },
    '/v1/search': {
      get: op({
        id: 'search',
        tag: 'read',
        summary: 'Find messages by id, recipient or reference',
        scope: 'read',
        params: query('search'),
        ok: answer('at most 50 hits', ref('SearchAnswer')),
      }),
    },
    '/v1/events/{id}/deliveries': {
      get: op({
        id: 'listEventDeliveries',
        tag: 'read',
        summary: 'The deliveries of one event',
        scope: 'read',
        params: [pathParam('id', 'the event id (`evt_…`)'), ...query('none')],
        ok: answer('the deliveries', obj(['items'], { items: { type: 'array', items: ref('EventDelivery') } })),
      }),
    },
    '/v1/outbox': {
      get: op({ id: 'getOutbox', tag: 'read', summary: 'The outbox backlog', scope: 'read', params: query('none'), ok: answer('the backlog', ref('Outbox')) }),
    },
    '/v1/whoami': {
      get: op({
        id: 'whoami',
        tag: 'read',
        summary: "The token's name and scopes (any valid token)",
        scope: '',
        params: query('none'),
        ok: answer('the token', ref('WhoAmI')),
      }),
    },

    '/v1/subscriptions': {
      get: op({
        id: 'listSubscriptions',
        tag: 'subscribers',
        summary: 'Every subscription (not paged), without secrets',
        scope: 'admin',
        params: query('none'),
        ok: answer('the subscriptions', obj(['items'], { items: { type: 'array', items: ref('Subscription') } })),
      }),
      post: op({
        id: 'createSubscription',
        tag: 'subscribers',
        summary: 'Subscribe a URL to events',
        scope: 'admin',
        params: query('none'),
        body: { schema: ref('SubscriptionInput') },
        okStatus: 201,
        ok: answer('created, with its secret (shown only here and on rotation)', ref('SubscriptionWithSecret')),
      }),
    },
    '/v1/subscriptions/{id}': {
      get: op({
        id: 'getSubscription',
        tag: 'subscribers',
        summary: 'One subscription',
        scope: 'admin',
        params: [subscriptionId, ...query('none')],
        ok: answer('the subscription', ref('Subscription')),
        notFound: 'not_found: no such subscription',
      }),
      patch: op({
        id: 'updateSubscription',
        tag: 'subscribers',
        summary: 'Change url, filter, description, enabled, headers or rateLimitPerSecond',
        description:
          'Only the fields given change (`headers` is replaced whole). `enabled: true` on a disabled subscription clears failing_since and makes its pending deliveries due at once.',
        scope: 'admin',
        params: [subscriptionId, ...query('none')],
        body: { schema: ref('SubscriptionInput') },
        ok: answer('the subscription', ref('Subscription')),
        notFound: 'not_found: no such subscription',
      }),
      delete: op({
        id: 'deleteSubscription',
        tag: 'subscribers',
        summary: 'Delete a subscription and its deliveries',
        scope: 'admin',
        params: [subscriptionId, ...query('none')],
        okStatus: 204,
        ok: { description: 'deleted' },
        notFound: 'not_found: no such subscription',
      }),
    },
    '/v1/subscriptions/{id}/rotate-secret': {
      post: op({
        id: 'rotateSecret',
        tag: 'subscribers',
        summary: 'A new secret; for 24 h deliveries are signed with both',
        scope: 'admin',
        params: [subscriptionId, ...query('none')],
        ok: answer('the subscription with its new secret', ref('SubscriptionWithSecret')),
        notFound: 'not_found: no such subscription',
      }),
    },
    '/v1/subscriptions/{id}/test': {
      post: op({
        id: 'testSubscription',
        tag: 'subscribers',
        summary: 'Send a signed webhook.test event now, and answer with the attempt',
        description:
          'Signed and sent as deliveries are (secrets, custom headers, the private-network guard, delivery.timeoutSeconds), once, outside the outbox: nothing is queued or retried. Works for a disabled subscription too. Answers 200 whatever the subscriber answered: `attempt` says what happened.',
        scope: 'admin',
        params: [subscriptionId, ...query('none')],
        ok: answer('the event sent and the attempt', ref('TestSend')),
        notFound: 'not_found: no such subscription',
      }),
    },
    '/v1/subscriptions/{id}/deliveries': {
      get: op({
        id: 'listDeliveries',
        tag: 'subscribers',
        summary: "A subscription's deliveries, newest first",
        scope: 'admin',
        params: [subscriptionId, ...query('deliveries')],
        ok: answer('a page of deliveries', page('Delivery')),
        notFound: 'not_found: no such subscription',
      }),
    },
    '/v1/subscriptions/{id}/retry-dead': {
      post: op({
        id: 'retryDead',
        tag: 'subscribers',
        summary: 'One more attempt now for every dead delivery of the subscription',
        scope: 'admin',
        params: [subscriptionId, ...query('none')],
        ok: answer('how many were requeued', obj(['requeued'], { requeued: int })),
        notFound: 'not_found: no such subscription',
      }),
    },
    '/v1/deliveries/{id}': {
      get: op({
        id: 'getDelivery',
        tag: 'subscribers',
        summary: 'One delivery with its event and every attempt',
        scope: 'admin',
        params: [deliveryId, ...query('none')],
        ok: answer('the delivery', ref('DeliveryDetail')),
        notFound: 'not_found: no such delivery',
      }),
    },
    '/v1/deliveries/{id}/retry': {
      post: op({
        id: 'retryDelivery',
        tag: 'subscribers',
        summary: 'One more attempt now (trigger `manual`)',
        scope: 'admin',
        params: [deliveryId, ...query('none')],
        ok: answer('the delivery', ref('Delivery')),
        notFound: 'not_found: no such delivery',
      }),
    },

    '/v1/openapi.json': {
      get: op({
        id: 'getOpenApi',
        tag: 'contract',
        summary: 'This document (no token needed)',
        scope: null,
        params: query('none'),
        ok: answer('the OpenAPI 3.1 document', obj(['openapi', 'paths'], { openapi: str, paths: { type: 'object' } })),
      }),
    },
    '/v1/event-types': {
      get: op({
        id: 'listEventTypes',
        tag: 'contract',
        summary: 'The event types subscribers receive, with their JSON Schema and an example',
        scope: 'read',
        params: query('none'),
        ok: answer('the event types', ref('EventTypes')),
      }),
    },
    '/v1/providers': {
      get: op({
        id: 'listProviders',
        tag: 'contract',
        summary: 'The providers this server knows: built-in ones and presets, their settings, signature, acknowledgement and statuses',
        scope: 'read',
        params: query('none'),
        ok: answer('the providers', ref('Providers')),
      }),
    },

    '/healthz': {
      get: {
        operationId: 'healthz',
        tags: ['operations'],
        summary: 'The process is up',
        security: [],
        responses: { 200: answer('up', obj(['status'], { status: { const: 'ok' } })), 500: { $ref: '#/components/responses/Internal' } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        tags: ['operations'],
        summary: 'The database answers and every migration is applied',
        security: [],
        responses: {
          200: answer('ready', obj(['status', 'database'], { status: { const: 'ready' }, database: { enum: ['sqlite', 'postgres'] } })),
          500: { $ref: '#/components/responses/Internal' },
          503: answer(
            'not ready: draining, migrations pending or the database unreachable (its error is in the log)',
            obj(['status'], { status: { enum: ['draining', 'migrations_pending', 'database_unreachable'] }, detail: str }),
          ),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        tags: ['operations'],
        summary: 'Prometheus metrics (here unless metrics.port gives them a port of their own)',
        description: 'With `metrics.token` set it needs `Authorization: Bearer <metrics.token>` (not an API token).',
        security: [{}, { metricsToken: [] }],
        responses: {
          200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: str } } },
          401: error('unauthorized: metrics.token is set and the request does not carry it'),
          404: error('not_found: metrics.port is set, so the metrics are served on that port, not here'),
          500: error('internal: metrics failed; see the logs'),
        },
      },
    },
    '/console': {
      get: {
        operationId: 'consoleRedirect',
        tags: ['operations'],
        summary: 'Redirects to /console/',
        security: [],
        responses: { 301: { description: 'to /console/', headers: { Location: { schema: str } } } },
      },
    },
    '/console/': {
      get: {
        operationId: 'console',
        tags: ['operations'],
        summary: 'The support console (no token to load it; every API call it makes carries one)',
        security: [],
        responses: {
          200: { description: "the console's page", content: { 'text/html': { schema: str } } },
          304: { description: 'not modified since the If-Modified-Since / If-None-Match the browser sent' },
          404: error('not_found: the console is not built (`npm run build`)'),
        },
      },
    },
    '/console/{path}': {
      get: {
        operationId: 'consolePage',
        tags: ['operations'],
        summary: 'A console page (deep links such as /console/messages/:provider/:message_id) or one of its built files',
        security: [],
        parameters: [{ name: 'path', in: 'path', required: true, description: 'the rest of the path, slashes included', schema: str }],
        responses: {
          200: { description: 'the page, or a built file', content: { '*/*': { schema: {} } } },
          304: { description: 'not modified since the If-Modified-Since / If-None-Match the browser sent' },
          404: error('not_found: a built file that is not there, or the console is not built'),
        },
      },
    },
    '/console/assets/{path}': {
      get: {
        operationId: 'consoleAsset',
        tags: ['operations'],
        summary: 'A built file of the console (hashed name, cached for good)',
        security: [],
        parameters: [{ name: 'path', in: 'path', required: true, description: 'the file name', schema: str }],
        responses: {
          200: { description: 'the file', content: { '*/*': { schema: {} } } },
          304: { description: 'not modified since the If-Modified-Since / If-None-Match the browser sent' },
          404: error('not_found: no such built file (a page of an older build)'),
        },
      },
    },
  },

  webhooks: {
    'message.status': webhook('message.status', "A message's status changed", ref('MessageStatusEvent'), EXAMPLES['message.status']),
    'message.engagement': webhook(
      'message.engagement',
      'An e-mail was opened, clicked, complained about or unsubscribed from (`action`; the status does not change)',
      ref('MessageEngagementEvent'),
      EXAMPLES['message.engagement'],
    ),
    'message.stale': webhook(
      'message.stale',
      "A message has had no final status for its account's finalAfterSeconds (default 3 days): the same envelope as message.status, its status unchanged",
      ref('MessageStaleEvent'),
      EXAMPLES['message.stale'],
    ),
    'webhook.test': webhook(
      'webhook.test',
      'A test event, sent at once by POST /v1/subscriptions/{id}/test',
      ref('TestEvent'),
      EXAMPLES['webhook.test'],
      'POSTed once, when asked for, to the subscription (enabled or not), signed and with custom headers as every event is: `webhook-id` (the event id), `webhook-timestamp`, `webhook-signature`. Never queued or retried: the answer (status, duration, the start of the body) is what POST /v1/subscriptions/{id}/test answers.',
    ),
  },

  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description:
          "An API token: `DLR_ADMIN_TOKEN` (every scope) or one of the config's `tokens`, each with scopes `read`, `replay`, `admin` (admin holds the others). The scopes an operation needs are listed in its security requirement. No or an unknown token: 401; a token without the scope: 403.",
      },
      metricsToken: { type: 'http', scheme: 'bearer', description: 'metrics.token, for GET /metrics only' },
    },
    parameters: {
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Makes a retry safe: the same key (per token) and the same request within 24 h answer the first answer again (status and body, with `Idempotent-Replayed: true`) without doing the work twice; the same key with another body, method or path answers 409 `idempotency_key_reused`. 1–255 printable ASCII characters: a new UUID per request. A first answer that was a 5xx is not kept.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      },
    },
    responses: {
      IdempotencyConflict: error(
        'idempotency_key_reused: the Idempotency-Key was used in the last 24 h for another request (send a new key); idempotency_key_in_use: the first request with it is still being served (retry in a moment)',
      ),
      BadRequest: error('bad_request: an invalid body or query (an unknown or repeated parameter, a value outside its enum); `detail` names it'),
      Unauthorized: {
        description: 'unauthorized: no bearer token, or not a valid one',
        headers: { 'WWW-Authenticate': { schema: str } },
        content: json(ref('Error')),
      },
      Forbidden: error('forbidden: the token lacks the scope'),
      PayloadTooLarge: error('payload_too_large: the JSON body is over 256 kB'),
      TooManyRequests: {
        description: 'rate_limited: over server.rateLimit (see the RateLimit and Retry-After headers)',
        headers: { RateLimit: { schema: str }, 'RateLimit-Policy': { schema: str }, 'Retry-After': { schema: int } },
        content: json(ref('Error')),
      },
      Internal: error('internal: a bug; `detail` names the request id to find it in the logs'),
      Unavailable: error('unavailable (the database) or read_timeout (a read over server.readTimeoutSeconds): retry, or narrow the query'),
    },
    schemas: {
      StatusEvent: { $ref: '../schemas/status-event.schema.json' },
      SubscriptionInput: { $ref: '../schemas/subscription.schema.json' },
      RegistrationInput: { $ref: '../schemas/message-registration.schema.json' },
      ReplayInput: { $ref: '../schemas/replay.schema.json' },

      MessageStatusEvent: eventSchema('message.status'),
      MessageEngagementEvent: eventSchema('message.engagement'),
      MessageStaleEvent: eventSchema('message.stale'),
      Error: obj(['error', 'detail'], {
        error: { type: 'string', description: 'a stable code: bad_request, unauthorized, forbidden, not_found, …' },
        detail: { description: 'what to do about it: which value was not found, which values are allowed, which token or scope is needed' },
      }),
      Ambiguous: obj(['error', 'detail', 'recipients', 'accounts'], {
        error: { const: 'ambiguous' },
        detail: str,
        recipients: { type: 'array', items: str },
        accounts: { type: 'array', items: str },
      }),
      Status: { enum: ['queued', 'sent', 'deferred', 'delivered', 'failed', 'expired', 'rejected'] },
      Channel: { enum: ['sms', 'email'] },
      ErrorInfo: errorInfo,
      Message: obj(
        [
          'provider',
          'account',
          'channel',
          'message_id',
          'recipient',
          'status',
          'terminal',
          'version',
          'error',
          'occurred_at',
          'attributes',
          'reference',
          'metadata',
          'created_at',
          'updated_at',
          'stale_since',
        ],
        {
          provider: str,
          account: str,
          channel: ref('Channel'),
          message_id: str,
          recipient: str,
          status: nullable(ref('Status')),
          terminal: { type: 'boolean' },
          version: int,
          error: ref('ErrorInfo'),
          occurred_at: nullable(str),
          attributes: { type: 'object' },
          reference: nullable(str),
          metadata: {},
          created_at: str,
          updated_at: str,
          stale_since: { ...nullable(str), description: "when the message went past its account's finalAfterSeconds without a final status; null otherwise" },
        },
      ),
      Report: obj(['id', 'raw_id', 'type', 'status', 'action', 'error', 'occurred_at', 'received_at', 'changed', 'reason', 'event_id', 'attributes'], {
        id: str,
        raw_id: nullable(str),
        type: str,
        status: nullable(str),
        action: nullable(str),
        error: ref('ErrorInfo'),
        occurred_at: nullable(str),
        received_at: str,
        changed: { type: 'boolean' },
        reason: { ...nullable(str), description: 'why it did not change the status: duplicate, lower_rank, later_failure' },
        event_id: nullable(str),
        attributes: { type: 'object' },
      }),
      MessageAnswer: obj(['message', 'history'], {
        message: ref('Message'),
        history: { type: 'array', items: ref('Report') },
        history_truncated: { type: 'boolean' },
      }),
      Registration: obj(['provider', 'account', 'message_id', 'recipient', 'reference', 'metadata'], {
        provider: str,
        account: str,
        message_id: str,
        recipient: nullable(str),
        reference: nullable(str),
        metadata: nullable({ type: 'object' }),
      }),
      Stats: obj(['total', 'by_status', 'final', 'delivered', 'delivery_rate', 'top_error_codes'], {
        window: obj(['since', 'until'], { since: nullable(str), until: nullable(str) }),
        total: int,
        by_status: counts,
        final: int,
        delivered: int,
        delivery_rate: nullable({ type: 'number' }),
        stale: { ...int, description: 'messages first seen in the window that went stale (no final report within finalAfterSeconds)' },
        top_error_codes: { type: 'array', items: obj(['provider', 'code', 'count'], { provider: str, code: str, count: int }) },
      }),
      Bucket: obj(['start', 'group', 'total', 'by_status', 'delivered', 'final', 'delivery_rate', 'top_errors', 'latency', 'callbacks'], {
        start: str,
        group: nullable(str),
        total: int,
        by_status: counts,
        delivered: int,
        final: int,
        delivery_rate: nullable({ type: 'number' }),
        top_errors: { type: 'array', items: obj(['code', 'count'], { code: str, count: int }) },
        latency: obj(['count', 'p50', 'p95'], {
          count: { ...int, description: 'status reports received in the bucket (duplicates left out)' },
          p50: nullable({
            type: 'number',
            description: 'seconds from the provider event time to receipt, median (interpolated in the rollup latency buckets)',
          }),
          p95: nullable({ type: 'number', description: 'the same, 95th percentile' }),
        }),
        callbacks: counts,
      }),
      Timeseries: obj(['interval', 'since', 'until', 'group_by', 'buckets'], {
        interval: { enum: ['1m', '1h', '1d'] },
        since: str,
        until: str,
        group_by: nullable({ enum: querySchemas.timeseries.properties.group_by.enum.filter(Boolean) }),
        buckets: { type: 'array', items: ref('Bucket') },
      }),
      DailyRow: obj(['time_zone', 'count'], { day: str, time_zone: str, provider: str, account: str, status: str, error_code: nullable(str), count: int }),
      DailyReport: obj(['since', 'until', 'by', 'time_zone', 'rows'], {
        since: str,
        until: str,
        by: { type: 'array', items: { enum: ['day', 'provider', 'account', 'status'] } },
        time_zone: nullable(str),
        rows: { type: 'array', items: ref('DailyRow') },
      }),
      Body: obj(['encoding', 'content'], { encoding: { enum: ['text', 'base64'] }, content: str, truncated: { type: 'boolean' } }),
      RawItem: obj(['id', 'provider', 'account', 'method', 'url', 'headers', 'body', 'body_size', 'remote_addr', 'verdict', 'detail', 'received_at'], {
        id: str,
        provider: str,
        account: str,
        method: str,
        url: str,
        headers: { type: 'object', additionalProperties: { oneOf: [str, { type: 'array', items: str }] } },
        body: nullable(ref('Body')),
        body_size: nullable(int),
        remote_addr: nullable(str),
        verdict: { enum: ['accepted', 'duplicate', 'signature_invalid', 'payload_invalid', 'too_large', 'unknown_provider', 'overloaded'] },
        detail: nullable(str),
        received_at: str,
      }),
      RawRequest: { allOf: [ref('RawItem'), obj(['events'], { events: { type: 'array', items: ref('StatusEvent') } })] },
      StatusChange: obj(['message_id', 'recipient', 'from', 'to'], { message_id: str, recipient: str, from: nullable(str), to: nullable(str), version: int }),
      ReplayResult: obj(['raw_id', 'previous_verdict', 'verdict', 'detail', 'events', 'changes'], {
        dry_run: { type: 'boolean' },
        raw_id: str,
        provider: str,
        account: str,
        previous_verdict: str,
        verdict: str,
        detail: nullable(str),
        events: { type: 'array', items: ref('StatusEvent') },
        changes: { type: 'array', items: ref('StatusChange') },
      }),
      BulkReplay: obj(['dry_run', 'replayed', 'by_verdict', 'changes', 'results'], {
        dry_run: { type: 'boolean' },
        replayed: int,
        by_verdict: counts,
        changes: int,
        results: { type: 'array', items: ref('ReplayResult') },
      }),
      AuditEntry: obj(['id', 'at', 'actor', 'action', 'parameters', 'result'], { id: str, at: str, actor: str, action: str, parameters: {}, result: {} }),
      SearchItem: obj(['provider', 'account', 'message_id', 'recipient', 'channel', 'status', 'version', 'updated_at', 'reference', 'matched'], {
        provider: str,
        account: str,
        message_id: str,
        recipient: str,
        channel: nullable(ref('Channel')),
        status: nullable(ref('Status')),
        version: int,
        updated_at: str,
        reference: nullable(str),
        matched: { enum: ['message_id', 'recipient', 'reference'] },
      }),
      SearchAnswer: obj(['items'], { items: { type: 'array', items: ref('SearchItem') } }),
      Attempt: obj(['attempt', 'trigger', 'started_at', 'duration_ms', 'status_code', 'error'], {
        id: str,
        delivery_id: str,
        attempt: int,
        trigger: str,
        started_at: str,
        duration_ms: nullable(int),
        status_code: nullable(int),
        error: nullable(str),
        response: { ...nullable(str), description: "the first 2 KiB of the subscriber's answer (admin routes only)" },
        next_attempt_at: nullable(str),
      }),
      EventDelivery: obj(['id', 'subscription_id', 'url', 'state', 'attempts', 'last_status', 'last_error', 'next_attempt_at', 'attempt_list'], {
        id: str,
        subscription_id: str,
        url: str,
        state: { enum: ['pending', 'succeeded', 'dead'] },
        attempts: int,
        last_status: nullable(int),
        last_error: nullable(str),
        next_attempt_at: nullable(str),
        attempt_list: { type: 'array', items: ref('Attempt') },
      }),
      Outbox: obj(['pending', 'dead', 'oldest_pending_age_seconds', 'subscriptions'], {
        pending: int,
        dead: int,
        oldest_pending_age_seconds: nullable(int),
        subscriptions: {
          type: 'array',
          items: obj(['id', 'url', 'enabled', 'pending', 'dead'], { id: str, url: str, enabled: { type: 'boolean' }, pending: int, dead: int }),
        },
      }),
      WhoAmI: obj(['name', 'scopes'], { name: str, scopes: { type: 'array', items: { enum: ['read', 'replay', 'admin'] } } }),
      SubscriptionFilter: obj([], {
        providers: { type: 'array', items: str },
        channels: { type: 'array', items: str },
        statuses: { type: 'array', items: str },
        types: { type: 'array', items: str },
      }),
      Subscription: obj(
        [
          'id',
          'url',
          'filter',
          'description',
          'enabled',
          'disabled_reason',
          'failing_since',
          'headers',
          'rateLimitPerSecond',
          'rotating_until',
          'created_at',
          'updated_at',
        ],
        {
          id: str,
          url: str,
          filter: nullable(ref('SubscriptionFilter')),
          description: nullable(str),
          enabled: { type: 'boolean' },
          disabled_reason: nullable(str),
          failing_since: {
            ...nullable(str),
            description:
              'when the first failed attempt after the last success started; null when not failing. Past delivery.disableAfterFailingSeconds the worker disables the subscription',
          },
          headers: { type: 'object', additionalProperties: str, description: 'custom request headers sent with every delivery ({} for none)' },
          rateLimitPerSecond: { ...nullable(int), description: 'deliveries per second per worker process; null: no limit' },
          rotating_until: nullable(str),
          created_at: str,
          updated_at: str,
        },
      ),
      SubscriptionWithSecret: { allOf: [ref('Subscription'), obj(['secret'], { secret: { type: 'string', pattern: '^whsec_' } })] },
      Delivery: obj(
        [
          'id',
          'event_id',
          'subscription_id',
          'state',
          'attempts',
          'next_attempt_at',
          'last_attempt_at',
          'last_status',
          'last_error',
          'created_at',
          'updated_at',
        ],
        {
          id: str,
          event_id: str,
          subscription_id: str,
          state: { enum: ['pending', 'succeeded', 'dead'] },
          attempts: int,
          next_attempt_at: nullable(str),
          next_trigger: nullable(str),
          last_attempt_at: nullable(str),
          last_status: nullable(int),
          last_error: nullable(str),
          created_at: str,
          updated_at: str,
        },
      ),
      DeliveryDetail: {
        allOf: [ref('Delivery'), obj(['event', 'attempt_log'], { event: ref('StatusEvent'), attempt_log: { type: 'array', items: ref('Attempt') } })],
      },
      TestEvent: { $ref: '../schemas/test-event.schema.json' },
      TestSend: obj(['event', 'attempt'], {
        event: ref('TestEvent'),
        attempt: obj(['status_code', 'duration_ms', 'response', 'error'], {
          status_code: { ...nullable(int), description: "the subscriber's HTTP status; null when no answer came (refused, unreachable, timed out)" },
          duration_ms: int,
          response: { ...nullable(str), description: "the first 2048 bytes of the subscriber's answer, as text; null without an answer" },
          error: { ...nullable(str), description: 'why it failed (`HTTP 500`, `no answer within 10 s`, `not sent: …`); null for a 2xx' },
        }),
      }),
      EventType: obj(['name', 'description', 'schema', 'example'], {
        name: str,
        description: str,
        schema: { type: 'object', description: 'the JSON Schema (2020-12) of the event' },
        example: { type: 'object' },
      }),
      EventTypes: obj(['event_types'], { event_types: { type: 'array', items: ref('EventType') } }),
      Provider: obj(['name', 'kind', 'channel', 'description', 'signature', 'settings', 'ack', 'statuses', 'sources'], {
        name: str,
        kind: { enum: ['builtin', 'preset'] },
        channel: str,
        description: str,
        signature: obj(['scheme', 'summary'], { scheme: str, summary: str }),
        settings: { type: 'array', items: obj(['name', 'required', 'description'], { name: str, required: { type: 'boolean' }, description: str }) },
        ack: obj(['status', 'contentType', 'body'], { status: int, contentType: nullable(str), body: nullable(str) }),
        statuses: { type: 'array', items: obj(['code', 'status'], { code: str, status: str }) },
        sources: { type: 'array', items: str },
      }),
      Providers: obj(['providers'], { providers: { type: 'array', items: ref('Provider') } }),
    },
  },
};

import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * The one description of the database. Times are ISO-8601 UTC text (they sort as text on both
 * SQLite and PostgreSQL); JSON is stored as text; flags are integers 0/1 so both dialects agree.
 */
export interface Database {
  raw_requests: RawRequestTable;
  messages: MessageTable;
  reports: ReportTable;
  events: EventTable;
  subscriptions: SubscriptionTable;
  deliveries: DeliveryTable;
  delivery_attempts: DeliveryAttemptTable;
  registrations: RegistrationTable;
  nonces: NonceTable;
  idempotency_keys: IdempotencyKeyTable;
  audit_log: AuditTable;
  stats_rollup: StatsRollupTable;
  stats_rollup_delta: StatsRollupDeltaTable;
  series_rollup: SeriesRollupTable;
  series_rollup_delta: SeriesRollupDeltaTable;
}

/**
 * Messages counted by when they were first seen and what they are now (migration 0003,
 * src/status/rollups.ts): what GET /v1/stats sums instead of scanning messages.
 */
export interface StatsRollupTable {
  /** 'm' (minute buckets) or 'h' (hour buckets). */
  period: string;
  /** The bucket's start as the prefix of an ISO time: `YYYY-MM-DDTHH:MM` ('m') or `YYYY-MM-DDTHH` ('h'). */
  bucket: string;
  provider: string;
  account: string;
  channel: string;
  /** The recipient's ISO region ('' for e-mail, an unknown number, or rows counted before migration 0007). */
  country: string;
  /** The messages' current status; '' for none. */
  status: string;
  /** Their current error code; '' for none. */
  error_code: string;
  /** bigint: PostgreSQL hands it over as text. */
  n: number | string;
}

/** PostgreSQL: changes to stats_rollup not folded into it yet (migration 0004, src/status/rollups.ts). */
export interface StatsRollupDeltaTable extends StatsRollupTable {
  id: Generated<number | string>;
}

/**
 * Counts over time that are not messages (migration 0007, src/status/rollups.ts): callbacks by
 * verdict (`series` 'callback', `key` the verdict) and status reports by lateness (`series`
 * 'latency', `key` a latency bucket's upper bound in seconds, or '+Inf').
 */
export interface SeriesRollupTable {
  period: string;
  series: string;
  bucket: string;
  provider: string;
  account: string;
  /** '' for callbacks (a request has no channel). */
  channel: string;
  /** '' for callbacks. */
  country: string;
  key: string;
  n: number | string;
}

export interface SeriesRollupDeltaTable extends SeriesRollupTable {
  id: Generated<number | string>;
}

export interface AuditTable {
  id: string;
  at: string;
  /** The token's name, or `cli:<user>`. */
  actor: string;
  /** replay | import | purge */
  action: string;
  /** JSON: the filter, dry_run, file… */
  parameters: string;
  /** JSON: counts by verdict, changes, … */
  result: string;
}

/**
 * Single-use values of signature schemes (Mailgun tokens, generic `nonce`s). A row is kept while a
 * raw request that could carry its value is kept (src/replay/retention.ts); live, a row past
 * `expires_at` may be taken over by a new use (src/ingest/nonces.ts).
 */
/** An `Idempotency-Key` of an admin POST and the first answer to it (migration 0009, src/http/idempotency.ts). */
export interface IdempotencyKeyTable {
  /** The token's name (req.actor): keys are per token. */
  actor: string;
  key: string;
  /** sha256 of the method, path and canonical JSON body of the first request. */
  fingerprint: string;
  /** The first answer's status; null while the first request is being served. */
  status: number | null;
  /** The first answer's JSON body (null: none, or still being served). */
  body: string | null;
  created_at: string;
  expires_at: string;
}

export interface NonceTable {
  provider: string;
  account: string;
  value: string;
  /** The end of the window in which a request carrying the value passes the timestamp check. */
  expires_at: string;
  /** The raw request that used it (migration 0002; NULL for rows recorded before). */
  raw_id: string | null;
}

export interface RawRequestTable {
  id: string;
  provider: string;
  account: string;
  method: string;
  /** Path and query as received. A `token` query value is shown redacted by the API. */
  url: string;
  /** JSON object of the request headers, names lower-case. */
  headers: string;
  /** The bytes as received, or deflated when body_encoding says so (src/raw/store.ts storedBody). */
  body: Buffer;
  /** The size of the body as received. */
  body_size: number;
  remote_addr: string;
  received_at: string;
  verdict: string;
  detail: string | null;
  /** null: `body` is the bytes as received; 'deflate': raw deflate of them (migration 0003). */
  body_encoding: string | null;
}

export interface MessageTable {
  id: string;
  provider: string;
  account: string;
  message_id: string;
  /** '' when the provider names no recipient. */
  recipient: string;
  channel: string;
  status: string | null;
  error_code: string | null;
  error_message: string | null;
  /** When the current status happened, per the provider. */
  occurred_at: string | null;
  version: number;
  /** JSON: provider attributes of the reports that changed it, merged (e.g. out_id); '' for its first report's as they are (src/status/stored-form.ts). */
  attributes: string;
  created_at: string;
  updated_at: string;
  /** When a final report is due (src/status/stale.ts); null once final, once found stale, or for rows older than migration 0006. */
  final_due_at: string | null;
  /** When the message was found stale: no final report by its due time; null again once one arrives. */
  stale_at: string | null;
}

export interface ReportTable {
  id: string;
  message_pk: string;
  raw_id: string;
  /** `id:` and the provider's event id, or `h:` and 12 characters of a hash (32 in rows before 2026-12-03): src/status/store.ts dedupeKeys. */
  dedupe_key: string;
  type: string;
  status: string | null;
  action: string | null;
  error_code: string | null;
  error_message: string | null;
  occurred_at: string;
  received_at: string;
  /** 1 when this report changed the message's status. */
  changed: number;
  /** Why it did not: duplicate, lower_rank, later_failure, unmapped. */
  reason: string | null;
  /** The event it made: '' for `evt_` and this report's own ULID (as stored; every read turns it into the id: readHistoryRow). */
  event_id: string | null;
  attributes: string;
}

export interface EventTable {
  id: string;
  message_pk: string;
  raw_id: string;
  type: string;
  /** The normalized event JSON exactly as forwarded to subscribers. */
  payload: string;
  created_at: string;
  /**
   * The subscriptions that take the event, their ids joined by commas, until the worker has made
   * their delivery rows (src/outbox/expand.ts, migration 0011); then null.
   */
  fanout: string | null;
}

export interface SubscriptionTable {
  id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: string | null;
  /** JSON: { providers?, channels?, statuses?, types? }. */
  filter: string;
  description: string | null;
  enabled: number;
  /** Why the service disabled it (e.g. the subscriber answered 410 Gone). */
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
  /** JSON object of custom request headers sent with every delivery; null: none (migration 0008). */
  headers: string | null;
  /** Deliveries per second the worker allows it; null: no limit (migration 0008). */
  rate_limit_per_second: number | null;
  /** When the first failed attempt after the last success started; null when not failing (migration 0008). */
  failing_since: string | null;
}

export interface DeliveryTable {
  id: string;
  event_id: string;
  subscription_id: string;
  /** pending | succeeded | dead */
  state: string;
  attempts: Generated<number>;
  next_attempt_at: string;
  last_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  /** What starts the next attempt: scheduled (retry policy) or manual (a retry request). */
  next_trigger: Generated<string>;
  claimed_by: string | null;
  claimed_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeliveryAttemptTable {
  id: string;
  delivery_id: string;
  attempt: number;
  trigger: string;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  /** The start of the response body (capped). */
  response: string | null;
  next_attempt_at: string | null;
}

export interface RegistrationTable {
  provider: string;
  account: string;
  message_id: string;
  /** '' registers every recipient of the message id. */
  recipient: string;
  reference: string | null;
  metadata: string | null;
  created_at: string;
  updated_at: string;
  /** When a report is due (created_at + the account's finalAfterSeconds); null once the sweep has looked. */
  final_due_at: string | null;
  /** For a registration that never got a report: when the sweep made its stale message. */
  stale_at: string | null;
}

export type RawRequestRow = Selectable<RawRequestTable>;
export type MessageRow = Selectable<MessageTable>;
export type ReportRow = Selectable<ReportTable>;
export type NewReport = Insertable<ReportTable>;
export type SubscriptionRow = Selectable<SubscriptionTable>;
export type DeliveryRow = Selectable<DeliveryTable>;
export type RegistrationRow = Selectable<RegistrationTable>;

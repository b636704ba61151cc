/** The API's answers, as docs/api.md describes them (only the fields the console reads). */

export type Scope = 'read' | 'replay' | 'admin';

export interface WhoAmI {
  name: string;
  scopes: Scope[];
}

export interface ErrorInfo {
  code: string | null;
  message: string | null;
}

export interface Message {
  provider: string;
  account: string;
  channel: string;
  message_id: string;
  recipient: string;
  status: string | null;
  terminal: boolean;
  version: number;
  error: ErrorInfo | null;
  occurred_at: string | null;
  attributes: Record<string, unknown> | null;
  reference: string | null;
  metadata: unknown;
  created_at: string;
  updated_at: string;
}

export interface Report {
  id: string;
  raw_id: string | null;
  type: string;
  status: string | null;
  action: string | null;
  error: ErrorInfo | null;
  occurred_at: string | null;
  received_at: string;
  changed: boolean;
  reason: string | null;
  event_id: string | null;
  attributes: Record<string, unknown> | null;
}

export interface MessageAnswer {
  message: Message;
  history: Report[];
  history_truncated?: boolean;
}

export interface Ambiguous {
  error: 'ambiguous';
  detail?: string;
  recipients: string[];
  accounts: string[];
}

export interface SearchItem {
  provider: string;
  account: string;
  message_id: string;
  recipient: string;
  channel: string;
  status: string | null;
  version: number;
  updated_at: string;
  reference: string | null;
  matched: 'message_id' | 'recipient' | 'reference' | string;
}

export interface Body {
  encoding: 'text' | 'base64';
  content: string;
  truncated?: boolean;
}

export interface EventItem {
  id: string;
  type: string;
  provider: string;
  account: string;
  channel: string;
  message_id: string;
  recipient: string;
  version?: number;
  status?: string | null;
  previous_status?: string | null;
  action?: string | null;
  error?: ErrorInfo | null;
  occurred_at?: string | null;
  raw_id?: string | null;
}

export interface RawItem {
  id: string;
  provider: string;
  account: string;
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body: Body | null;
  body_size: number | null;
  remote_addr: string | null;
  verdict: string;
  detail: string | null;
  received_at: string;
}

export interface RawRequest extends RawItem {
  events: EventItem[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface StatusChange {
  message_id: string;
  recipient: string;
  from: string | null;
  to: string | null;
  version?: number;
}

export interface ReplayResult {
  dry_run?: boolean;
  raw_id: string;
  provider?: string;
  account?: string;
  previous_verdict: string;
  verdict: string;
  detail: string | null;
  events: EventItem[];
  changes: StatusChange[];
}

export interface BulkReplay {
  dry_run: boolean;
  replayed: number;
  by_verdict: Record<string, number>;
  changes: number;
  results: ReplayResult[];
}

export interface Attempt {
  attempt: number;
  trigger: string;
  started_at: string;
  duration_ms: number | null;
  status_code: number | null;
  error: string | null;
  response?: string | null;
}

export interface EventDelivery {
  id: string;
  subscription_id: string;
  url: string;
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  attempt_list: Attempt[];
}

export interface Delivery {
  id: string;
  event_id: string;
  subscription_id: string;
  state: string;
  attempts: number;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeliveryDetail extends Delivery {
  event: EventItem | null;
  attempt_log: Attempt[];
}

export interface SubscriptionFilter {
  providers?: string[];
  channels?: string[];
  statuses?: string[];
  types?: string[];
}

export interface Subscription {
  id: string;
  url: string;
  filter: SubscriptionFilter | null;
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  rotating_until: string | null;
  created_at: string;
  updated_at: string;
  secret?: string;
}

export interface Outbox {
  pending: number;
  dead: number;
  oldest_pending_age_seconds: number | null;
  subscriptions: { id: string; url: string; enabled: boolean; pending: number; dead: number }[];
}

export interface Bucket {
  start: string;
  group?: string | null;
  total: number;
  by_status: Record<string, number>;
  delivered: number;
  final: number;
  delivery_rate: number | null;
  top_errors: { code: string; count: number }[];
  callbacks: Record<string, number>;
}

export interface Timeseries {
  interval: string;
  buckets: Bucket[];
}

export interface Stats {
  total: number;
  by_status: Record<string, number>;
  final: number;
  delivered: number;
  delivery_rate: number | null;
  top_error_codes: { provider: string; code: string; count: number }[];
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  parameters: unknown;
  result: unknown;
}

/** The normalized vocabulary shared by every provider (CONTRACT.md, "The normalized status event"). */
export const STATUSES = ['queued', 'sent', 'deferred', 'delivered', 'failed', 'expired', 'rejected'] as const;
export type Status = (typeof STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<Status> = new Set<Status>(['delivered', 'failed', 'expired', 'rejected']);

export type Channel = 'sms' | 'email';
export type EventType = 'message.status' | 'message.engagement' | 'message.stale';

export interface ReportError {
  /** The provider's own code as sent ("UNDELIV", "MK:0001", "30003"). */
  code: string;
  message: string | null;
}

interface ReportBase {
  messageId: string;
  /** E.164 where the provider gives a country code, lower-cased e-mail, else as sent; '' if none. */
  recipient: string;
  occurredAt: Date;
  /** The provider's own event id when it has one; otherwise derived from the report's content. */
  eventId?: string;
  attributes: Record<string, unknown>;
}

export interface StatusReport extends ReportBase {
  type: 'message.status';
  /** null: a code the provider's status table does not know; recorded, never changes the status. */
  status: Status | null;
  error: ReportError | null;
}

export interface EngagementReport extends ReportBase {
  type: 'message.engagement';
  action: string;
}

/** What a provider's parser makes of one report in a callback. */
export type ProviderReport = StatusReport | EngagementReport;

/** The event forwarded to subscribers; its JSON Schema is schemas/status-event.schema.json. */
export interface StatusEvent {
  id: string;
  type: EventType;
  provider: string;
  account: string;
  channel: Channel;
  message_id: string;
  recipient: string;
  /** message.status: the new status; message.stale: the current one (null: no report ever came). */
  status?: Status | null;
  previous_status?: Status | null;
  terminal?: boolean;
  action?: string;
  version: number;
  error: ReportError | null;
  occurred_at: string;
  received_at: string;
  /** The raw request that made the event; null for message.stale, which the sweep makes. */
  raw_id: string | null;
  attributes: Record<string, unknown>;
  reference?: string;
  metadata?: Record<string, unknown>;
}

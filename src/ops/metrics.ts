import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/connect';
import { LATENCY_BOUNDS } from '../status/rollups';
import { unexpanded } from '../db/fanout';

/**
 * Prometheus metrics of one process, in a registry of their own (tests run several apps). The
 * table of them, with what each means, is in docs/operations.md ("Metrics"); the alerts and the
 * dashboard that read them are in deploy/ (test/ops/ checks that every name they use is here).
 */
export interface Metrics {
  registry: Registry;
  callbacks: Counter<'provider' | 'verdict'>;
  ingestSeconds: Histogram<'provider'>;
  transitions: Counter<'provider' | 'from' | 'to'>;
  deliveryAttempts: Counter<'result'>;
  /** How long each delivery attempt took, by the same result as deliveryAttempts. */
  deliverySeconds: Histogram<'result'>;
  /** Deliveries that died: retries exhausted, or the subscriber answered 410 Gone. */
  deadDeliveries: Counter<'reason'>;
  /** Status reports applied (duplicates left out), by the status they report. */
  reports: Counter<'provider' | 'status'>;
  /** Receive time minus the provider's occurred_at of each status report counted in `reports` (live ingest only). */
  reportLatency: Histogram<'provider'>;
  /** When the last callback of a configured provider and account was accepted, in Unix seconds. */
  lastCallback: Gauge<'provider' | 'account'>;
  /** Sends registered (POST /v1/messages), by configured provider and account. */
  registrations: Counter<'provider' | 'account'>;
  /** Messages found stale by this process's sweep (no final report within the account's finalAfterSeconds). */
  staleMessages: Counter<'provider' | 'account'>;
  /** Subscriptions the worker disabled: `failing` (only failures for delivery.disableAfterFailingSeconds) or `gone` (410). */
  subscriptionsDisabled: Counter<'reason'>;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** A delivery attempt: loopback answers in a millisecond, a slow subscriber up to the request timeout (10 s by default). */
const DELIVERY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A provider's delay in reporting: from a second to a day (an SMS can stay pending on a handset that is off); the timeseries' buckets too. */
const REPORT_LATENCY_BUCKETS = [...LATENCY_BOUNDS];

export const DEAD_REASONS = ['retries_exhausted', 'gone'] as const;
export const DISABLE_REASONS = ['failing', 'gone'] as const;
export const ATTEMPT_RESULTS = ['success', 'failure', 'timeout', 'gone'] as const;

/** A reading of the pending deliveries older than this is not shared (a scrape reads them once for both gauges). */
const PENDING_READING_MS = 1000;

interface PendingReading {
  count: number;
  /** created_at of the oldest pending delivery, ms since the epoch; null when none is pending. */
  oldest: number | null;
}

export function createMetrics(dbh: Db): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // The backlog and the age of its oldest row, read beside ingest (dbh.read: SQLite's read threads).
  // The count walks the pending range of deliveries_state_created (state, created_at), so it grows
  // with the backlog; the oldest is the first entry of that range whose subscription is enabled (a
  // disabled subscription's deliveries wait for good and would age the gauge for ever).
  // A scrape collects the backlog first (registration order): it reads, the age takes that reading.
  let reading: { at: number; value: Promise<PendingReading> } | null = null;
  const readPending = async (): Promise<PendingReading> => {
    const [count, oldest, later] = await Promise.all([
      dbh.read
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('state', '=', 'pending')
        .executeTakeFirst(),
      dbh.read
        .selectFrom('deliveries')
        .innerJoin('subscriptions', 'subscriptions.id', 'deliveries.subscription_id')
        .select('deliveries.created_at')
        .where('deliveries.state', '=', 'pending')
        .where('subscriptions.enabled', '=', 1)
        .orderBy('deliveries.created_at')
        .limit(1)
        .executeTakeFirst(),
      unexpanded(dbh.read), // events whose deliveries the worker has not made yet
    ]);
    const times = [oldest?.created_at, later.oldest].filter((t): t is string => typeof t === 'string').sort();
    return { count: Number(count?.n ?? 0) + later.count, oldest: times.length > 0 ? Date.parse(times[0]) : null };
  };
  new Gauge({
    name: 'dlr_outbox_backlog',
    help: 'Deliveries waiting to be sent (state pending, and those of events the worker has not fanned out yet)',
    registers: [registry],
    async collect() {
      const value = readPending();
      reading = { at: Date.now(), value };
      this.set((await value).count);
    },
  });
  new Gauge({
    name: 'dlr_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest pending delivery (now minus its created_at); 0 when none is pending',
    registers: [registry],
    async collect() {
      const shared = reading && Date.now() - reading.at < PENDING_READING_MS ? reading.value : null;
      reading = null;
      const { oldest } = await (shared ?? readPending());
      this.set(oldest === null || Number.isNaN(oldest) ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
    },
  });

  const deliveryAttempts = new Counter({
    name: 'dlr_delivery_attempts_total',
    help: 'Webhook delivery attempts by result',
    labelNames: ['result'],
    registers: [registry],
  });
  const deliverySeconds = new Histogram({
    name: 'dlr_delivery_duration_seconds',
    help: 'Duration of a webhook delivery attempt (request to answer, or to the error), by result',
    labelNames: ['result'],
    buckets: DELIVERY_BUCKETS,
    registers: [registry],
  });
  const deadDeliveries = new Counter({
    name: 'dlr_deliveries_dead_total',
    help: 'Deliveries that died: retries exhausted, or the subscriber answered 410 Gone',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Series of a few known values start at 0: Prometheus's increase() misses a series' first increment.
  for (const result of ATTEMPT_RESULTS) deliveryAttempts.inc({ result }, 0);
  for (const reason of DEAD_REASONS) deadDeliveries.inc({ reason }, 0);
  const subscriptionsDisabled = new Counter({
    name: 'dlr_subscriptions_disabled_total',
    help: 'Subscriptions the worker disabled: failing (only failed attempts for delivery.disableAfterFailingSeconds) or gone (the subscriber answered 410)',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of DISABLE_REASONS) subscriptionsDisabled.inc({ reason }, 0);

  return {
    registry,
    callbacks: new Counter({ name: 'dlr_callbacks_total', help: 'Provider callbacks by verdict', labelNames: ['provider', 'verdict'], registers: [registry] }),
    ingestSeconds: new Histogram({
      name: 'dlr_ingest_duration_seconds',
      help: 'Time from the request to its acknowledgement',
      labelNames: ['provider'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    transitions: new Counter({
      name: 'dlr_status_transitions_total',
      help: 'Message status changes',
      labelNames: ['provider', 'from', 'to'],
      registers: [registry],
    }),
    deliveryAttempts,
    deliverySeconds,
    deadDeliveries,
    subscriptionsDisabled,
    reports: new Counter({
      name: 'dlr_reports_total',
      help: 'Status reports applied, duplicates left out, by the status they report (unmapped: a code without a status)',
      labelNames: ['provider', 'status'],
      registers: [registry],
    }),
    reportLatency: new Histogram({
      name: 'dlr_report_latency_seconds',
      help: "Receive time minus the provider's occurred_at of a status report (negative clamped to 0)",
      labelNames: ['provider'],
      buckets: REPORT_LATENCY_BUCKETS,
      registers: [registry],
    }),
    lastCallback: new Gauge({
      name: 'dlr_last_callback_timestamp_seconds',
      help: 'When the last callback of a configured provider and account was accepted (Unix time)',
      labelNames: ['provider', 'account'],
      registers: [registry],
    }),
    registrations: new Counter({
      name: 'dlr_registrations_total',
      help: 'Sends registered through POST /v1/messages (provider and account unknown: not configured)',
      labelNames: ['provider', 'account'],
      registers: [registry],
    }),
    staleMessages: new Counter({
      name: 'dlr_messages_stale_total',
      help: "Messages found stale: no final report within the account's finalAfterSeconds (registered sends that never got a report included)",
      labelNames: ['provider', 'account'],
      registers: [registry],
    }),
  };
}

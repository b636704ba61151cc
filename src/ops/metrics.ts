import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/connect';

/** Prometheus metrics of one process, in a registry of their own (tests run several apps). */
export interface Metrics {
  registry: Registry;
  callbacks: Counter<'provider' | 'verdict'>;
  ingestSeconds: Histogram<'provider'>;
  transitions: Counter<'provider' | 'from' | 'to'>;
  deliveryAttempts: Counter<'result'>;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics(dbh: Db): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'dlr_outbox_backlog',
    help: 'Deliveries waiting to be sent (state pending)',
    registers: [registry],
    async collect() {
      const row = await dbh.db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('state', '=', 'pending')
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });
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
    deliveryAttempts: new Counter({
      name: 'dlr_delivery_attempts_total',
      help: 'Webhook delivery attempts by result',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

import type { Config } from './config/config';
import type { Db } from './db/connect';
import type { Logger } from './logger';
import type { Metrics } from './ops/metrics';

/** What every part of the service is handed: no module-level singletons. */
export interface AppContext {
  config: Config;
  dbh: Db;
  logger: Logger;
  metrics: Metrics;
  /** Set when this process runs an outbox worker: wakes it after an ingest queued deliveries. */
  wakeWorker?: () => void;
  /** Outbound GET used by verification (SNS certificates, subscription confirmation); tests replace it. */
  fetchText?: (url: string) => Promise<string>;
}

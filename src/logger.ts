import pino, { type DestinationStream, type Logger } from 'pino';
import { maskPersonalData, redactSecrets } from './util/mask';

export type { Logger };

/**
 * pino JSON logs. Every line passes through `redactSecrets` and `maskPersonalData` just before it is
 * written, so secrets, phone numbers and e-mail addresses never reach a log whatever logged them.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dlr-receiver' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: (line) => maskPersonalData(redactSecrets(line)) },
    },
    destination ?? pino.destination({ sync: false }),
  );
}

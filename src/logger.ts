import pino, { type DestinationStream, type Logger } from 'pino';
import { maskPersonalData } from './util/mask';

export type { Logger };

/**
 * pino JSON logs. Every line passes through `maskPersonalData` just before it is written, so phone
 * numbers and e-mail addresses are masked whatever logged them; secrets are redacted by path.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dlr-receiver' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization', '*.headers.authorization'],
        censor: '[redacted]',
      },
      hooks: { streamWrite: maskPersonalData },
    },
    destination ?? pino.destination({ sync: false }),
  );
}

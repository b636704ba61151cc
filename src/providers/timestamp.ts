import { SignatureInvalid } from '../errors';

/**
 * A signed timestamp (Unix seconds) must be within the account's tolerance of the time the request
 * was received — not of "now", so that a stored request replays with the verdict it had.
 */
export function checkTimestamp(value: string | undefined, receivedAt: Date, toleranceSeconds: number, what: string): number {
  if (value === undefined || !/^\d{1,12}(\.\d+)?$/.test(value)) throw new SignatureInvalid(`${what} is missing or not Unix seconds`);
  const seconds = Number(value);
  const skew = seconds - receivedAt.getTime() / 1000;
  if (skew < -toleranceSeconds)
    throw new SignatureInvalid(`${what} is ${Math.round(-skew)} s old, more than the ${toleranceSeconds} s tolerance (stale or replayed)`);
  if (skew > toleranceSeconds)
    throw new SignatureInvalid(`${what} is ${Math.round(skew)} s in the future, more than the ${toleranceSeconds} s tolerance (check the clocks)`);
  return seconds;
}

/** The setting a signed provider cannot work without: refuse rather than accept when it is missing. */
export function requiredSecret(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new SignatureInvalid(`this account has no ${name} configured, so nothing can be verified`);
  return value;
}

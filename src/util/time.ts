import { DateTime } from 'luxon';

/**
 * Parses a provider's local time (no zone in the string) in the given IANA zone and returns UTC.
 * China providers send `yyyy-MM-dd HH:mm:ss` (Aliyun, Tencent) or `yyyyMMddHHmmss` (Cloopen)
 * in Beijing time (providers.md, "Event times").
 */
export function parseLocalTime(value: string, format: string, zone: string): Date | null {
  const dt = DateTime.fromFormat(value.trim(), format, { zone });
  return dt.isValid ? dt.toJSDate() : null;
}

/** Tries each format in turn. */
export function parseLocalTimeAny(value: string, formats: readonly string[], zone: string): Date | null {
  for (const format of formats) {
    const parsed = parseLocalTime(value, format, zone);
    if (parsed) return parsed;
  }
  return null;
}

export function isValidZone(zone: string): boolean {
  return DateTime.local().setZone(zone).isValid;
}

/** ISO-8601 UTC with milliseconds: the one time format stored in the database (sorts as text). */
export function iso(date: Date): string {
  return date.toISOString();
}

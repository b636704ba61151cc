import { DateTime } from 'luxon';

/**
 * Parses a provider's local time (no zone in the string) in the given IANA zone and returns UTC.
 * China providers send `yyyy-MM-dd HH:mm:ss` (Aliyun, Tencent) or `yyyyMMddHHmmss` (Cloopen)
 * in Beijing time (providers.md, "Event times").
 */
export function parseLocalTime(value: string, format: string, zone: string): Date | null {
  const fast = FAST_FORMATS[format];
  if (fast) {
    // luxon's fromFormat compiles the format on every call; these two are most of the traffic.
    const m = fast.exec(value.trim());
    if (!m) return null;
    const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    if (minute > 59 || second > 59) return null;
    const offset = localOffset(zone, year, month, day, hour, minute < 30 ? 0 : 30);
    return offset === null ? null : new Date(Date.UTC(year, month - 1, day, hour, minute, second) - offset * 60_000);
  }
  const dt = DateTime.fromFormat(value.trim(), format, { zone });
  return dt.isValid ? dt.toJSDate() : null;
}

/**
 * The zone's UTC offset (minutes) for a local half hour, null for an invalid date. Asking luxon
 * (Intl) is slow beside the rest of a report's parsing (docs/performance.md), and reports come in
 * bursts from the same hours: cached per local half hour, the granularity of every zone's transitions (a time inside a DST gap, which does not exist,
 * may come out 30 minutes from where luxon would put it).
 */
const offsets = new Map<string, number | null>();
function localOffset(zone: string, year: number, month: number, day: number, hour: number, minute: 0 | 30): number | null {
  const key = `${zone}|${year}|${month}|${day}|${hour}|${minute}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const dt = DateTime.fromObject({ year, month, day, hour, minute }, { zone });
    offset = dt.isValid ? (Date.UTC(year, month - 1, day, hour, minute) - dt.toMillis()) / 60_000 : null;
    if (offsets.size >= 10_000) offsets.clear();
    offsets.set(key, offset);
  }
  return offset;
}

const FAST_FORMATS: Record<string, RegExp> = {
  'yyyy-MM-dd HH:mm:ss': /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/,
  yyyyMMddHHmmss: /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/,
};

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

const isoOfDate = new WeakMap<Date, string>();

/**
 * ISO-8601 UTC with milliseconds, the one time format stored in the database (sorts as text),
 * formatted once per Date object: the ingest path writes a report's time and the receive time
 * several times each (docs/performance.md). (Dates are never changed after they are made.)
 */
export function iso(date: Date): string {
  let text = isoOfDate.get(date);
  if (text === undefined) {
    text = date.toISOString();
    isoOfDate.set(date, text);
  }
  return text;
}

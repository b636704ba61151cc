import { parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js';

/**
 * The region a number written without a country code is read in: the service's providers are
 * mostly Chinese, and their reports carry national numbers (`13800138000`).
 */
export const DEFAULT_REGION: CountryCode = 'CN';

/**
 * A number's region is told by its leading digits (the country code, then for shared codes — +1,
 * +44, +7 — an area or mobile prefix within the next four or five digits) and its length (a number
 * too long or too short for its prefix is no valid number there): countryOf keeps what
 * libphonenumber-js said (12-14 µs a parse) per length and prefix of this many characters of the
 * number as stored, so the ingest path parses once per prefix, not per message. (Per prefix alone,
 * one number of the wrong length decided for the valid ones after it: 1,544 of 200,000 random
 * numbers were counted under another region than their own reading; per length and prefix, none of
 * 400,000. test/util/country.test.ts holds it to a fresh reading.)
 */
const PREFIX_CHARS = 9;
/** Text that may be a phone number: digits with an optional `+` and the usual punctuation. */
export const PHONE_LIKE = /^\+?[\d\s().-]{6,32}$/;
/** Prefixes remembered at most (a few hundred in practice); past it the memory starts over. */
const MAX_PREFIXES = 20_000;
const regions = new Map<string, string>();

/** The number as libphonenumber-js reads it: with its `+` or `00`, else in DEFAULT_REGION, else as if it had a `+`. */
export function readNumber(text: string, region: CountryCode = DEFAULT_REGION): PhoneNumber | undefined {
  const digits = text.replace(/\D/g, '');
  const international = text.startsWith('+') ? `+${digits}` : digits.startsWith('00') ? `+${digits.slice(2)}` : null;
  if (international) {
    const n = parsePhoneNumberFromString(international);
    return n?.isValid() || n?.isPossible() ? n : undefined;
  }
  // the second reading only when the first is not a valid number: a national number, the usual
  // case, is parsed once (50,000 numbers of mixed forms: 18-19 µs a number before, 12-14 µs)
  const national = parsePhoneNumberFromString(digits, region);
  if (national?.isValid()) return national;
  const plus = parsePhoneNumberFromString(`+${digits}`);
  if (plus?.isValid()) return plus;
  return national?.isPossible() ? national : plus?.isPossible() ? plus : undefined;
}

/**
 * The ISO region (`CN`, `US`, `GB`…) of a message's recipient, for the stats by destination; ''
 * for an e-mail address, an empty recipient, or a number whose region cannot be told.
 */
export function countryOf(recipient: string): string {
  if (recipient === '' || recipient.includes('@') || !PHONE_LIKE.test(recipient)) return '';
  const key = `${recipient.length}:${recipient.slice(0, PREFIX_CHARS)}`;
  let region = regions.get(key);
  if (region === undefined) {
    region = readNumber(recipient)?.country ?? '';
    if (regions.size >= MAX_PREFIXES) regions.clear();
    regions.set(key, region);
  }
  return region;
}

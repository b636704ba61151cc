import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { countryOf, PHONE_LIKE, readNumber } from '../../src/util/country';

/** Number-like texts: national, `+`, `00`, shared country codes and their area prefixes, of any length. */
const numberText = fc
  .tuple(
    fc.constantFrom('', '+', '00', '0', '010', '1', '13', '139', '86', '+86', '+1', '1415', '+1416', '44', '+44', '+447781', '7', '+7', '+590'),
    fc.stringMatching(/^[0-9]{0,13}$/),
  )
  .map(([p, d]) => p + d);

describe('countryOf (the destination a message is counted under)', () => {
  it.each([
    ['+8613800138000', 'CN'],
    ['13800138000', 'CN'], // national, read in the default region (Aliyun reports them so)
    ['8613800138000', 'CN'],
    ['+12025550123', 'US'],
    ['+14165550123', 'CA'], // +1 is shared: the area code tells
    ['+447400123456', 'GB'],
    ['+447781123456', 'GG'], // +44 is shared with the Crown Dependencies
    ['0044 7400 123456', 'GB'],
    ['+999123', ''],
    ['user@example.com', ''],
    ['', ''],
    ['not a number', ''],
  ])('%s → %s', (recipient, country) => {
    expect(countryOf(recipient)).toBe(country);
  });

  it('answers the same for a number whatever was asked before it (the memory is per length and prefix)', () => {
    for (const n of ['+14165550199', '+12025550199', '+14165550123']) expect(countryOf(n)).toBe(n.startsWith('+1416') ? 'CA' : 'US');
    // a number too long for its prefix does not speak for the valid ones (the memory is per prefix and length)
    expect(countryOf('+4477813881212')).toBe('');
    expect(countryOf('+447781842710')).toBe('GG');
  });

  it('remembers nothing that changes an answer: countryOf agrees with a fresh reading of each number', () => {
    fc.assert(
      fc.property(fc.array(numberText, { minLength: 1, maxLength: 50 }), (texts) => {
        for (const text of texts) expect(countryOf(text)).toBe(PHONE_LIKE.test(text) ? (readNumber(text)?.country ?? '') : '');
      }),
      { numRuns: 400 },
    );
  });

  it('reads a number as the rule says: valid in the default region, else valid with a +, else the first possible reading', () => {
    // the rule with both readings always made (readNumber makes the second only when the first is not valid)
    const rule = (text: string) => {
      const digits = text.replace(/\D/g, '');
      const international = text.startsWith('+') ? `+${digits}` : digits.startsWith('00') ? `+${digits.slice(2)}` : null;
      const readings = international
        ? [parsePhoneNumberFromString(international)]
        : [parsePhoneNumberFromString(digits, 'CN'), parsePhoneNumberFromString(`+${digits}`)];
      return readings.find((n) => n?.isValid()) ?? readings.find((n) => n?.isPossible());
    };
    fc.assert(
      fc.property(numberText, (text) => {
        const got = readNumber(text);
        const want = rule(text);
        expect(got?.number ?? null).toBe(want?.number ?? null);
        expect(got?.country ?? null).toBe(want?.country ?? null);
      }),
      { numRuns: 3000 },
    );
  });
});

import { countryOf } from '../../src/util/country';

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

  it('answers the same for a number whatever was asked before it (the memory is per prefix)', () => {
    for (const n of ['+14165550199', '+12025550199', '+14165550123']) expect(countryOf(n)).toBe(n.startsWith('+1416') ? 'CA' : 'US');
  });
});

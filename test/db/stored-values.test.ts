import fc from 'fast-check';
import { decodeTime } from 'ulid';
import { readValue, storedValue } from '../../src/db/stored-values';
import { ID_PREFIXES, newId } from '../../src/util/ids';

const ULID_CHARS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ulid = fc
  .tuple(fc.constantFrom(...'01234567'), fc.array(fc.constantFrom(...ULID_CHARS), { minLength: 25, maxLength: 25 }))
  .map(([first, rest]) => first + rest.join(''));
const id = fc.tuple(fc.constantFrom(...ID_PREFIXES), ulid).map(([p, u]) => `${p}_${u}`);
const time = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString());

function compare(a: Uint8Array | string, b: Uint8Array | string): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(a as Uint8Array, b as Uint8Array);
}

describe('ids and times as SQLite stores them', () => {
  it('stores an id in 17 bytes and a time in 7, and reads back the same text', () => {
    fc.assert(
      fc.property(fc.oneof(id, time), (text) => {
        const stored = storedValue(text) as Buffer;
        expect(Buffer.isBuffer(stored)).toBe(true);
        expect(stored.length).toBe(text.length === 30 ? 17 : 7);
        expect(readValue(stored)).toBe(text);
        expect(readValue(new Uint8Array(stored))).toBe(text); // as a read thread's rows arrive
      }),
    );
    expect(readValue(storedValue('2024-02-29T23:59:59.999Z'))).toBe('2024-02-29T23:59:59.999Z');
    const made = newId('msg');
    expect(readValue(storedValue(made))).toBe(made);
    expect(decodeTime((readValue(storedValue(made)) as string).slice(4))).toBe(decodeTime(made.slice(4)));
  });

  it('keeps the order of ids of one prefix and of times', () => {
    const same = (gen: fc.Arbitrary<string>) =>
      fc.property(gen, gen, (a, b) => {
        expect(Math.sign(compare(storedValue(a) as Buffer, storedValue(b) as Buffer))).toBe(Math.sign(compare(a, b)));
      });
    fc.assert(same(fc.tuple(ulid).map(([u]) => `msg_${u}`)));
    fc.assert(same(time));
  });

  it('leaves every other value as it is', () => {
    for (const other of [
      'msg_01m8x4k7w1w2pz6w09qhvgtchx', // lower case: not a form newId makes
      'msg_81M8X4K7W1W2PZ6W09QHVGTCHX', // past 128 bits
      'xyz_01M8X4K7W1W2PZ6W09QHVGTCHX',
      'msg-01M8X4K7W1W2PZ6W09QHVGTCHX',
      'msg_01M8X4K7W1W2PZ6W09QHVGTCHI', // I is not in the alphabet
      '2026-02-30T00:00:00.000Z', // no such day
      '2100-02-29T00:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-12-03T24:00:00.000Z',
      '2026-12-03T23:60:00.000Z',
      '2026-12-03 06:48:45.123Z',
      '2026-12-03T06:48:45.12aZ',
      '2026-12-03T06:48:45.123+0000',
      '1969-12-31T23:59:59.999Z',
      '2026-12-03T06',
      '',
      42,
      null,
    ]) {
      expect(storedValue(other)).toBe(other);
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        const stored = storedValue(s);
        expect(typeof stored === 'string' ? stored : readValue(stored)).toBe(s);
      }),
    );
    const body = Buffer.from([0x12, ...Array(16).fill(0)]);
    expect(readValue(Buffer.from('not seventeen'))).toEqual(Buffer.from('not seventeen'));
    expect(readValue(body)).not.toBe(body); // the shape of an id: read as one (so BYTES names data columns)
  });
});

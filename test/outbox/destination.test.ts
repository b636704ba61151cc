import { addressRange, isPrivateAddress, refusedDestination } from '../../src/outbox/destination';

// Pure classification: nothing here resolves a name or opens a connection.
describe('the SSRF guard for subscriber URLs', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    'not-an-ip',
  ])('treats %s as private', (ip) => expect(isPrivateAddress(ip)).toBe(true));
  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('treats %s as public', (ip) =>
    expect(isPrivateAddress(ip)).toBe(false),
  );

  describe('IPv6 forms that embed an IPv4 address, and other special ranges (#14 finding 10)', () => {
    it.each([
      // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291): the whole ::/96 is refused
      '::127.0.0.1',
      '::7f00:1',
      '::10.1.2.3',
      '::a01:203',
      '::169.254.169.254',
      '::192.168.1.1',
      '::8.8.8.8',
      // IPv4-mapped ::ffff:a.b.c.d: judged by the IPv4 address
      '::ffff:7f00:1',
      '::ffff:10.1.2.3',
      '::ffff:a01:203',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '::ffff:192.168.1.1',
      '::ffff:c0a8:101',
      '::ffff:0.0.0.0',
      // IPv4-translated ::ffff:0:a.b.c.d (SIIT, RFC 6145): the whole prefix is refused
      '::ffff:0:127.0.0.1',
      '::ffff:0:10.1.2.3',
      '::ffff:0:169.254.169.254',
      '::ffff:0:192.168.1.1',
      '::ffff:0:8.8.8.8',
      // NAT64 well-known prefix 64:ff9b::/96: judged by the IPv4 address in the low 32 bits
      '64:ff9b::127.0.0.1',
      '64:ff9b::7f00:1',
      '64:ff9b::10.1.2.3',
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::192.168.1.1',
      '64:ff9b::c000:201',
      // NAT64 local-use prefix 64:ff9b:1::/48: the whole prefix is refused (where the IPv4 sits is the operator's choice)
      '64:ff9b:1::7f00:1',
      '64:ff9b:1::a00:1',
      '64:ff9b:1::808:808',
      // 6to4 2002::/16 (IPv4 in bits 16-48; deprecated, RFC 7526): the whole prefix is refused
      '2002:7f00:1::1',
      '2002:a01:203::',
      '2002:a9fe:a9fe::1',
      '2002:c0a8:101::1',
      '2002:808:808::1',
      // Teredo 2001::/32: refused
      '2001::1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      // documentation, benchmarking, ORCHID, discard, site-local, unassigned
      '2001:db8::',
      '2001:db8::1',
      '3fff::1',
      '2001:2::1',
      '2001:20::1',
      '100::1',
      'fec0::1',
      '1::1',
      '4000::1',
      // IPv4 special ranges past the old table
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.9',
      '192.88.99.1',
      // a zone id, and forms that are not an address as node reads one
      'fe80::1%eth0',
      '2606:4700::1111%1',
      '0177.0.0.1',
      '127.1',
      '2130706433',
      '0x7f000001',
      '',
    ])('refuses %s', (ip) => expect(isPrivateAddress(ip)).toBe(true));

    it.each([
      '2606:4700::1111',
      '2606:4700:4700::1111',
      '2a00:1450:4001:82b::200e',
      '::ffff:8.8.8.8',
      '::ffff:808:808',
      '::FFFF:1.1.1.1',
      // NAT64 of 8.8.8.8: allowed, so an IPv6-only host behind DNS64 can still reach IPv4-only subscribers
      '64:ff9b::808:808',
      '64:ff9b::8.8.8.8',
    ])('allows %s', (ip) => expect(isPrivateAddress(ip)).toBe(false));

    it.each([
      ['10.1.2.3', 'private'],
      ['8.8.8.8', 'unicast'],
      ['::7f00:1', 'ipv4Compatible'],
      ['::ffff:10.1.2.3', 'ipv4Mapped of 10.1.2.3: private'],
      ['::ffff:0:8.8.8.8', 'rfc6145'],
      ['64:ff9b::a9fe:a9fe', 'rfc6052 of 169.254.169.254: linkLocal'],
      ['64:ff9b::808:808', 'unicast'],
      ['64:ff9b:1::808:808', 'rfc6052'],
      ['2002:a01:203::', '6to4'],
      ['2001::1', 'teredo'],
      ['2001:db8::1', 'reserved'],
      ['4000::1', 'outside global unicast 2000::/3'],
      ['fe80::1%eth0', 'scoped (zone id)'],
      ['127.1', 'not an IP address'],
    ])('names the range of %s: %s', (ip, range) => expect(addressRange(ip)).toBe(range));
  });

  const resolving = (answers: Record<string, string[]>) => (host: string) => {
    const a = answers[host];
    return a ? Promise.resolve(a) : Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
  };

  it('refuses a URL whose name resolves to any private address, unless private networks are allowed', async () => {
    const resolve = resolving({
      'hooks.example.com': ['93.184.216.34'],
      'sneaky.example.com': ['93.184.216.34', '10.0.0.5'],
      'mapped.example.com': ['::ffff:7f00:1'],
      'nat64.example.com': ['64:ff9b::a00:5'],
    });
    expect(await refusedDestination('https://hooks.example.com/x', false, { resolve })).toBeNull();
    expect(await refusedDestination('https://sneaky.example.com/x', false, { resolve })).toMatch(
      /resolves to 10\.0\.0\.5, a loopback, private or reserved address/,
    );
    expect(await refusedDestination('https://mapped.example.com/x', false, { resolve })).toMatch(
      /resolves to ::ffff:7f00:1, a loopback, private or reserved address/,
    );
    expect(await refusedDestination('https://nat64.example.com/x', false, { resolve })).toMatch(/resolves to 64:ff9b::a00:5, a loopback/);
    expect(await refusedDestination('http://127.0.0.1:8080/x', false, { resolve })).toMatch(/127\.0\.0\.1/);
    expect(await refusedDestination('http://[::1]:8080/x', false, { resolve })).toMatch(/::1/);
    // The URL parser writes the embedded forms in hex; they are refused all the same.
    expect(await refusedDestination('http://[::127.0.0.1]:8080/x', false, { resolve })).toMatch(/resolves to ::7f00:1, a loopback/);
    expect(await refusedDestination('http://[::ffff:0:127.0.0.1]:8080/x', false, { resolve })).toMatch(/resolves to ::ffff:0:7f00:1, a loopback/);
    expect(await refusedDestination('http://[2002:7f00:1::1]:8080/x', false, { resolve })).toMatch(/resolves to 2002:7f00:1::1, a loopback/);
    expect(await refusedDestination('http://127.0.0.1:8080/x', true, { resolve })).toBeNull();
  });

  it('refuses a name that does not resolve (or resolves to nothing) when delivering, and lets it be subscribed', async () => {
    const resolve = resolving({ 'empty.example.com': [] });
    expect(await refusedDestination('https://later.example.com/x', false, { resolve })).toMatch(/does not resolve \(ENOTFOUND\)/);
    expect(await refusedDestination('https://later.example.com/x', false, { resolve, unresolved: 'allow' })).toBeNull();
    expect(await refusedDestination('https://empty.example.com/x', false, { resolve })).toMatch(/does not resolve/);
  });
});

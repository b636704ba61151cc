import { isPrivateAddress, refusedDestination } from '../../src/outbox/destination';

describe('the SSRF guard for subscriber URLs', () => {
  it.each(['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fd00::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1', 'not-an-ip'])(
    'treats %s as private',
    (ip) => expect(isPrivateAddress(ip)).toBe(true),
  );
  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('treats %s as public', (ip) => expect(isPrivateAddress(ip)).toBe(false));

  const resolving = (answers: Record<string, string[]>) => async (host: string) => {
    const a = answers[host];
    if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return a;
  };

  it('refuses a URL whose name resolves to any private address, unless private networks are allowed', async () => {
    const resolve = resolving({ 'hooks.example.com': ['93.184.216.34'], 'sneaky.example.com': ['93.184.216.34', '10.0.0.5'] });
    expect(await refusedDestination('https://hooks.example.com/x', false, { resolve })).toBeNull();
    expect(await refusedDestination('https://sneaky.example.com/x', false, { resolve })).toMatch(/resolves to 10\.0\.0\.5, a loopback, private or reserved address/);
    expect(await refusedDestination('http://127.0.0.1:8080/x', false, { resolve })).toMatch(/127\.0\.0\.1/);
    expect(await refusedDestination('http://[::1]:8080/x', false, { resolve })).toMatch(/::1/);
    expect(await refusedDestination('http://127.0.0.1:8080/x', true, { resolve })).toBeNull();
  });

  it('refuses a name that does not resolve when delivering, and lets it be subscribed', async () => {
    const resolve = resolving({});
    expect(await refusedDestination('https://later.example.com/x', false, { resolve })).toMatch(/does not resolve \(ENOTFOUND\)/);
    expect(await refusedDestination('https://later.example.com/x', false, { resolve, unresolved: 'allow' })).toBeNull();
  });
});

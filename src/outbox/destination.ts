import dns from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF guard for subscriber URLs: unless `delivery.allowPrivateNetworks` is set, a subscriber
 * may not live on loopback, private, link-local, carrier-grade NAT, multicast or reserved
 * addresses — a subscription must not turn the service into a way into its own network.
 *
 * Addresses are classified by ipaddr.js: only its `unicast` range is public. On top of it:
 * - IPv4-mapped `::ffff:a.b.c.d` is judged by its IPv4 address (the kernel connects to that).
 * - NAT64 with the well-known prefix `64:ff9b::/96` (RFC 6052) is judged by the IPv4 address in
 *   its low 32 bits, so an IPv6-only host behind DNS64 still reaches IPv4-only subscribers
 *   (`64:ff9b::808:808` goes; `64:ff9b::a00:1` does not).
 * - Refused whole, whatever IPv4 address they carry (ipaddr calls them non-unicast, except the
 *   first): IPv4-compatible `::a.b.c.d` (deprecated, RFC 4291), SIIT `::ffff:0:a.b.c.d` (RFC 6145),
 *   the NAT64 local-use prefix `64:ff9b:1::/48` (RFC 8215: where the IPv4 address sits is the
 *   operator's choice), 6to4 `2002::/16` (deprecated, RFC 7526) and Teredo `2001::/32`.
 * - IPv6 outside global unicast `2000::/3` is refused (the rest is reserved or unassigned).
 * - A zone id (`fe80::1%eth0`) is refused: a scoped address is never public.
 * - Only the forms node's `net.isIP` reads as an address are addresses (`127.1` is not one).
 *
 * Checked when subscribing and before each delivery ({@link refusedDestination}: the friendly
 * early answer), and again on the address each connection actually uses ({@link publicOnlyLookup}),
 * which closes the gap of a DNS answer that changes in between.
 */
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/** An embedded IPv4 address is public when it is unicast; otherwise the reason names both. */
function embedded(kind: string, v4: ipaddr.IPv4): string {
  const range = v4.range();
  return range === 'unicast' ? 'unicast' : `${kind} of ${v4.toString()}: ${range}`;
}

/** ipaddr.js reads `::a.b.c.d` as `::ffff:a.b.c.d`; with the dotted tail in hex it reads it as written. */
function hexTail(address: string): string {
  return address.replace(
    /(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
    (_, a: string, b: string, c: string, d: string) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`,
  );
}

/**
 * The range an address is in: `unicast` for a public one, otherwise what it is (`private`,
 * `ipv4Mapped of 10.0.0.1: private`, `6to4`, `not an IP address`, …).
 */
export function addressRange(address: string): string {
  if (address.includes('%')) return 'scoped (zone id)';
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = family === 4 ? ipaddr.IPv4.parse(address) : ipaddr.IPv6.parse(hexTail(address));
  } catch {
    return 'not an IP address';
  }
  if (ip.kind() === 'ipv4') return ip.range();
  const v6 = ip as ipaddr.IPv6;
  const range: string = v6.range();
  if (range === 'ipv4Mapped') return embedded(range, v6.toIPv4Address());
  if (v6.match(NAT64_WELL_KNOWN)) return embedded(range, ipaddr.IPv4.parse(v6.toByteArray().slice(12).join('.')));
  if (range !== 'unicast') return range;
  if (v6.match(IPV4_COMPATIBLE)) return 'ipv4Compatible';
  if (!v6.match(GLOBAL_UNICAST)) return 'outside global unicast 2000::/3';
  return 'unicast';
}

/** True for an address a subscriber may not have. */
export function isPrivateAddress(address: string): boolean {
  return addressRange(address) !== 'unicast';
}

/** A delivery the guard refused: nothing was sent. */
export class DestinationRefusedError extends Error {
  override name = 'DestinationRefusedError';
}

function refusal(what: string): string {
  return `${what}, a loopback, private or reserved address (set delivery.allowPrivateNetworks to allow it)`;
}

/** Why connecting to the address literal `host` is refused, or null when it may go (a URL's hostname, brackets and all). */
export function refusedAddressLiteral(host: string): string | null {
  const address = host.replace(/^\[|\]$/g, '');
  return isIP(address) && isPrivateAddress(address) ? refusal(`${address} resolves to ${address}`) : null;
}

/**
 * `dns.lookup` for connections (an agent's `lookup`): the addresses the connection will use are
 * resolved here, and if any is not public the connection fails with a {@link DestinationRefusedError}
 * before it is opened. Answers both forms node asks for (`all: true` when it tries several
 * addresses, as Node 20's agents do by default; one address otherwise). Node does not call it for
 * an address literal: see {@link refusedAddressLiteral}.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    const fail = callback as (err: NodeJS.ErrnoException) => void;
    if (err) return fail(err);
    if (addresses.length === 0) return fail(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }));
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return fail(new DestinationRefusedError(refusal(`${hostname} resolved to ${bad.address} when connecting`)));
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  });
};

export type Lookup = (host: string) => Promise<string[]>;
const systemLookup: Lookup = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Why a delivery to `url` is refused, or null when it may go. Every address the host resolves to
 * must be public. A name that does not resolve is refused unless `unresolved: 'allow'` (when
 * subscribing: its DNS may come later; every delivery checks again). The request resolves the name
 * again, and that answer is checked too ({@link publicOnlyLookup}).
 */
export async function refusedDestination(
  url: string,
  allowPrivateNetworks: boolean,
  opts: { unresolved?: 'allow' | 'refuse'; resolve?: Lookup } = {},
): Promise<string | null> {
  if (allowPrivateNetworks) return null;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await (opts.resolve ?? systemLookup)(host);
    if (addresses.length === 0) throw Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' });
  } catch (err) {
    return opts.unresolved === 'allow' ? null : `${host} does not resolve (${(err as { code?: string }).code ?? (err as Error).message})`;
  }
  const bad = addresses.find(isPrivateAddress);
  return bad ? refusal(`${host} resolves to ${bad}`) : null;
}

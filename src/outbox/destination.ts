import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * The SSRF guard for subscriber URLs: unless `delivery.allowPrivateNetworks` is set, a subscriber
 * may not live on loopback, private, link-local, carrier-grade NAT, multicast or reserved
 * addresses — a subscription must not turn the service into a way into its own network.
 */
const refused = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  refused.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  refused.addSubnet(net, prefix, 'ipv6');
}

/** True for an address a subscriber may not have (IPv4-mapped IPv6 judged by its IPv4 part). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return refused.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return refused.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export type Lookup = (host: string) => Promise<string[]>;
const systemLookup: Lookup = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Why a delivery to `url` is refused, or null when it may go. Every address the host resolves to
 * must be public. A name that does not resolve is refused unless `unresolved: 'allow'` (when
 * subscribing: its DNS may come later; every delivery checks again). The request resolves the name
 * again; a DNS answer that changes in between is not caught here.
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
  } catch (err) {
    return opts.unresolved === 'allow' ? null : `${host} does not resolve (${(err as { code?: string }).code ?? (err as Error).message})`;
  }
  const bad = addresses.find(isPrivateAddress);
  return bad ? `${host} resolves to ${bad}, a loopback, private or reserved address (set delivery.allowPrivateNetworks to allow it)` : null;
}

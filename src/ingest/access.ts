import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { AccountConfig } from '../config/config';
import { SignatureInvalid } from '../errors';
import type { RawCallback } from '../raw/types';
import { matchesSecret } from '../util/safe-equal';

const allowLists = new WeakMap<string[], BlockList>();

function allowList(cidrs: string[]): BlockList {
  let list = allowLists.get(cidrs);
  if (!list) {
    list = new BlockList();
    for (const cidr of cidrs) {
      const [address, bits] = cidr.split('/') as [string, string | undefined];
      const type = address.includes(':') ? 'ipv6' : 'ipv4';
      if (bits === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(bits), type);
    }
    allowLists.set(cidrs, list);
  }
  return list;
}

function clientAllowed(address: string, cidrs: string[]): boolean {
  const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv4(plain)) return allowList(cidrs).check(plain, 'ipv4');
  if (isIPv6(plain)) return allowList(cidrs).check(plain, 'ipv6');
  return false;
}

/**
 * The protections of an account, checked before the provider's own signature: `allowIps`
 * (client address after trusted proxies) and `token` (the `?token=` of the callback URL).
 * For providers that sign nothing these are the only authentication.
 */
export function checkAccountProtection(raw: RawCallback, account: AccountConfig): void {
  if (account.allowIps && account.allowIps.length > 0 && !clientAllowed(raw.remoteAddr, account.allowIps)) {
    throw new SignatureInvalid(`client address ${raw.remoteAddr} is not in this account's allowIps`);
  }
  if (account.token !== undefined) {
    const query = raw.url.includes('?') ? raw.url.slice(raw.url.indexOf('?') + 1) : '';
    const given = new URLSearchParams(query).get('token');
    if (given === null) throw new SignatureInvalid('this account requires ?token= in the callback URL');
    if (!matchesSecret(given, account.token)) throw new SignatureInvalid('the ?token= of the callback URL does not match');
  }
}

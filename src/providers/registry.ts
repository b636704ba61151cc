import { aliyun } from './aliyun';
import { ronglian } from './ronglian';
import { tencent } from './tencent';
import type { Provider } from './types';

/** The one table of providers: adding a provider is adding its folder and one line here. */
const PROVIDERS: ReadonlyMap<string, Provider> = new Map([aliyun, tencent, ronglian].map((p) => [p.name, p]));

export function findProvider(name: string): Provider | undefined {
  return PROVIDERS.get(name);
}

export function providerNames(): string[] {
  return [...PROVIDERS.keys()];
}

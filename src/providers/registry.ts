import { aliyun } from './aliyun';
import { awsSms } from './aws-sms';
import { mailgun } from './mailgun';
import { ronglian } from './ronglian';
import { sendgrid } from './sendgrid';
import { ses } from './ses';
import { tencent } from './tencent';
import { twilio } from './twilio';
import type { GenericDefinition } from './generic/definition';
import { createGenericProvider } from './generic';
import type { Provider } from './types';

/** The one table of providers: adding a provider is adding its folder and one line here. */
const PROVIDERS: ReadonlyMap<string, Provider> = new Map([aliyun, tencent, ronglian, twilio, sendgrid, mailgun, ses, awsSms].map((p) => [p.name, p]));

const generic = new WeakMap<GenericDefinition, Provider>();

/** A built-in provider, or one the configuration defines (kind "generic", compiled: config.providers). */
export function findProvider(name: string, configured?: Readonly<Record<string, { generic?: GenericDefinition }>>): Provider | undefined {
  const builtIn = PROVIDERS.get(name);
  if (builtIn || !configured || !Object.hasOwn(configured, name)) return builtIn;
  const def = configured[name].generic;
  if (!def) return undefined;
  let provider = generic.get(def);
  if (!provider) {
    provider = createGenericProvider(def);
    generic.set(def, provider);
  }
  return provider;
}

export function providerNames(): string[] {
  return [...PROVIDERS.keys()];
}

/** The built-in providers, in the registry's order. */
export function builtInProviders(): Provider[] {
  return [...PROVIDERS.values()];
}

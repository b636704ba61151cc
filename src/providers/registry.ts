import { aliyun } from './aliyun';
import { mailgun } from './mailgun';
import { ronglian } from './ronglian';
import { sendgrid } from './sendgrid';
import { ses } from './ses';
import { tencent } from './tencent';
import { twilio } from './twilio';
import type { Provider } from './types';

/** The one table of providers: adding a provider is adding its folder and one line here. */
const PROVIDERS: ReadonlyMap<string, Provider> = new Map([aliyun, tencent, ronglian, twilio, sendgrid, mailgun, ses].map((p) => [p.name, p]));

export function findProvider(name: string): Provider | undefined {
  return PROVIDERS.get(name);
}

export function providerNames(): string[] {
  return [...PROVIDERS.keys()];
}

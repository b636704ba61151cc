import type { StatusEvent } from '../status/types';

/** A subscription's filter; every list that is set must contain the event's value. */
export interface SubscriptionFilter {
  providers?: string[];
  channels?: string[];
  statuses?: string[];
  types?: string[];
}

function allows(list: string[] | undefined, value: string | undefined): boolean {
  if (!list || list.length === 0) return true;
  return value !== undefined && list.includes(value);
}

/** An engagement event has no status, so a `statuses` filter lets only status events through. */
export function matchesFilter(filter: SubscriptionFilter, event: StatusEvent): boolean {
  return (
    allows(filter.providers, event.provider) &&
    allows(filter.channels, event.channel) &&
    allows(filter.types, event.type) &&
    allows(filter.statuses, event.status ?? undefined)
  );
}

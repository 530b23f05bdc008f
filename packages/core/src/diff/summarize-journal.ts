import type { JournalEvent } from '../journal/journal-event.ts';

export interface JournalSummary {
  readonly events: number;
  readonly requests: number;
  /** Events by dependency, then by action. */
  readonly byDependency: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Per endpoint: requests and events. */
  readonly endpoints: ReadonlyArray<{ readonly endpoint: string; readonly requests: number; readonly events: number }>;
  /** The reasons given for blocked effects, most frequent first. */
  readonly blockedReasons: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
}

/** One journal at a glance: what each guard did, per dependency and action, per endpoint, and why things were blocked. */
export function summarizeJournal(events: readonly JournalEvent[]): JournalSummary {
  const byDependency: Record<string, Record<string, number>> = {};
  const endpoints = new Map<string, { requests: Set<string | null>; events: number }>();
  const reasons = new Map<string, number>();
  const requests = new Set<string | null>();
  for (const event of events) {
    const actions = (byDependency[event.dependency] ??= {});
    actions[event.action] = (actions[event.action] ?? 0) + 1;
    requests.add(event.requestId);
    const endpoint = event.method !== undefined && event.path !== undefined ? `${event.method} ${event.path.split('?')[0]}` : '(outside a request)';
    const entry = endpoints.get(endpoint) ?? { requests: new Set(), events: 0 };
    entry.requests.add(event.requestId);
    entry.events += 1;
    endpoints.set(endpoint, entry);
    if (event.action === 'blocked') reasons.set(event.reason, (reasons.get(event.reason) ?? 0) + 1);
  }
  return {
    events: events.length,
    requests: [...requests].filter((id) => id !== null).length,
    byDependency,
    endpoints: [...endpoints].map(([endpoint, entry]) => ({ endpoint, requests: entry.requests.size, events: entry.events })).sort((a, b) => b.events - a.events),
    blockedReasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
  };
}

import type { JournalEvent } from '../journal/journal-event.ts';
import { differOnlyInGeneratedIds, normalizeOperation, operationShape, type OperationNormalizer } from './normalize-operation.ts';

/** What the primary really did: writes and calls it made (`recorded`). */
const PRIMARY_EFFECTS = new Set(['recorded']);
/** What the mirror would have done: what it blocked, simulated, shadowed, replayed or let through. */
const MIRROR_EFFECTS = new Set(['blocked', 'simulated', 'shadowed', 'replayed', 'passed']);

/**
 * - `missing`: the primary did it, the mirror would not have.
 * - `extra`: the mirror would have done it, the primary did not.
 * - `other values`: the same statement or call, with other values.
 * - `another operation`: in its place, the mirror would have done something else.
 */
export type DifferenceKind = 'missing' | 'extra' | 'other values' | 'another operation';

export interface EffectDifference {
  readonly kind: DifferenceKind;
  readonly dependency: string;
  /** As journaled (volatile values still in). */
  readonly primary?: string;
  readonly mirror?: string;
}

export interface RequestDiff {
  readonly requestId: string | null;
  /** `METHOD /path` of the incoming request, when the journal knows it. */
  readonly endpoint: string;
  readonly primaryEffects: number;
  readonly mirrorEffects: number;
  readonly differences: readonly EffectDifference[];
}

export interface EndpointSummary {
  readonly endpoint: string;
  readonly requests: number;
  readonly differing: number;
}

export interface JournalDiff {
  /** Every request either journal has an effect for, in the primary's order, then the mirror's. */
  readonly requests: readonly RequestDiff[];
  readonly endpoints: readonly EndpointSummary[];
  /** How many requests differ. */
  readonly differing: number;
}

export interface DiffOptions {
  /** Passes over each operation (both sides) after the built-in blanking of volatile values. */
  readonly normalizers?: readonly OperationNormalizer[];
}

interface Effect {
  readonly dependency: string;
  readonly operation: string;
  readonly normalized: string;
  readonly shape: string;
}

const endpointOf = (event: JournalEvent): string | undefined => (event.method !== undefined && event.path !== undefined ? `${event.method} ${event.path.split('?')[0]}` : undefined);

function byRequest(events: readonly JournalEvent[], actions: ReadonlySet<string>, normalizers: readonly OperationNormalizer[]): Map<string | null, { effects: Effect[]; endpoint?: string }> {
  const grouped = new Map<string | null, { effects: Effect[]; endpoint?: string }>();
  for (const event of events) {
    let group = grouped.get(event.requestId);
    if (group === undefined) {
      group = { effects: [] };
      grouped.set(event.requestId, group);
    }
    if (group.endpoint === undefined) {
      const endpoint = endpointOf(event);
      if (endpoint !== undefined) group.endpoint = endpoint;
    }
    if (!actions.has(event.action)) continue;
    const normalized = normalizeOperation(event.operation, normalizers);
    group.effects.push({ dependency: event.dependency, operation: event.operation, normalized, shape: operationShape(normalized) });
  }
  return grouped;
}

/** Takes out of `list` the first effect `matches` accepts. */
function takeFirst(list: Effect[], matches: (effect: Effect) => boolean): Effect | undefined {
  const index = list.findIndex(matches);
  return index === -1 ? undefined : list.splice(index, 1)[0];
}

/** The differences between what the primary did and what the mirror would have done for one request. */
function diffEffects(primary: readonly Effect[], mirror: readonly Effect[]): EffectDifference[] {
  const differences: EffectDifference[] = [];
  for (const dependency of new Set([...primary, ...mirror].map((effect) => effect.dependency))) {
    const left = primary.filter((effect) => effect.dependency === dependency);
    const right = mirror.filter((effect) => effect.dependency === dependency);
    // The same effect on both sides, wherever it stands in the order.
    for (const effect of [...left]) {
      if (takeFirst(right, (other) => other.normalized === effect.normalized) !== undefined) left.splice(left.indexOf(effect), 1);
    }
    // The same but for ids the mirror generated (its simulated inserts) where the primary's database gave others.
    for (const effect of [...left]) {
      if (takeFirst(right, (other) => other.shape === effect.shape && differOnlyInGeneratedIds(effect.normalized, other.normalized)) !== undefined) left.splice(left.indexOf(effect), 1);
    }
    // The same statement or call with other values.
    for (const effect of [...left]) {
      const other = takeFirst(right, (candidate) => candidate.shape === effect.shape);
      if (other === undefined) continue;
      left.splice(left.indexOf(effect), 1);
      differences.push({ kind: 'other values', dependency, primary: effect.operation, mirror: other.operation });
    }
    // Left over on both sides: in order, the mirror would have done one thing in place of another.
    while (left.length > 0 && right.length > 0) {
      differences.push({ kind: 'another operation', dependency, primary: left.shift()!.operation, mirror: right.shift()!.operation });
    }
    for (const effect of left) differences.push({ kind: 'missing', dependency, primary: effect.operation });
    for (const effect of right) differences.push({ kind: 'extra', dependency, mirror: effect.operation });
  }
  return differences;
}

/**
 * Pairs a primary's journal (profile `record`: the writes it really made) with its mirror's (what it
 * blocked, simulated, shadowed and replayed) by request id, and reports per request and per
 * endpoint where the mirror would have written something different: another statement, other
 * values, a missing or an extra write, another outbound call. Volatile values are blanked first,
 * and ids the mirror generated (simulated inserts) stand for the primary's.
 */
export function diffJournals(primary: readonly JournalEvent[], mirror: readonly JournalEvent[], options: DiffOptions = {}): JournalDiff {
  const normalizers = options.normalizers ?? [];
  const left = byRequest(primary, PRIMARY_EFFECTS, normalizers);
  const right = byRequest(mirror, MIRROR_EFFECTS, normalizers);
  const requests: RequestDiff[] = [];
  for (const requestId of new Set([...left.keys(), ...right.keys()])) {
    const ours = left.get(requestId);
    const theirs = right.get(requestId);
    const primaryEffects = ours?.effects ?? [];
    const mirrorEffects = theirs?.effects ?? [];
    if (primaryEffects.length === 0 && mirrorEffects.length === 0) continue;
    requests.push({
      requestId,
      endpoint: ours?.endpoint ?? theirs?.endpoint ?? '(unknown endpoint)',
      primaryEffects: primaryEffects.length,
      mirrorEffects: mirrorEffects.length,
      differences: diffEffects(primaryEffects, mirrorEffects),
    });
  }
  const endpoints = new Map<string, { requests: number; differing: number }>();
  for (const request of requests) {
    const entry = endpoints.get(request.endpoint) ?? { requests: 0, differing: 0 };
    entry.requests += 1;
    if (request.differences.length > 0) entry.differing += 1;
    endpoints.set(request.endpoint, entry);
  }
  return {
    requests,
    endpoints: [...endpoints].map(([endpoint, counts]) => ({ endpoint, ...counts })).sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1)),
    differing: requests.filter((request) => request.differences.length > 0).length,
  };
}

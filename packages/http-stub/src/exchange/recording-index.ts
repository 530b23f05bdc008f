import { canonicalRequest, differences, matchKey, type CanonicalRequest, type RequestNormalizer } from './canonical-request.ts';
import type { RecordedExchange, RecordedRequest } from './exchange.ts';

export interface MatchOptions {
  /** Headers that must match too (lower-case names); by default none: volatile headers never decide. */
  readonly headers?: readonly string[];
  /** Passes over each canonical request (recorded and asked alike) to blank volatile fields. */
  readonly normalizers?: readonly RequestNormalizer[];
}

/** A recorded exchange near a request that had no match, and how it differs. */
export interface NearMiss {
  readonly exchange: RecordedExchange;
  readonly differences: readonly string[];
}

interface Indexed {
  readonly exchange: RecordedExchange;
  readonly canonical: CanonicalRequest;
  readonly key: string;
}

/**
 * The recorded exchanges, by incoming request id and canonical request. Identical calls within one
 * request are answered in recorded order: each take() moves a cursor; a call beyond the recorded
 * ones misses.
 */
export class RecordingIndex {
  readonly #matchHeaders: readonly string[];
  readonly #normalizers: readonly RequestNormalizer[];
  readonly #byRequest = new Map<string | null, Indexed[]>();
  /** The same entries by request id, then by match key, in recorded order. */
  readonly #byKey = new Map<string | null, Map<string, Indexed[]>>();
  readonly #served = new Map<string, number>();

  constructor(options: MatchOptions = {}) {
    this.#matchHeaders = (options.headers ?? []).map((name) => name.toLowerCase());
    this.#normalizers = options.normalizers ?? [];
  }

  canonical(request: RecordedRequest): CanonicalRequest {
    return canonicalRequest(request, this.#matchHeaders, this.#normalizers);
  }

  add(exchange: RecordedExchange): void {
    const canonical = this.canonical(exchange.request);
    const entry = { exchange, canonical, key: matchKey(canonical) };
    const list = this.#byRequest.get(exchange.requestId) ?? [];
    list.push(entry);
    this.#byRequest.set(exchange.requestId, list);
    const keys = this.#byKey.get(exchange.requestId) ?? new Map<string, Indexed[]>();
    const same = keys.get(entry.key);
    if (same === undefined) keys.set(entry.key, [entry]);
    else same.push(entry);
    this.#byKey.set(exchange.requestId, keys);
  }

  #candidates(requestId: string | null, key: string): readonly Indexed[] {
    return this.#byKey.get(requestId)?.get(key) ?? [];
  }

  /** How many exchanges were recorded under this request id. */
  count(requestId: string | null): number {
    return this.#byRequest.get(requestId)?.length ?? 0;
  }

  /** Whether anything was recorded under this request id. */
  has(requestId: string | null): boolean {
    return (this.#byRequest.get(requestId)?.length ?? 0) > 0;
  }

  /** The next recorded answer to this request within `requestId`, or undefined. */
  take(requestId: string | null, request: RecordedRequest): RecordedExchange | undefined {
    const key = matchKey(this.canonical(request));
    const candidates = this.#candidates(requestId, key);
    const cursor = `${requestId}\u0000${key}`;
    const served = this.#served.get(cursor) ?? 0;
    const next = candidates[served];
    if (next === undefined) return undefined;
    this.#served.set(cursor, served + 1);
    return next.exchange;
  }

  /** How many identical calls `requestId` recorded, and how many were answered already. */
  repeats(requestId: string | null, request: RecordedRequest): { readonly recorded: number; readonly served: number } {
    const key = matchKey(this.canonical(request));
    const recorded = this.#candidates(requestId, key).length;
    return { recorded, served: this.#served.get(`${requestId}\u0000${key}`) ?? 0 };
  }

  /** The recorded requests of `requestId` closest to `request` (fewest differences first). */
  nearest(requestId: string | null, request: RecordedRequest, count = 3): NearMiss[] {
    const asked = this.canonical(request);
    return (this.#byRequest.get(requestId) ?? [])
      .map(({ exchange, canonical }) => ({ exchange, differences: differences(asked, canonical) }))
      .sort((a, b) => a.differences.length - b.differences.length)
      .slice(0, count);
  }

  /** Every exchange, in the order added. */
  all(): RecordedExchange[] {
    return [...this.#byRequest.values()].flat().map(({ exchange }) => exchange);
  }
}

import { createJournal, MirrorGuardError, type Journal, type Redactor } from '@mirrorguard/core';
import type { RecordedExchange, RecordedRequest, RecordedResponse } from '../exchange/exchange.ts';
import { createExchangeRedactor, stubRedactor, type ExchangeRedactor, type RedactionOptions } from '../exchange/redact-exchange.ts';
import { RecordingIndex, type MatchOptions } from '../exchange/recording-index.ts';
import type { ExchangeStore } from '../store/exchange-store.ts';
import { noRecordingError } from './miss-error.ts';

/** A response to answer a replay miss with, instead of failing. */
export interface MissResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export interface StubEngineOptions {
  readonly mode: 'record' | 'replay';
  readonly store: ExchangeStore;
  readonly match?: MatchOptions;
  readonly redact?: RedactionOptions | Redactor;
  readonly onMiss?: 'error' | MissResponse;
  readonly allowHosts?: readonly string[];
  readonly journal?: Journal;
}

/** What replay does with one outbound request. */
export type ReplayDecision =
  | { readonly type: 'respond'; readonly response: RecordedResponse }
  | { readonly type: 'go-out' }
  | { readonly type: 'fail'; readonly error: MirrorGuardError };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Incoming requests whose recordings are kept indexed (with their replay cursors) at once. */
const MAX_INDEXED_REQUESTS = 10_000;
const describeRequest = (request: RecordedRequest): string => `${request.method} ${request.url}`;

/**
 * The decisions every interception path shares (undici's dispatch, node:http): what replay answers,
 * and how a recorded exchange is redacted, stored and journaled.
 */
export class StubEngine {
  readonly mode: 'record' | 'replay';
  readonly #options: StubEngineOptions;
  readonly #journal: Journal;
  readonly #redactor: ExchangeRedactor;
  readonly #allowHosts: ReadonlySet<string>;
  readonly #indexes = new Map<string | null, Promise<RecordingIndex>>();
  readonly #pending = new Set<Promise<void>>();

  constructor(options: StubEngineOptions) {
    if (options.mode !== 'record' && options.mode !== 'replay') {
      throw new MirrorGuardError('MG_ERR_HTTP_STUB_OPTIONS', `mode must be "record" or "replay", not ${JSON.stringify(options.mode)}`);
    }
    this.mode = options.mode;
    this.#options = options;
    // One redactor for the recordings, the journal and the errors.
    const redactor = stubRedactor(options.redact, options.journal);
    this.#redactor = createExchangeRedactor(redactor);
    this.#journal = options.journal ?? createJournal({ profile: options.mode === 'record' ? 'record' : 'mirror', redact: redactor });
    this.#allowHosts = new Set((options.allowHosts ?? []).map((host) => host.toLowerCase()));
    // A recording starts afresh: what an earlier run stored is not mixed with this one's.
    if (options.mode === 'record') options.store.beginRecording?.();
  }

  #indexFor(requestId: string | null): Promise<RecordingIndex> {
    let index = this.#indexes.get(requestId);
    if (index !== undefined) {
      // Most recently used last: eviction takes the request least recently served.
      this.#indexes.delete(requestId);
      this.#indexes.set(requestId, index);
    } else {
      index = this.#options.store.exchangesFor(requestId).then((exchanges) => {
        const built = new RecordingIndex(this.#options.match);
        for (const exchange of exchanges) this.#addTo(built, exchange);
        return built;
      });
      this.#indexes.set(requestId, index);
      // One index per incoming request: a long-running mirror forgets the oldest.
      if (this.#indexes.size > MAX_INDEXED_REQUESTS) this.#indexes.delete(this.#indexes.keys().next().value!);
    }
    return index;
  }

  /**
   * A stored exchange as matching sees it: its request redacted like a live one. A recording written
   * by this version is redacted already (redacting again changes nothing); an older or hand-written
   * one may hold secrets, which then neither decide a match nor reach a miss error.
   */
  #addTo(index: RecordingIndex, exchange: RecordedExchange): void {
    index.add({ ...exchange, request: this.#redactor.request(exchange.request) });
  }

  /** Replay: the recorded answer, the configured miss answer, a safe call to an allowed host, or a failure. Journaled. */
  async decide(requestId: string | null, live: RecordedRequest): Promise<ReplayDecision> {
    const request = this.#redactor.request(live);
    const operation = describeRequest(request);
    const index = await this.#indexFor(requestId);
    let hit = index.take(requestId, request);
    const { store } = this.#options;
    if (hit === undefined && store.waitForMore !== undefined) {
      // A live primary may not have made this call yet: wait for its exchanges, up to the store's bound.
      const deadline = Date.now() + (store.waitMs ?? 0);
      for (;;) {
        const known = index.count(requestId);
        const more = await store.waitForMore(requestId, known, deadline);
        if (more.length === 0) break;
        // Another call of the same request may have waited and added some of these meanwhile.
        for (const exchange of more.slice(index.count(requestId) - known)) this.#addTo(index, exchange);
        hit = index.take(requestId, request);
        if (hit !== undefined) break;
      }
    }
    if (hit !== undefined) {
      this.#journal.record({ dependency: 'http', action: 'replayed', operation, reason: `recorded answer ${hit.response.status}` });
      return { type: 'respond', response: hit.response };
    }
    const { onMiss } = this.#options;
    if (onMiss !== undefined && onMiss !== 'error') {
      this.#journal.record({ dependency: 'http', action: 'simulated', operation, reason: `no recording: configured answer ${onMiss.status}` });
      const headers = Object.entries(onMiss.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value] as const);
      return { type: 'respond', response: { status: onMiss.status, statusText: '', headers, body: Buffer.from(onMiss.body ?? '') } };
    }
    const url = new URL(request.url);
    if (this.#allowHosts.has(url.host.toLowerCase()) || this.#allowHosts.has(url.hostname.toLowerCase())) {
      if (SAFE_METHODS.has(request.method)) {
        this.#journal.record({ dependency: 'http', action: 'passed', operation, reason: 'no recording: a safe request to an allowed host' });
        return { type: 'go-out' };
      }
      const error = new MirrorGuardError('MG_ERR_HTTP_UNSAFE', `mirrorguard http-stub: ${operation} has no recording, and a ${request.method} never goes out in replay, whatever the host`);
      this.#journal.record({ dependency: 'http', action: 'blocked', operation, reason: error.message });
      return { type: 'fail', error };
    }
    this.#journal.record({ dependency: 'http', action: 'blocked', operation, reason: 'no recording' });
    return { type: 'fail', error: noRecordingError(request, requestId, index, this.#options.store.description, this.#redactor.redactor) };
  }

  /** Record: stores the exchange (redacted) and journals it. */
  record(requestId: string | null, request: RecordedRequest, response: RecordedResponse, startedAt: string, durationMs: number): void {
    const exchange = this.#redactor.exchange({ requestId, request, response, startedAt, durationMs: Math.round(durationMs * 1000) / 1000 });
    const stored = this.#options.store.record(exchange).catch((error: unknown) => {
      // The call was answered; that it could not be stored is journaled, never thrown at the app.
      this.#journal.record({ dependency: 'http', action: 'warned', operation: describeRequest(exchange.request), reason: `not stored in ${this.#options.store.description}: ${(error as Error).message}` });
    });
    this.#pending.add(stored);
    void stored.finally(() => this.#pending.delete(stored));
    this.#journal.record({ dependency: 'http', action: 'recorded', operation: describeRequest(exchange.request), reason: `answered ${response.status}` });
  }

  /** Waits for what is being stored, then closes the store. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    await this.#options.store.close();
  }
}

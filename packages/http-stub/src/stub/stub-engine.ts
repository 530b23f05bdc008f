import { createJournal, MirrorGuardError, type Journal, type Redactor, type RequestContext } from '@mirrorguard/core';
import type { IncomingRequest, RecordedExchange, RecordedRequest, RecordedResponse } from '../exchange/exchange.ts';
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
/** Headers by which a safe-looking request asks a server to act as another method. */
const METHOD_OVERRIDE_HEADERS = new Set(['x-http-method-override', 'x-http-method', 'x-method-override']);
/** Incoming requests whose recordings are kept indexed (with their replay cursors) at once. */
const MAX_INDEXED_REQUESTS = 10_000;
const describeRequest = (request: RecordedRequest): string => `${request.method} ${request.url}`;

/** The incoming request an exchange is bound to: its method and path when the caller's context has them. */
const incomingOf = (caller: RequestContext | undefined): IncomingRequest | null =>
  caller?.method !== undefined && caller.path !== undefined ? { method: caller.method.toUpperCase(), path: caller.path } : null;

/** Whether a recorded exchange may answer a call of `incoming`'s request (unbound entries of older files may). */
const boundTo = (exchange: RecordedExchange, incoming: IncomingRequest | null): boolean =>
  exchange.incoming === undefined ||
  (exchange.incoming === null ? incoming === null : incoming !== null && exchange.incoming.method === incoming.method && exchange.incoming.path === incoming.path);

/** How a call would be sent, where that differs from the request it is matched as. */
export interface SentAs {
  /** The method as the client sends it: HTTP methods are case-sensitive, and only GET, HEAD and OPTIONS in capitals are safe. */
  readonly method: string;
  /** Whether its headers announce a body (Content-Length, Transfer-Encoding), whether or not the stub could read it. */
  readonly announcesBody?: boolean;
}

/** Why a safe method would still act as another (a method override, an upgrade), or undefined. */
function methodOverride(request: RecordedRequest): string | undefined {
  // An upgraded connection (a WebSocket) carries whatever the two ends say next, unseen by the stub.
  if (request.headers.some(([name]) => name === 'upgrade')) return 'an upgrade header would turn the connection into a channel the stub does not see';
  const asAnother = ' could make the server act as another method';
  const header = request.headers.find(([name]) => METHOD_OVERRIDE_HEADERS.has(name));
  if (header !== undefined) return `the ${header[0]} header${asAnother}`;
  for (const name of new URL(request.url).searchParams.keys()) if (name.toLowerCase() === '_method') return `the ${name} query parameter${asAnother}`;
  // A body on a safe request is where a form's _method goes; a safe request has no use for one.
  if (request.body.length > 0) return `a body${asAnother}`;
  return undefined;
}

/** One incoming request's recordings as read so far: the index, and how many store entries it has read. */
interface Loaded {
  readonly index: RecordingIndex;
  read: number;
}
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
  readonly #indexes = new Map<string | null, Promise<Loaded>>();
  readonly #pending = new Set<Promise<void>>();
  #closed = false;

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
    // A recording starts afresh: what an earlier run stored is not mixed with this one's. A replay
    // checks its store now: a missing or unreadable recording fails start-up, not each call.
    if (options.mode === 'record') options.store.beginRecording?.();
    else options.store.beginReplay?.();
  }

  #indexFor(requestId: string | null): Promise<Loaded> {
    let loaded = this.#indexes.get(requestId);
    if (loaded !== undefined) {
      // Most recently used last: eviction takes the request least recently served.
      this.#indexes.delete(requestId);
      this.#indexes.set(requestId, loaded);
    } else {
      loaded = this.#options.store.exchangesFor(requestId).then((exchanges) => {
        const index = new RecordingIndex(this.#options.match);
        for (const exchange of exchanges) this.#addTo(index, exchange);
        return { index, read: exchanges.length };
      });
      this.#indexes.set(requestId, loaded);
      // A store that failed is asked again by the next call, not remembered as empty.
      loaded.catch(() => this.#indexes.get(requestId) === loaded && this.#indexes.delete(requestId));
      // One index per incoming request: a long-running mirror forgets the oldest.
      if (this.#indexes.size > MAX_INDEXED_REQUESTS) this.#indexes.delete(this.#indexes.keys().next().value!);
    }
    return loaded;
  }

  /** The next recorded answer to `request` that is bound to the caller's incoming request. */
  #take(loaded: Loaded, requestId: string | null, request: RecordedRequest, incoming: IncomingRequest | null): RecordedExchange | undefined {
    for (;;) {
      const hit = loaded.index.take(requestId, request);
      if (hit === undefined || boundTo(hit, incoming)) return hit;
      this.#journal.record({ dependency: 'http', action: 'warned', operation: describeRequest(request), reason: 'a recorded answer made for another incoming request (a colliding or forged request id) was refused' });
    }
  }

  /**
   * The caller's request id, or null (outside any request) when the stub's redactor would change it:
   * an id in a secret's shape (the defaults are refused when the id is read; these are your own
   * `values`) is never written into a recording or a pairing key, and so is never paired.
   */
  #requestIdOf(caller: RequestContext | undefined): string | null {
    const id = caller?.requestId;
    return id === undefined || this.#redactor.redactor(id) !== id ? null : id;
  }

  /** Whether the stub was disposed: a replay stub refuses every call from then on. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Refuses a call the stub cannot or will not answer (journaled as blocked), with `error`. */
  refuse(operation: string, error: MirrorGuardError): { readonly type: 'fail'; readonly error: MirrorGuardError } {
    this.#journal.record({ dependency: 'http', action: 'blocked', operation, reason: error.message });
    return { type: 'fail', error };
  }

  /** Journals a weakness the stub found and carried on with. */
  warn(operation: string, reason: string): void {
    this.#journal.record({ dependency: 'http', action: 'warned', operation, reason });
  }

  /**
   * A stored exchange as matching sees it: its request and incoming path redacted like a live one. A recording written
   * by this version is redacted already (redacting again changes nothing); an older or hand-written
   * one may hold secrets, which then neither decide a match nor reach a miss error.
   */
  #addTo(index: RecordingIndex, exchange: RecordedExchange): void {
    index.add({ ...exchange, ...(exchange.incoming !== undefined && { incoming: this.#redactor.incoming(exchange.incoming) }), request: this.#redactor.request(exchange.request) });
  }

  /** Replay: the recorded answer, the configured miss answer, a safe call to an allowed host, or a failure. Journaled. */
  async decide(caller: RequestContext | undefined, live: RecordedRequest, sent: SentAs = live): Promise<ReplayDecision> {
    const request = this.#redactor.request(live);
    const operation = describeRequest(request);
    if (this.#closed) {
      return this.refuse(operation, new MirrorGuardError('MG_ERR_HTTP_STUB_CLOSED', `mirrorguard http-stub: ${operation} reached a replay stub after its dispose(): a closed replay stub refuses every call`));
    }
    if (!URL.canParse(request.url)) {
      // A CONNECT names an authority, not a URL: nothing recorded can answer it, and it never goes out.
      return this.refuse(operation, new MirrorGuardError('MG_ERR_HTTP_UNREADABLE', `mirrorguard http-stub: ${operation} names no URL the stub can match, and it never goes out in replay`));
    }
    const requestId = this.#requestIdOf(caller);
    const incoming = this.#redactor.incoming(incomingOf(caller));
    const { store } = this.#options;
    let hit: RecordedExchange | undefined;
    let index: RecordingIndex;
    try {
      const loaded = await this.#indexFor(requestId);
      index = loaded.index;
      hit = this.#take(loaded, requestId, request, incoming);
      if (hit === undefined && store.waitForMore !== undefined) {
        // A live primary may not have made this call yet: wait for its exchanges, up to the store's bound.
        const deadline = Date.now() + (store.waitMs ?? 0);
        while (hit === undefined && Date.now() < deadline) {
          const known = loaded.read;
          const more = await store.waitForMore(requestId, known, deadline);
          if (more.length === 0) break;
          // Another call of the same request may have waited and read some of these meanwhile.
          const fresh = more.slice(loaded.read - known);
          loaded.read += fresh.length;
          for (const exchange of fresh) this.#addTo(index, exchange);
          hit = this.#take(loaded, requestId, request, incoming);
        }
      }
    } catch (error) {
      const failure =
        error instanceof MirrorGuardError ? error : new MirrorGuardError('MG_ERR_HTTP_STORE_UNAVAILABLE', `mirrorguard http-stub: ${store.description} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      this.#journal.record({ dependency: 'http', action: 'blocked', operation, reason: failure.message });
      return { type: 'fail', error: failure };
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
      const safe = SAFE_METHODS.has(sent.method);
      // A GET's body never reaches a parsed Request (fetch's rules), so its headers have to say it.
      const override = safe ? (methodOverride(live) ?? (sent.announcesBody === true ? 'a body could make the server act as another method' : undefined)) : undefined;
      if (safe && override === undefined) {
        this.#journal.record({ dependency: 'http', action: 'passed', operation, reason: 'no recording: a safe request to an allowed host' });
        return { type: 'go-out' };
      }
      const error = new MirrorGuardError(
        'MG_ERR_HTTP_UNSAFE',
        override === undefined
          ? `mirrorguard http-stub: ${operation} has no recording, and a ${sent.method} never goes out in replay, whatever the host`
          : `mirrorguard http-stub: ${operation} has no recording, and it does not go out: ${override}`,
      );
      this.#journal.record({ dependency: 'http', action: 'blocked', operation, reason: error.message });
      return { type: 'fail', error };
    }
    this.#journal.record({ dependency: 'http', action: 'blocked', operation, reason: 'no recording' });
    return { type: 'fail', error: noRecordingError(request, requestId, index, this.#options.store.description, this.#redactor.redactor) };
  }

  /** Record: stores the exchange (redacted), bound to the caller's incoming request, and journals it. */
  record(caller: RequestContext | undefined, request: RecordedRequest, response: RecordedResponse, startedAt: string, durationMs: number): void {
    const exchange = this.#redactor.exchange({
      requestId: this.#requestIdOf(caller),
      incoming: incomingOf(caller),
      request,
      response,
      startedAt,
      durationMs: Math.round(durationMs * 1000) / 1000,
    });
    const stored = this.#options.store.record(exchange).catch((error: unknown) => {
      // The call was answered; that it could not be stored is journaled, never thrown at the app.
      this.#journal.record({ dependency: 'http', action: 'warned', operation: describeRequest(exchange.request), reason: `not stored in ${this.#options.store.description}: ${(error as Error).message}` });
    });
    this.#pending.add(stored);
    void stored.finally(() => this.#pending.delete(stored));
    this.#journal.record({ dependency: 'http', action: 'recorded', operation: describeRequest(exchange.request), reason: `answered ${response.status}` });
  }

  /** From now on, replay refuses every call (`MG_ERR_HTTP_STUB_CLOSED`); decisions under way finish. */
  stopAnswering(): void {
    this.#closed = true;
  }

  /** Refuses every new call, waits for what is being stored, then closes the store. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    await this.#options.store.close();
  }
}

import { createJournal, getRequestContext, MirrorGuardError, type Journal } from '@mirrorguard/core';
import { Agent, type Dispatcher } from 'undici';
import type { RecordedRequest, RecordedResponse } from '../exchange/exchange.ts';
import { createRedactor, type RedactionOptions } from '../exchange/redact-exchange.ts';
import { RecordingIndex, type MatchOptions } from '../exchange/recording-index.ts';
import { readRequestBody, requestHeaders } from '../dispatch/request-parts.ts';
import { asHandler, recordingHandler, reject, respond, type Handler } from '../dispatch/response-handler.ts';
import type { ExchangeStore } from '../store/exchange-store.ts';
import { installGlobalDispatcher } from './install-global.ts';
import { noRecordingError } from './miss-error.ts';

/** A response to answer a replay miss with, instead of failing. */
export interface MissResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export interface HttpStubOptions {
  /** `record`: calls go out and are stored; `replay`: calls are answered from the store and never go out. */
  readonly mode: 'record' | 'replay';
  readonly store: ExchangeStore;
  /** What must match besides method, URL (query in any order) and body (JSON compared canonically). */
  readonly match?: MatchOptions;
  /** What is hidden before anything is stored (default secret headers always). */
  readonly redact?: RedactionOptions;
  /** Replay: answer a miss with this response instead of failing with MG_ERR_HTTP_NO_RECORDING. */
  readonly onMiss?: 'error' | MissResponse;
  /** Replay: on a miss, safe requests (GET, HEAD, OPTIONS) to these hosts go out for real. Unsafe ones never do. */
  readonly allowHosts?: readonly string[];
  /** Where each exchange is journaled (recorded, replayed, passed, blocked). */
  readonly journal?: Journal;
  /** Where calls that do go out are sent; a new undici `Agent` by default. */
  readonly dispatcher?: Dispatcher;
}

export interface HttpStub {
  /** An undici dispatcher with the stub in front: pass it per call or per client. */
  readonly dispatcher: Dispatcher;
  /** Puts the stub in front of the whole process: Node's fetch, and npm undici's fetch and request. */
  install(): void;
  /** Takes the stub out of the process again, exactly as it was, and writes what was recorded. */
  dispose(): Promise<void>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const describeRequest = (request: RecordedRequest): string => `${request.method} ${request.url}`;

/**
 * Record and replay of outbound HTTP, as an undici interceptor (`Dispatcher.compose`). Each call is
 * keyed by the incoming request it is made for (`@mirrorguard/core`'s request id): the primary
 * records under that id, the mirror replays what the primary got for the same id.
 */
export function createHttpStub(options: HttpStubOptions): HttpStub {
  if (options.mode !== 'record' && options.mode !== 'replay') {
    throw new MirrorGuardError('MG_ERR_HTTP_STUB_OPTIONS', `mode must be "record" or "replay", not ${JSON.stringify(options.mode)}`);
  }
  const { mode, store } = options;
  const journal = options.journal ?? createJournal({ profile: mode === 'record' ? 'record' : 'mirror' });
  const redactor = createRedactor(options.redact);
  const allowHosts = new Set((options.allowHosts ?? []).map((host) => host.toLowerCase()));
  const ownsInner = options.dispatcher === undefined;
  const inner = options.dispatcher ?? new Agent();
  const indexes = new Map<string | null, Promise<RecordingIndex>>();
  const indexFor = (requestId: string | null): Promise<RecordingIndex> => {
    let index = indexes.get(requestId);
    if (index === undefined) {
      index = store.exchangesFor(requestId).then((exchanges) => {
        const built = new RecordingIndex(options.match);
        for (const exchange of exchanges) built.add(exchange);
        return built;
      });
      indexes.set(requestId, index);
    }
    return index;
  };
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<void>): void => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };

  async function handle(opts: Dispatcher.DispatchOptions, handler: Handler, dispatch: Dispatcher['dispatch'], requestId: string | null): Promise<void> {
    const method = (opts.method ?? 'GET').toUpperCase();
    const url = new URL(opts.path, opts.origin ?? undefined).toString();
    const body = await readRequestBody(opts.body);
    const request: RecordedRequest = { method, url, headers: requestHeaders(opts.headers), body };
    const sendOn = { ...opts, body: opts.body === null || opts.body === undefined ? opts.body : body } as Dispatcher.DispatchOptions;
    if (mode === 'record') {
      const startedAt = new Date().toISOString();
      const started = performance.now();
      dispatch(
        sendOn,
        recordingHandler(handler, (response: RecordedResponse) => {
          const exchange = redactor.exchange({ requestId, request, response, startedAt, durationMs: Math.round((performance.now() - started) * 1000) / 1000 });
          track(store.record(exchange));
          journal.record({ dependency: 'http', action: 'recorded', operation: describeRequest(exchange.request), reason: `answered ${response.status}` });
        }) as Dispatcher.DispatchHandler,
      );
      return;
    }
    const asked = redactor.request(request);
    const index = await indexFor(requestId);
    const hit = index.take(requestId, asked);
    if (hit !== undefined) {
      journal.record({ dependency: 'http', action: 'replayed', operation: describeRequest(asked), reason: `recorded answer ${hit.response.status}` });
      await respond(handler, method, hit.response);
      return;
    }
    if (options.onMiss !== undefined && options.onMiss !== 'error') {
      const { status, headers = {}, body: missBody = '' } = options.onMiss;
      journal.record({ dependency: 'http', action: 'simulated', operation: describeRequest(asked), reason: `no recording: configured answer ${status}` });
      const response = { status, statusText: '', headers: Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value] as const), body: Buffer.from(missBody) };
      await respond(handler, method, response);
      return;
    }
    const host = new URL(url).host.toLowerCase();
    if (allowHosts.has(host) || allowHosts.has(new URL(url).hostname.toLowerCase())) {
      if (SAFE_METHODS.has(method)) {
        journal.record({ dependency: 'http', action: 'passed', operation: describeRequest(asked), reason: 'no recording: a safe request to an allowed host' });
        dispatch(sendOn, handler as Dispatcher.DispatchHandler);
        return;
      }
      const error = new MirrorGuardError('MG_ERR_HTTP_UNSAFE', `mirrorguard http-stub: ${describeRequest(asked)} has no recording, and a ${method} never goes out in replay, whatever host`);
      journal.record({ dependency: 'http', action: 'blocked', operation: describeRequest(asked), reason: error.message });
      reject(handler, error);
      return;
    }
    const error = noRecordingError(asked, requestId, index, store.description);
    journal.record({ dependency: 'http', action: 'blocked', operation: describeRequest(asked), reason: 'no recording' });
    reject(handler, error);
  }

  const interceptor: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, rawHandler) => {
    const handler = asHandler(rawHandler as Handler);
    // The incoming request's id, read here, where the app's call is made.
    const requestId = getRequestContext()?.requestId ?? null;
    track(handle(opts, handler, dispatch, requestId).catch((error: unknown) => reject(handler, error as Error)));
    return true;
  };
  const dispatcher = inner.compose(interceptor);
  let uninstall: (() => void) | undefined;

  return {
    dispatcher,
    install() {
      uninstall ??= installGlobalDispatcher(dispatcher);
    },
    async dispose() {
      uninstall?.();
      uninstall = undefined;
      await Promise.allSettled([...pending]);
      await store.close();
      if (ownsInner) await inner.close();
    },
  };
}

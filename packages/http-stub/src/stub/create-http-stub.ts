import { bindRequestContext, getRequestContext, MirrorGuardError, type RequestContext } from '@mirrorguard/core';
import { Agent, type Dispatcher } from 'undici';
import type { RecordedRequest, RecordedResponse } from '../exchange/exchange.ts';
import { readRequestBody, requestHeaders } from '../dispatch/request-parts.ts';
import { asHandler, recordingHandler, reject, respond, type Handler } from '../dispatch/response-handler.ts';
import { installGlobalDispatcher } from './install-global.ts';
import { interceptNodeHttp } from './intercept-node-http.ts';
import { StubEngine, type StubEngineOptions } from './stub-engine.ts';

export type { MissResponse } from './stub-engine.ts';

export interface HttpStubOptions extends StubEngineOptions {
  /** Where calls that do go out are sent (record; safe calls to allowed hosts); a new undici `Agent` by default. */
  readonly dispatcher?: Dispatcher;
}

export interface HttpStub {
  /** An undici dispatcher with the stub in front: pass it per call or per client. */
  readonly dispatcher: Dispatcher;
  /**
   * The stub as an undici interceptor, for dispatchers the app builds itself (`new Agent().compose(stub.interceptor)`):
   * `install()` covers the process-wide dispatcher and node:http, not an Agent or Client the app made and passes per call.
   */
  readonly interceptor: Dispatcher.DispatcherComposeInterceptor;
  /** Puts the stub in front of the whole process: Node's fetch, npm undici's fetch and request, node:http and node:https. */
  install(): void;
  /** Takes the stub out of the process again, exactly as it was, and writes what was recorded. */
  dispose(): Promise<void>;
}

/** The absolute URL of a dispatch: its origin, then its path as it is (a path starting with "//" names no host). */
function requestUrl(opts: Dispatcher.DispatchOptions): string {
  return new URL(`${String(opts.origin ?? '').replace(/\/+$/, '')}${opts.path}`).toString();
}

/** The stub installed process-wide, if any: there can be one. */
let installedStub: HttpStub | undefined;

/**
 * Record and replay of outbound HTTP. Each call is keyed by the incoming request it is made for
 * (`@mirrorguard/core`'s request id): the primary records under that id, the mirror replays what
 * the primary got for the same id. undici's calls pass an interceptor (`Dispatcher.compose`);
 * node:http's pass `@mswjs/interceptors`, answered by the same engine.
 */
export function createHttpStub(options: HttpStubOptions): HttpStub {
  const engine = new StubEngine(options);
  const ownsInner = options.dispatcher === undefined;
  const inner = options.dispatcher ?? new Agent();
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<void>): void => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };

  async function handle(opts: Dispatcher.DispatchOptions, handler: Handler, dispatch: Dispatcher['dispatch'], caller: RequestContext | undefined): Promise<void> {
    const method = (opts.method ?? 'GET').toUpperCase();
    const { body, contentType } = await readRequestBody(opts.body);
    const given = requestHeaders(opts.headers);
    const headers = contentType === undefined || given.some(([name]) => name === 'content-type') ? given : [...given, ['content-type', contentType] as const];
    const request: RecordedRequest = { method, url: requestUrl(opts), headers, body };
    // The body was read to match it: what goes out is that copy (with the content type a FormData implies).
    const sendOn = {
      ...opts,
      body: opts.body === null || opts.body === undefined ? opts.body : body,
      ...(headers !== given && { headers: headers.flatMap(([name, value]) => [name, value]) }),
    } as Dispatcher.DispatchOptions;
    if (engine.mode === 'record') {
      const startedAt = new Date().toISOString();
      const started = performance.now();
      // Tracked until the response has ended (or failed), so dispose() waits for its recording.
      await new Promise<void>((settled) => {
        // The response arrives in the context of the socket's first user; the exchange is journaled
        // in the context of the request that made the call.
        const recorded = bindRequestContext((response: RecordedResponse) => {
          engine.record(caller, request, response, startedAt, performance.now() - started);
          settled();
        });
        const recorder = recordingHandler(handler, recorded, settled);
        dispatch(sendOn, recorder as Dispatcher.DispatchHandler);
      });
      return;
    }
    const decision = await engine.decide(caller, request);
    if (decision.type === 'respond') respond(handler, method, decision.response);
    else if (decision.type === 'go-out') dispatch(sendOn, handler as Dispatcher.DispatchHandler);
    else reject(handler, decision.error);
  }

  const interceptor: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, rawHandler) => {
    const handler = asHandler(rawHandler as Handler);
    // The incoming request, read here, where the app's call is made.
    const caller = getRequestContext();
    track(handle(opts, handler, dispatch, caller).catch((error: unknown) => reject(handler, error as Error)));
    return true;
  };
  const dispatcher = inner.compose(interceptor);
  let uninstall: Array<() => void> | undefined;

  const stub: HttpStub = {
    dispatcher,
    interceptor,
    install() {
      if (uninstall !== undefined) return;
      if (installedStub !== undefined) {
        throw new MirrorGuardError('MG_ERR_HTTP_STUB_OPTIONS', 'another http stub is installed in this process: dispose() it first (or pass each stub\'s dispatcher per client)');
      }
      // node:http first: if it cannot be taken over, nothing is changed.
      const undoNodeHttp = interceptNodeHttp(engine);
      uninstall = [installGlobalDispatcher(dispatcher), undoNodeHttp];
      installedStub = stub;
    },
    async dispose() {
      for (const undo of uninstall ?? []) undo();
      if (uninstall !== undefined) installedStub = undefined;
      uninstall = undefined;
      await Promise.allSettled([...pending]);
      // Calls still on their way out are answered (and recorded) before the store is closed.
      if (ownsInner) await inner.close();
      await engine.close();
    },
  };
  return stub;
}

import { getRequestContext } from '@mirrorguard/core';
import { Agent, type Dispatcher } from 'undici';
import type { RecordedRequest } from '../exchange/exchange.ts';
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
  /** Puts the stub in front of the whole process: Node's fetch, npm undici's fetch and request, node:http and node:https. */
  install(): void;
  /** Takes the stub out of the process again, exactly as it was, and writes what was recorded. */
  dispose(): Promise<void>;
}

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

  async function handle(opts: Dispatcher.DispatchOptions, handler: Handler, dispatch: Dispatcher['dispatch'], requestId: string | null): Promise<void> {
    const method = (opts.method ?? 'GET').toUpperCase();
    const body = await readRequestBody(opts.body);
    const request: RecordedRequest = { method, url: new URL(opts.path, opts.origin ?? undefined).toString(), headers: requestHeaders(opts.headers), body };
    // The body was read to match it: what goes out is that copy.
    const sendOn = { ...opts, body: opts.body === null || opts.body === undefined ? opts.body : body } as Dispatcher.DispatchOptions;
    if (engine.mode === 'record') {
      const startedAt = new Date().toISOString();
      const started = performance.now();
      const recorder = recordingHandler(handler, (response) => engine.record(requestId, request, response, startedAt, performance.now() - started));
      dispatch(sendOn, recorder as Dispatcher.DispatchHandler);
      return;
    }
    const decision = await engine.decide(requestId, request);
    if (decision.type === 'respond') await respond(handler, method, decision.response);
    else if (decision.type === 'go-out') dispatch(sendOn, handler as Dispatcher.DispatchHandler);
    else reject(handler, decision.error);
  }

  const interceptor: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, rawHandler) => {
    const handler = asHandler(rawHandler as Handler);
    // The incoming request's id, read here, where the app's call is made.
    const requestId = getRequestContext()?.requestId ?? null;
    track(handle(opts, handler, dispatch, requestId).catch((error: unknown) => reject(handler, error as Error)));
    return true;
  };
  const dispatcher = inner.compose(interceptor);
  let uninstall: Array<() => void> | undefined;

  return {
    dispatcher,
    install() {
      uninstall ??= [installGlobalDispatcher(dispatcher), interceptNodeHttp(engine)];
    },
    async dispose() {
      for (const undo of uninstall ?? []) undo();
      uninstall = undefined;
      await Promise.allSettled([...pending]);
      await engine.close();
      if (ownsInner) await inner.close();
    },
  };
}

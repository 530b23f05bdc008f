import { bindRequestContext, getRequestContext, MirrorGuardError, type RequestContext } from '@mirrorguard/core';
import { Agent, type Dispatcher } from 'undici';
import type { RecordedRequest, RecordedResponse } from '../exchange/exchange.ts';
import { readRequestBody, requestHeaders } from '../dispatch/request-parts.ts';
import { asHandler, recordingHandler, reject, respond, type Handler } from '../dispatch/response-handler.ts';
import { guardWorkers, type WorkerGuard } from './guard-workers.ts';
import { cannotHoldGlobalDispatcher, globalDispatcherHeld, holdGlobalDispatcher, releaseGlobalDispatcher, routeGlobalDispatcher } from './hold-global-dispatcher.ts';
import { interceptNodeHttp, type NodeHttpInterception } from './intercept-node-http.ts';
import { asOwnConnection } from './own-connection.ts';
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
  /**
   * Puts the stub in front of the whole process: Node's fetch, npm undici's fetch and request (both
   * global dispatcher symbols), node:http and node:https; in replay also worker threads, and the
   * global dispatcher symbols read-only for the rest of the process's life.
   */
  install(): void;
  /**
   * Waits for the calls under way, then closes the store (writing what was recorded). `record` takes
   * the stub out of the process first: the network is live again, the process's dispatcher as it
   * was. `replay` leaves it in and closed: from the start of dispose() on, every call is refused
   * with `MG_ERR_HTTP_STUB_CLOSED` — a server still answering requests while it shuts down never
   * reaches the network.
   */
  dispose(): Promise<void>;
  /**
   * Replay, after dispose(): takes the closed stub out, so that the process reaches the network
   * again (Node's fetch and undici through what was the process's dispatcher before install(),
   * node:http, workers). For test suites that run other profiles afterwards in the same process;
   * never needed by a mirror. Nothing to do in `record`.
   */
  reopenNetwork(): void;
}

/** The stub installed in this process, shared by every copy of this package: one at a time. */
const INSTALLED = Symbol.for('mirrorguard.http-stub.installed');
interface Installed {
  /** Whether it still answers (a closed replay stub stays installed, refusing, until another takes over). */
  readonly open: boolean;
  /** Takes a closed stub's node:http interception and worker guard out, for the stub taking over. */
  takeOut(): void;
}
const installedSlot = globalThis as unknown as Record<symbol, Installed | undefined>;

/** The absolute URL of a dispatch: its origin, then its path as it is (a path starting with "//" names no host). */
function requestUrl(opts: Dispatcher.DispatchOptions): string {
  return new URL(`${String(opts.origin ?? '').replace(/\/+$/, '')}${opts.path}`).toString();
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
  // Installed: what install() put in place, taken out again by dispose() (record) or reopenNetwork() (replay).
  let nodeHttp: NodeHttpInterception | undefined;
  let workers: WorkerGuard | undefined;
  let disposing: Promise<void> | undefined;
  // A call that goes out on the stub's own Agent is not caught, and decided, again at its socket.
  const sendOut = (dispatch: Dispatcher['dispatch'], opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean =>
    ownsInner && nodeHttp !== undefined ? asOwnConnection(() => dispatch(opts, handler)) : dispatch(opts, handler);

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
        sendOut(dispatch, sendOn, recorder as Dispatcher.DispatchHandler);
      });
      return;
    }
    // An upgrade (a WebSocket) is decided as the request it starts with, which says so in its headers.
    const decided = opts.upgrade ? { ...request, headers: [...headers, ['upgrade', String(opts.upgrade)] as const] } : request;
    const decision = await engine.decide(caller, decided, { method: opts.method ?? 'GET' });
    if (decision.type === 'respond') respond(handler, method, decision.response);
    else if (decision.type === 'go-out') sendOut(dispatch, sendOn, handler as Dispatcher.DispatchHandler);
    else reject(handler, decision.error);
  }

  const interceptor: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, rawHandler) => {
    // A closed recording stub is live: what the primary calls still goes out, no longer recorded.
    if (engine.closed && engine.mode === 'record') return dispatch(opts, rawHandler);
    const handler = asHandler(rawHandler as Handler);
    // The incoming request, read here, where the app's call is made.
    const caller = getRequestContext();
    track(handle(opts, handler, dispatch, caller).catch((error: unknown) => reject(handler, error as Error)));
    return true;
  };
  const dispatcher = inner.compose(interceptor);

  /** Takes what install() put in place out again (the global dispatcher is routed or released by the caller). */
  const takeOut = (): void => {
    workers?.remove();
    nodeHttp?.remove();
    workers = undefined;
    nodeHttp = undefined;
  };

  /** The process's dispatcher, once this replay stub is closed: it refuses every call. */
  const refuseClosed = (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void => {
    let operation = `${opts.method ?? 'GET'} ${String(opts.origin ?? '')}${opts.path}`;
    try {
      operation = `${opts.method ?? 'GET'} ${requestUrl(opts)}`;
    } catch {
      // The operation as given, then.
    }
    const error = new MirrorGuardError('MG_ERR_HTTP_STUB_CLOSED', `mirrorguard http-stub: ${operation} reached a replay stub after its dispose(): a closed replay stub refuses every call`);
    reject(asHandler(handler as Handler), engine.refuse(operation, error).error);
  };

  const installed: Installed = {
    get open() {
      return disposing === undefined;
    },
    takeOut,
  };

  const stub: HttpStub = {
    dispatcher,
    interceptor,
    install() {
      if (nodeHttp !== undefined) return;
      if (disposing !== undefined) throw new MirrorGuardError('MG_ERR_HTTP_STUB_OPTIONS', 'this http stub was disposed: make a new one to install');
      const current = installedSlot[INSTALLED];
      if (current?.open === true) {
        throw new MirrorGuardError('MG_ERR_HTTP_STUB_OPTIONS', 'another http stub is installed in this process: dispose() it first (or pass each stub\'s dispatcher per client)');
      }
      const unheld = cannotHoldGlobalDispatcher();
      if (unheld !== undefined) throw new MirrorGuardError('MG_ERR_HTTP_STUB_OPTIONS', `mirrorguard http-stub: the process-wide dispatcher cannot be held: ${unheld}`);
      // A closed replay stub before this one kept refusing until now: this one takes over.
      current?.takeOut();
      nodeHttp = interceptNodeHttp(engine);
      if (engine.mode === 'replay') workers = guardWorkers((operation, error) => void engine.refuse(operation, error));
      holdGlobalDispatcher({ kind: 'stub', dispatcher }, { lock: engine.mode === 'replay' });
      installedSlot[INSTALLED] = installed;
    },
    dispose() {
      disposing ??= (async () => {
        // From here on, replay refuses every new call; the calls under way are answered.
        engine.stopAnswering();
        if (nodeHttp !== undefined) {
          if (engine.mode === 'replay') {
            routeGlobalDispatcher({ kind: 'refuse', refuse: refuseClosed });
          } else {
            // An app that set its own dispatcher after install() sent its calls past the recording.
            if (!globalDispatcherHeld()) engine.warn('setGlobalDispatcher', 'the process-wide dispatcher was replaced after install(): calls through it went out unrecorded');
            releaseGlobalDispatcher();
            const interception = nodeHttp;
            takeOut();
            if (installedSlot[INSTALLED] === installed) installedSlot[INSTALLED] = undefined;
            // Its calls under way are still recorded, below.
            pending.add(interception.settled());
          }
        }
        await Promise.allSettled([...pending, ...(nodeHttp === undefined ? [] : [nodeHttp.settled()])]);
        // Calls still on their way out are answered (and recorded) before the store is closed.
        if (ownsInner) await inner.close();
        await engine.close();
      })();
      return disposing;
    },
    reopenNetwork() {
      if (engine.mode !== 'replay' || nodeHttp === undefined) return;
      if (disposing === undefined) throw new MirrorGuardError('MG_ERR_HTTP_STUB_OPTIONS', 'reopenNetwork() takes a closed replay stub out: dispose() it first');
      // Another stub may have taken over since: then there is nothing of this one left to take out.
      if (installedSlot[INSTALLED] !== installed) return;
      installedSlot[INSTALLED] = undefined;
      takeOut();
      releaseGlobalDispatcher();
    },
  };
  return stub;
}

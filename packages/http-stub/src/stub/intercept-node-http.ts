import { ClientRequest } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { bindRequestContext, getRequestContext } from '@mirrorguard/core';
import { RequestController } from '@mswjs/interceptors';
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest';
import { HttpRequestInterceptor } from '@mswjs/interceptors/http';
import type { Header, RecordedRequest, RecordedResponse } from '../exchange/exchange.ts';
import { refuseUnreadPassthrough, type UnreadPassthroughGuard } from './refuse-unread-passthrough.ts';
import type { StubEngine } from './stub-engine.ts';

// Hop-by-hop headers describe the recorded connection, not the response: a rebuilt response sets its own.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
const NO_BODY = new Set([101, 204, 205, 304]);
/** How long a call let through waits for its response event before it is forgotten. */
const FORGET_AFTER_MS = 10 * 60_000;

/** Whether a request was written by node:http: the initiator http.request recorded, or the ClientRequest that owns its connection. */
const fromNodeHttp = (initiator: unknown): boolean =>
  initiator instanceof ClientRequest || (initiator as { _httpMessage?: unknown } | undefined)?._httpMessage instanceof ClientRequest;

/** The host:port of a request's URL, or the URL as it is when it does not parse (a CONNECT's authority). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function toFetchResponse(response: RecordedResponse): Response {
  const headers = new Headers();
  for (const [name, value] of response.headers) if (!HOP_BY_HOP.has(name)) headers.append(name, value);
  return new Response(NO_BODY.has(response.status) ? null : new Uint8Array(response.body), { status: response.status, statusText: response.statusText, headers });
}

/** How node:http's interception is taken out again, and what it still has under way. */
export interface NodeHttpInterception {
  /** Settles once the calls being decided now are answered or failed (dispose() waits for them). */
  settled(): Promise<void>;
  /** Takes the interception out; node:http and node:https go to the network again. */
  remove(): void;
}

/**
 * node:http and node:https (axios, got, node-fetch, anything on http.request): every request is
 * caught by `@mswjs/interceptors` before it reaches the network and answered by the engine —
 * recorded (let through, its response kept), replayed, or failed — also one made through a copy of
 * http.request taken before install(), found by the ClientRequest that owns its connection. In
 * replay, a node:http connection whose bytes cannot be read as a request is refused instead of
 * passed on (refuse-unread-passthrough.ts).
 */
export function interceptNodeHttp(engine: StubEngine): NodeHttpInterception {
  const interceptor = new HttpRequestInterceptor();
  // Only marks the connections http.request and ClientRequest open with their request (so that a
  // request whose body comes late waits for it); the answers come from `interceptor`.
  const initiators = new ClientRequestInterceptor();
  // Calls let through (record; safe calls to allowed hosts), by the interceptor's own request id.
  const goingOut = new Map<string, { readonly method: string; readonly record: (response: RecordedResponse) => void }>();
  const pending = new Set<Promise<void>>();
  let guard: UnreadPassthroughGuard | undefined;
  try {
    // `interceptor` first: its listener is then the first to hear of each request, synchronously.
    interceptor.apply();
    initiators.apply();
    // Replay: every connection that speaks HTTP passes through only for a call the engine let out.
    if (engine.mode === 'replay') guard = refuseUnreadPassthrough((operation, error) => void engine.refuse(operation, error));
  } catch (error) {
    initiators.dispose();
    interceptor.dispose();
    throw error;
  }
  // `import { request } from 'node:http'` binds the module's export, not its property: make the
  // named exports follow the patched functions (and the originals again on dispose).
  syncBuiltinESMExports();

  async function answer(request: Request, callId: string, controller: RequestController, refused: Promise<void> | undefined): Promise<void> {
    const caller = getRequestContext();
    // A request refused meanwhile (its message could not be parsed to the end) is not waited for.
    const body = refused === undefined ? request.clone().arrayBuffer() : Promise.race([request.clone().arrayBuffer(), refused]);
    const bytes = await body;
    if (bytes === undefined) return;
    const recorded: RecordedRequest = {
      method: request.method.toUpperCase(),
      url: request.url,
      headers: [...request.headers].map(([name, value]) => [name.toLowerCase(), value] as const),
      body: Buffer.from(bytes),
    };
    if (engine.mode === 'record') {
      const startedAt = new Date().toISOString();
      const started = performance.now();
      // Journaled later, from the response event: in the context of the request that made the call.
      const record = bindRequestContext((response: RecordedResponse) => engine.record(caller, recorded, response, startedAt, performance.now() - started));
      goingOut.set(callId, { method: recorded.method, record });
      // A call that fails never gets a response event: it is forgotten after a while either way.
      setTimeout(() => goingOut.delete(callId), FORGET_AFTER_MS).unref();
      await controller.passthrough();
      return;
    }
    const length = request.headers.get('content-length');
    const announcesBody = request.headers.has('transfer-encoding') || (length !== null && length.trim() !== '0');
    const decision = await engine.decide(caller, recorded, { method: request.method, announcesBody });
    if (controller.readyState !== RequestController.PENDING) return;
    if (decision.type === 'respond') controller.respondWith(toFetchResponse(decision.response));
    else if (decision.type === 'go-out') await guard!.permit(() => controller.passthrough());
    else controller.errorWith(decision.error);
  }

  interceptor.on('request', ({ request, requestId: callId, controller, initiator }) => {
    // node:http's calls only. undici's are decided where they are dispatched (the stub's dispatcher),
    // or go out as they are (an Agent the app made itself: the egress lockdown's, not this stub's).
    if (!fromNodeHttp(initiator)) return undefined;
    // Synchronously, before the parser reads on: what it would pass through on its own is refused.
    const refused = guard?.watch(controller, initiator, request.method, hostOf(request.url));
    const work = answer(request, callId, controller, refused).catch((error: unknown) => {
      if (controller.readyState === RequestController.PENDING) controller.errorWith(error as Error);
    });
    pending.add(work);
    void work.finally(() => pending.delete(work));
    return work;
  });
  if (engine.mode === 'record') {
    interceptor.on('response', ({ response, requestId: callId }) => {
      const call = goingOut.get(callId);
      if (call === undefined) return;
      goingOut.delete(callId);
      const headers: Header[] = [...response.headers].map(([name, value]) => [name.toLowerCase(), value] as const);
      const record = (body: Buffer): void => call.record({ status: response.status, statusText: response.statusText, headers, body });
      // Not awaited: the interceptor holds the caller's response until its listeners return, and a
      // streamed (or HEAD) response would wait for a body that comes later, or never.
      if (call.method === 'HEAD' || NO_BODY.has(response.status) || response.body === null) record(Buffer.alloc(0));
      else void response.clone().arrayBuffer().then((body) => record(Buffer.from(body)), () => undefined);
    });
  }
  return {
    settled: async () => {
      await Promise.allSettled([...pending]);
    },
    remove() {
      // The guard's patches lie over the interceptors': taken out first.
      guard?.remove();
      interceptor.dispose();
      initiators.dispose();
      syncBuiltinESMExports();
    },
  };
}

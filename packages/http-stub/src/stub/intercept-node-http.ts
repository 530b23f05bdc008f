import { syncBuiltinESMExports } from 'node:module';
import { bindRequestContext, getRequestContext } from '@mirrorguard/core';
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest';
import type { Header, RecordedRequest, RecordedResponse } from '../exchange/exchange.ts';
import type { StubEngine } from './stub-engine.ts';

// Hop-by-hop headers describe the recorded connection, not the response: a rebuilt response sets its own.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
const NO_BODY = new Set([101, 204, 205, 304]);
/** How long a call let through waits for its response event before it is forgotten. */
const FORGET_AFTER_MS = 10 * 60_000;

function toFetchResponse(response: RecordedResponse): Response {
  const headers = new Headers();
  for (const [name, value] of response.headers) if (!HOP_BY_HOP.has(name)) headers.append(name, value);
  return new Response(NO_BODY.has(response.status) ? null : new Uint8Array(response.body), { status: response.status, statusText: response.statusText, headers });
}

/**
 * node:http and node:https (axios, `@nestjs/axios`, anything on http.request): every request is
 * caught by `@mswjs/interceptors` before it reaches the network and answered by the engine —
 * recorded (let through, its response kept), replayed, or failed. Returns how to take the
 * interception out again.
 */
export function interceptNodeHttp(engine: StubEngine): () => void {
  const interceptor = new ClientRequestInterceptor();
  // Calls let through (record; safe calls to allowed hosts), by the interceptor's own request id.
  const goingOut = new Map<string, { readonly method: string; readonly record: (response: RecordedResponse) => void }>();
  interceptor.apply();
  // `import { request } from 'node:http'` binds the module's export, not its property: make the
  // named exports follow the patched functions (and the originals again on dispose).
  syncBuiltinESMExports();
  interceptor.on('request', async ({ request, requestId: callId, controller }) => {
    const caller = getRequestContext();
    const recorded: RecordedRequest = {
      method: request.method.toUpperCase(),
      url: request.url,
      headers: [...request.headers].map(([name, value]) => [name.toLowerCase(), value] as const),
      body: Buffer.from(await request.clone().arrayBuffer()),
    };
    try {
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
      const decision = await engine.decide(caller, recorded);
      if (decision.type === 'respond') controller.respondWith(toFetchResponse(decision.response));
      else if (decision.type === 'go-out') await controller.passthrough();
      else controller.errorWith(decision.error);
    } catch (error) {
      controller.errorWith(error);
    }
  });
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
  return () => {
    interceptor.dispose();
    syncBuiltinESMExports();
  };
}

import { Agent, ClientRequest } from 'node:http';
import { Socket } from 'node:net';
import { MirrorGuardError } from '@mirrorguard/core';
import { Interceptor, type RequestController } from '@mswjs/interceptors';
import { SocketInterceptor } from '@mswjs/interceptors/net';

type PendingData = string | Buffer | ReadonlyArray<{ readonly chunk: string | Buffer; readonly encoding?: BufferEncoding | 'buffer' }> | null | undefined;

/** What a connection would send now if passed through: the writes the interceptor holds for the exchange (named in the error). */
function pendingBytes(socket: Socket): Buffer {
  const pending = (socket as Socket & { _pendingData?: PendingData })._pendingData;
  const bytes = (chunk: string | Buffer, encoding?: string): Buffer => (typeof chunk === 'string' ? Buffer.from(chunk, (encoding === 'buffer' ? undefined : encoding) as BufferEncoding) : Buffer.from(chunk));
  if (pending === null || pending === undefined) return Buffer.alloc(0);
  if (typeof pending === 'string' || Buffer.isBuffer(pending)) return bytes(pending, (socket as Socket & { _pendingEncoding?: string })._pendingEncoding);
  return Buffer.concat(pending.map(({ chunk, encoding }) => bytes(chunk, encoding)));
}

export interface UnreadPassthroughGuard {
  /** Runs `letOut`, whose passthrough — of a request the engine decided to let go out — is the one allowed. */
  permit<T>(letOut: () => T): T;
  /**
   * Called synchronously when a parsed request reaches the stub's listener: its connection speaks
   * HTTP for good, and the request's own passthrough (which the interceptor calls on its own when
   * the rest of the message cannot be parsed) is refused unless permitted. Resolves when it was.
   */
  watch(controller: RequestController, initiator: unknown, method: string, target: string): Promise<void>;
  /** Takes the guard out. */
  remove(): void;
}

const unreadable = (target: string, what: string): MirrorGuardError =>
  new MirrorGuardError(
    'MG_ERR_HTTP_UNREADABLE',
    `mirrorguard http-stub: ${what} to ${target} that the stub cannot read as HTTP/1 never goes out in replay ` +
      '(a method outside http.METHODS, a byte the parser rejects, conflicting or false framing, bytes on a connection between requests)',
  );

/**
 * `@mswjs/interceptors` is a mocking library, open by design: a connection whose bytes it cannot
 * parse as HTTP/1 — a method outside `http.METHODS`, a byte llhttp rejects in the path, conflicting
 * Content-Length and Transfer-Encoding — or whose parser stopped (an upgrade, a tunnel) is passed
 * through to the network untouched. For replay, this flips that path to deny for node:http, at both
 * places it is taken: a parsed request's own passthrough, and a connection's. A connection node:http
 * uses (a ClientRequest owns it, or it carried one's request) passes through only for the request
 * the engine let go out; anything else destroys it with `MG_ERR_HTTP_UNREADABLE` before a byte is
 * sent. Other connections (a database, Redis, an undici Agent the app made itself) pass as before:
 * what guards them is the process's egress lockdown, not the HTTP stub. A kept-alive socket the
 * guard does not hold (its connection began before the guard) never serves another request.
 */
export function refuseUnreadPassthrough(onRefused: (operation: string, error: MirrorGuardError) => void): UnreadPassthroughGuard {
  const sockets = Interceptor.singleton(SocketInterceptor);
  const owner = {};
  let permitted = false;
  /** The client sockets of the connections that carried a node:http request. */
  const carriedNodeHttp = new WeakSet<object>();
  /** The client sockets whose passthrough this guard holds. */
  const guarded = new WeakSet<object>();
  // Applied after node:http's interception, so that its connection listener runs after the one that
  // parses: a listener before it would delay it past the client's first write.
  sockets.apply(owner);
  const unsubscribe = new AbortController();
  sockets.on(
    'connection',
    ({ socket, controller, connectionOptions }) => {
      // The client's own socket (the event's is the interceptor's server-side view of it).
      const client = (controller as unknown as { socket: Socket }).socket;
      guarded.add(client);
      const target = `${connectionOptions.host ?? 'localhost'}:${String(connectionOptions.port ?? '')}`;
      const passthrough = controller.passthrough.bind(controller) as (...args: unknown[]) => Socket;
      (controller as { passthrough: (...args: unknown[]) => Socket }).passthrough = (...args) => {
        if (permitted) {
          permitted = false;
          return passthrough(...args);
        }
        const ownedByNodeHttp = (socket as Socket & { _httpMessage?: unknown })._httpMessage instanceof ClientRequest;
        if (!ownedByNodeHttp && !carriedNodeHttp.has(client)) return passthrough(...args);
        const pending = pendingBytes(socket);
        const method = /^[^ \r\n]{1,32}/.exec(pending.toString('latin1'))?.[0];
        const error = unreadable(target, method === undefined ? 'a connection of an HTTP client' : `a ${JSON.stringify(method)} request`);
        onRefused(`${method ?? '(unread)'} ${target}`, error);
        socket.destroy(error);
        // The caller reads the connection it gets back; one that never connects has nothing to read.
        return new Socket();
      };
    },
    { signal: unsubscribe.signal },
  );
  // A kept-alive socket this guard does not hold (made before install(), or passed through while an
  // earlier stub recorded) would carry the next request of its pool past it: an agent about to
  // take a socket from its pool finds those gone, and connects anew (under the guard).
  const { addRequest } = Agent.prototype as { addRequest?: (...args: unknown[]) => void };
  if (addRequest !== undefined) {
    (Agent.prototype as { addRequest?: (...args: unknown[]) => void }).addRequest = function (this: Agent, ...args: unknown[]) {
      for (const free of Object.values(this.freeSockets)) for (const socket of free ?? []) if (!guarded.has(socket)) socket.destroy();
      return addRequest.apply(this, args);
    };
  }
  return {
    permit(letOut) {
      permitted = true;
      try {
        return letOut();
      } finally {
        permitted = false;
      }
    },
    watch(controller, initiator, method, target) {
      // A tunnel or an upgrade the request starts leaves the connection to bytes that are not HTTP: they are refused too.
      const client = initiator instanceof ClientRequest ? initiator.socket : (initiator as { _httpMessage?: { socket?: unknown } } | null)?._httpMessage?.socket;
      if (typeof client === 'object' && client !== null) carriedNodeHttp.add(client);
      let refuse!: () => void;
      const refused = new Promise<void>((resolve) => {
        refuse = resolve;
      });
      const passthrough = controller.passthrough.bind(controller);
      controller.passthrough = () => {
        if (permitted) return passthrough();
        const error = unreadable(target, `the rest of a ${method} request`);
        onRefused(`${method} ${target}`, error);
        controller.errorWith(error);
        refuse();
        return Promise.resolve();
      };
      return refused;
    },
    remove() {
      if (addRequest !== undefined) (Agent.prototype as { addRequest?: (...args: unknown[]) => void }).addRequest = addRequest;
      unsubscribe.abort();
      sockets.dispose(owner);
    },
  };
}

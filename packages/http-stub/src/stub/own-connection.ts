// `@mswjs/interceptors` keeps, on globalThis and shared by all its copies, the runner by which it
// makes its own connections: one opened inside it is not intercepted.
interface InternalConnectionContext {
  run<T>(callback: () => T): T;
}

/**
 * Runs `dispatch` so that a connection it opens is not intercepted again: a call the stub lets out
 * on its own undici Agent (record; a safe call to an allowed host) was decided where it was
 * dispatched, and would otherwise be parsed, and decided, a second time at the socket. The runner
 * marks only the first connection opened inside; anything else opened later is intercepted as usual.
 */
export function asOwnConnection<T>(dispatch: () => T): T {
  const context = (globalThis as { __MSW_INTERNAL_CONNECTION_CONTEXT?: InternalConnectionContext }).__MSW_INTERNAL_CONNECTION_CONTEXT;
  return context === undefined ? dispatch() : context.run(dispatch);
}

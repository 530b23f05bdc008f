import type { HeaderSource } from './request-id.ts';
import { createRequestContext, runInRequestContext, type RequestContext } from './request-context.ts';

/** The parts of an Express (or plain node:http) request the middleware reads. */
export interface ContextRequest {
  readonly headers: HeaderSource;
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly originalUrl?: string | undefined;
}

export type NextFunction = (error?: unknown) => void;

export interface RequestContextMiddlewareOptions {
  /** Makes the id when the request carries neither `x-request-id` nor `traceparent`. */
  readonly generateRequestId?: () => string;
}

export type RequestContextMiddleware = (request: ContextRequest, response: unknown, next: NextFunction) => void;

// Marks the request with its context so that a second mount of the middleware (app and router, or
// Express under Nest) keeps the first context instead of shadowing it. Registry-wide, like the storage.
const CONTEXT_OF_REQUEST = Symbol.for('mirrorguard.requestContext.ofRequest');

type MarkedRequest = ContextRequest & { [CONTEXT_OF_REQUEST]?: RequestContext };

function contextFor(request: ContextRequest, options: RequestContextMiddlewareOptions): RequestContext {
  const url = request.originalUrl ?? request.url;
  const query = url?.indexOf('?') ?? -1;
  return createRequestContext({
    headers: request.headers,
    ...(request.method !== undefined && { method: request.method }),
    ...(url !== undefined && { path: query === -1 ? url : url.slice(0, query) }),
    ...(options.generateRequestId !== undefined && { generateRequestId: options.generateRequestId }),
  });
}

/**
 * Express-style middleware (no Express import): runs the rest of the request inside a request context
 * whose id comes from `x-request-id`, else `traceparent`, else a new UUID.
 */
export function requestContextMiddleware(options: RequestContextMiddlewareOptions = {}): RequestContextMiddleware {
  return function mirrorguardRequestContext(request, _response, next) {
    const marked = request as MarkedRequest;
    let context = marked[CONTEXT_OF_REQUEST];
    if (context === undefined) {
      context = contextFor(request, options);
      Object.defineProperty(marked, CONTEXT_OF_REQUEST, { value: context, enumerable: false });
    }
    runInRequestContext(context, next);
  };
}

import type { Header, RecordedResponse } from '../exchange/exchange.ts';
import { rawHeaders, requestHeaders, responseHeaderObject } from './request-parts.ts';

/** The controller undici hands a handler (undici ≥ 7's handler API). */
export interface Controller {
  readonly rawHeaders?: unknown;
  readonly aborted: boolean;
  readonly paused?: boolean;
  readonly reason?: unknown;
  abort(reason?: unknown): void;
  pause(): void;
  resume(): void;
}

/** A dispatch handler in undici ≥ 7's API. */
export interface Handler {
  onRequestStart?(controller: Controller, context: unknown): void;
  onResponseStart?(controller: Controller, statusCode: number, headers: Record<string, string | string[]>, statusMessage?: string): void;
  onResponseData?(controller: Controller, chunk: Buffer): void;
  onResponseEnd?(controller: Controller, trailers: Record<string, string | string[]>): void;
  onResponseError?(controller: Controller, error: Error): void;
  onRequestUpgrade?(controller: Controller, statusCode: number, headers: Record<string, string | string[]>, socket: unknown): void;
}

/** undici's older handler API (onConnect, onHeaders, onData, onComplete, onError), still sent by some callers. */
interface LegacyHandler {
  onConnect?(abort: (reason?: unknown) => void, context?: unknown): void;
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText?: string): boolean | void;
  onData?(chunk: Buffer): boolean | void;
  onComplete?(trailers: Buffer[] | null): void;
  onError?(error: Error): void;
}

/** A handler of either API, as the newer one. */
export function asHandler(handler: Handler | LegacyHandler): Handler {
  if ('onResponseStart' in handler || 'onRequestStart' in handler || 'onResponseEnd' in handler) return handler as Handler;
  const legacy = handler as LegacyHandler;
  return {
    onRequestStart: (controller, context) => legacy.onConnect?.((reason) => controller.abort(reason), context),
    onResponseStart: (controller, statusCode, headers, statusMessage) => {
      const raw = rawHeaders(requestHeaders(headers));
      if (legacy.onHeaders?.(statusCode, raw, () => controller.resume(), statusMessage) === false) controller.pause();
    },
    onResponseData: (controller, chunk) => {
      if (legacy.onData?.(chunk) === false) controller.pause();
    },
    onResponseEnd: () => legacy.onComplete?.([]),
    onResponseError: (_controller, error) => legacy.onError?.(error),
  };
}

/** A controller for a response this package answers itself (the body is in memory: pausing changes nothing). */
function localController(headers: readonly Header[]): Controller {
  let aborted = false;
  let reason: unknown;
  let paused = false;
  return {
    rawHeaders: rawHeaders(headers),
    get aborted() {
      return aborted;
    },
    get paused() {
      return paused;
    },
    get reason() {
      return reason;
    },
    abort(why) {
      aborted = true;
      reason = why;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
  };
}

/** Answers a dispatch with a response from a recording (or a configured one), as a server's would arrive. */
export function respond(handler: Handler, method: string, response: RecordedResponse): void {
  const controller = localController(response.headers);
  try {
    handler.onRequestStart?.(controller, {});
    if (controller.aborted) return;
    handler.onResponseStart?.(controller, response.status, responseHeaderObject(response.headers), response.statusText);
    if (controller.aborted) return;
    // The whole body is in memory: it is handed over at once (a copy, so no caller changes a later
    // replay), and the response ends, whether or not the caller ever reads it.
    if (method !== 'HEAD' && response.body.length > 0) handler.onResponseData?.(controller, Buffer.from(response.body));
    if (!controller.aborted) handler.onResponseEnd?.(controller, {});
  } catch (error) {
    handler.onResponseError?.(controller, error as Error);
  }
}

/** Fails a dispatch before anything was sent. */
export function reject(handler: Handler, error: Error): void {
  const controller = localController([]);
  try {
    handler.onRequestStart?.(controller, {});
  } finally {
    handler.onResponseError?.(controller, error);
  }
}

/**
 * Passes a real response on to `handler` while keeping a copy: status, headers and every chunk of
 * the body; `done` gets the whole response once it ended (not when it failed).
 */
export function recordingHandler(handler: Handler, done: (response: RecordedResponse) => void, failed: () => void = () => undefined): Handler {
  let status = 0;
  let statusText = '';
  let headers: Header[] = [];
  const chunks: Buffer[] = [];
  return {
    onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
    onResponseStart: (controller, statusCode, responseHeaders, statusMessage) => {
      status = statusCode;
      statusText = statusMessage ?? '';
      headers = requestHeaders(responseHeaders);
      handler.onResponseStart?.(controller, statusCode, responseHeaders, statusMessage);
    },
    onResponseData: (controller, chunk) => {
      chunks.push(Buffer.from(chunk));
      handler.onResponseData?.(controller, chunk);
    },
    onResponseEnd: (controller, trailers) => {
      done({ status, statusText, headers, body: Buffer.concat(chunks) });
      handler.onResponseEnd?.(controller, trailers);
    },
    onResponseError: (controller, error) => {
      failed();
      handler.onResponseError?.(controller, error);
    },
    // An upgrade (WebSocket, CONNECT) is no exchange to record: it is handed on as it is.
    ...(handler.onRequestUpgrade !== undefined && {
      onRequestUpgrade: (controller: Controller, statusCode: number, headers: Record<string, string | string[]>, socket: unknown) => {
        failed();
        handler.onRequestUpgrade!(controller, statusCode, headers, socket);
      },
    }),
  };
}

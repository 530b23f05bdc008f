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

/** A controller for a response this package answers itself. */
function localController(headers: readonly Header[]): Controller & { readonly resumed: Promise<void> } {
  let aborted = false;
  let reason: unknown;
  let paused = false;
  let release: () => void = () => undefined;
  let resumed = Promise.resolve();
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
    get resumed() {
      return resumed;
    },
    abort(why) {
      aborted = true;
      reason = why;
      release();
    },
    pause() {
      if (paused) return;
      paused = true;
      resumed = new Promise((resolve) => (release = resolve));
    },
    resume() {
      paused = false;
      release();
    },
  };
}

/** Answers a dispatch with a response from a recording (or a configured one), as a server's would arrive. */
export async function respond(handler: Handler, method: string, response: RecordedResponse): Promise<void> {
  const controller = localController(response.headers);
  try {
    handler.onRequestStart?.(controller, {});
    if (controller.aborted) return;
    handler.onResponseStart?.(controller, response.status, responseHeaderObject(response.headers), response.statusText);
    if (controller.aborted) return;
    if (method !== 'HEAD' && response.body.length > 0) {
      await controller.resumed;
      if (controller.aborted) return;
      handler.onResponseData?.(controller, response.body);
    }
    await controller.resumed;
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
export function recordingHandler(handler: Handler, done: (response: RecordedResponse) => void): Handler {
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
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  };
}

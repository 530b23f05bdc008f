/** A header as sent or received: lower-case name, value. Repeated headers are repeated entries. */
export type Header = readonly [name: string, value: string];

/** An outbound request as recorded: what matching compares. */
export interface RecordedRequest {
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
  readonly headers: readonly Header[];
  /** The body, read in full; empty when there was none. */
  readonly body: Buffer;
}

export interface RecordedResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: readonly Header[];
  readonly body: Buffer;
}

/** The incoming request an outbound call was made for: an exchange is bound to it. */
export interface IncomingRequest {
  readonly method: string;
  /** Its URL path, without the query string. */
  readonly path: string;
}

/** One outbound call and its answer, under the id of the incoming request that made it. */
export interface RecordedExchange {
  /** The incoming request's id (`@mirrorguard/core`'s context), or null outside a request. */
  readonly requestId: string | null;
  /**
   * The incoming request's method and path, when it was an HTTP request (null when it was not).
   * Replay answers a call only from exchanges bound to the same method and path, so an entry left
   * under a colliding or forged request id is refused. Undefined in files recorded before it was kept.
   */
  readonly incoming?: IncomingRequest | null;
  readonly request: RecordedRequest;
  readonly response: RecordedResponse;
  /** When the call started (ISO 8601) and how long it took, in milliseconds. */
  readonly startedAt: string;
  readonly durationMs: number;
}

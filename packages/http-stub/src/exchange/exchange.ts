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

/** One outbound call and its answer, under the id of the incoming request that made it. */
export interface RecordedExchange {
  /** The incoming request's id (`@mirrorguard/core`'s context), or null outside a request. */
  readonly requestId: string | null;
  readonly request: RecordedRequest;
  readonly response: RecordedResponse;
  /** When the call started (ISO 8601) and how long it took, in milliseconds. */
  readonly startedAt: string;
  readonly durationMs: number;
}

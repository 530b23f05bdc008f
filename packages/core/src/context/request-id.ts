import { randomUUID } from 'node:crypto';
import { createRedactor } from '../redact/create-redactor.ts';

/** Where a request id came from. */
export type RequestIdSource = 'x-request-id' | 'traceparent' | 'generated' | 'explicit';

/**
 * Incoming headers: Node's `IncomingHttpHeaders` (lower-case names) or anything with a `get(name)`,
 * such as the WHATWG `Headers` of fetch.
 */
export type HeaderSource =
  | { readonly [name: string]: string | readonly string[] | number | undefined }
  | { get(name: string): string | null | undefined };

export interface ResolvedRequestId {
  readonly requestId: string;
  readonly source: RequestIdSource;
}

// Envoy generates UUIDs and copies `x-request-id` verbatim onto mirrored requests; anything printable
// and short is kept as it is, so that the primary and its mirror key their journals alike.
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;
// W3C Trace Context: version-traceid-parentid-flags, lower-case hex.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The default redactor: an id it would change is shaped like a secret (a token pasted as an id). */
const redactDefaults = createRedactor();

/**
 * Printable, at most 200 characters, and not shaped like a secret the redactor knows (a `ghp_…`
 * token, a JWT): an id is written as it is into journals, recordings and pairing keys, where a
 * secret must never be.
 */
export function isValidRequestId(value: string): boolean {
  return REQUEST_ID.test(value) && redactDefaults(value) === value;
}

function header(headers: HeaderSource, name: string): string | undefined {
  const raw = typeof headers.get === 'function' ? headers.get(name) : (headers as Record<string, unknown>)[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return typeof first === 'string' ? first.trim() : undefined;
}

/** The trace id of a valid `traceparent` header, or undefined. */
export function traceIdFromTraceparent(value: string): string | undefined {
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, parentId, , rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return undefined;
  return traceId;
}

/**
 * The id of an incoming request: `x-request-id` when present and valid (printable, not shaped like a
 * secret), else the trace id of a valid `traceparent`, else a new UUID.
 */
export function requestIdFromHeaders(
  headers: HeaderSource,
  generate: () => string = randomUUID,
): ResolvedRequestId {
  const explicit = header(headers, 'x-request-id');
  if (explicit !== undefined && isValidRequestId(explicit)) return { requestId: explicit, source: 'x-request-id' };
  const traceparent = header(headers, 'traceparent');
  const traceId = traceparent === undefined ? undefined : traceIdFromTraceparent(traceparent);
  if (traceId !== undefined) return { requestId: traceId, source: 'traceparent' };
  return { requestId: generate(), source: 'generated' };
}

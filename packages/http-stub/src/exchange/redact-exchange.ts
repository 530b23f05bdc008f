import { createRedactor, type Journal, type RedactOptions, type Redactor } from '@mirrorguard/core';
import { decodeContent } from './decode-body.ts';
import type { Header, IncomingRequest, RecordedExchange, RecordedRequest, RecordedResponse } from './exchange.ts';
import { redactBody } from './redact-body.ts';

/**
 * What is hidden before an exchange is stored: the defaults of `@mirrorguard/core`'s `createRedactor`,
 * plus your `keys` and `values` (or only yours, with `defaults: false`).
 */
export interface RedactionOptions extends RedactOptions {
  /** More secret names (the same as `keys`: every name applies to headers, queries, forms and JSON alike). */
  readonly headers?: readonly string[];
  /** More secret names (the same as `keys`). */
  readonly queryParameters?: readonly string[];
  /** More secret names (the same as `keys`). */
  readonly jsonFields?: readonly string[];
}

/**
 * Headers the defaults hide (by the name patterns of `DEFAULT_SECRET_KEYS`, which hide any name alike).
 * @deprecated The defaults are name patterns now; this lists well-known headers they cover.
 */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'x-amz-security-token',
  'private-token',
  'x-auth-token',
  'x-vault-token',
  'x-csrf-token',
  'ocp-apim-subscription-key',
];

/**
 * The redactor a stub uses: the one given, one built from the options given, else the journal's
 * (so that the journal and the recordings hide the same), else the defaults.
 */
export function stubRedactor(option: RedactionOptions | Redactor | undefined, journal: Journal | undefined): Redactor {
  if (typeof option === 'function') return option;
  if (option === undefined) return journal?.redactor ?? createRedactor();
  const { headers = [], queryParameters = [], jsonFields = [], keys = [], ...rest } = option;
  return createRedactor({ ...rest, keys: [...keys, ...headers, ...queryParameters, ...jsonFields] });
}

/** Redacts exchanges before they are stored, and requests (live and recorded) the same way before they are matched. */
export interface ExchangeRedactor {
  readonly redactor: Redactor;
  request(request: RecordedRequest): RecordedRequest;
  /** The incoming request an exchange is bound to, its path redacted as a URL (`/reset/<token>`). */
  incoming<T extends IncomingRequest | null | undefined>(incoming: T): T;
  exchange(exchange: RecordedExchange): RecordedExchange;
}

/**
 * Every part of an exchange through one redactor: the URL, each header, and the body — decoded from
 * its content-encoding first (stored decoded, as HAR wants; one that cannot be decoded is replaced by
 * a note), then redacted by its content type. A body made shorter or longer keeps a true content-length.
 */
export function createExchangeRedactor(redactor: Redactor): ExchangeRedactor {
  const redactHeaders = (list: readonly Header[], length: number | undefined): Header[] =>
    list.map((header) => {
      const [name, value] = header;
      const redacted = name === 'content-length' && length !== undefined ? String(length) : redactor.header(name, value);
      return redacted === value ? header : [name, redacted];
    });
  const redactParts = (headers: readonly Header[], body: Buffer): { headers: Header[]; body: Buffer } => {
    const decoded = decodeContent(headers, body);
    const contentType = decoded.headers.find(([name]) => name === 'content-type')?.[1] ?? '';
    const redacted = redactBody(decoded.body, contentType, redactor);
    return { headers: redactHeaders(decoded.headers, redacted === body ? undefined : redacted.length), body: redacted };
  };
  const request = (value: RecordedRequest): RecordedRequest => ({ ...value, url: redactor.url(value.url), ...redactParts(value.headers, value.body) });
  const response = (value: RecordedResponse): RecordedResponse => ({ ...value, ...redactParts(value.headers, value.body) });
  const incoming = <T extends IncomingRequest | null | undefined>(value: T): T => {
    if (value === null || value === undefined) return value;
    const path = redactor.url(value.path);
    return path === value.path ? value : { ...value, path };
  };
  return {
    redactor,
    request,
    incoming,
    exchange: (value) => ({ ...value, ...(value.incoming !== undefined && { incoming: incoming(value.incoming) }), request: request(value.request), response: response(value.response) }),
  };
}

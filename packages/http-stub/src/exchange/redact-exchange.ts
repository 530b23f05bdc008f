import { REDACTED } from '@mirrorguard/core';
import { bodyText } from './canonical-request.ts';
import { parseExactJson, stringifyExactJson } from './exact-json.ts';
import type { Header, RecordedExchange, RecordedRequest, RecordedResponse } from './exchange.ts';

/** What is hidden before an exchange is stored, besides the default secret headers. */
export interface RedactionOptions {
  /** More header names (case-insensitive). */
  readonly headers?: readonly string[];
  /** Query parameters whose values are hidden in URLs. */
  readonly queryParameters?: readonly string[];
  /** JSON fields hidden at any depth of request and response bodies. */
  readonly jsonFields?: readonly string[];
}

/** Hidden in every recording: credentials and session cookies. */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-api-key'];

/** Redacts exchanges before they are stored, and live requests the same way before they are matched. */
export interface Redactor {
  request(request: RecordedRequest): RecordedRequest;
  exchange(exchange: RecordedExchange): RecordedExchange;
}

export function createRedactor(options: RedactionOptions = {}): Redactor {
  const headers = new Set([...DEFAULT_REDACTED_HEADERS, ...(options.headers ?? [])].map((name) => name.toLowerCase()));
  const parameters = new Set(options.queryParameters ?? []);
  const fields = new Set((options.jsonFields ?? []).map((name) => name.toLowerCase()));
  const redactHeaders = (list: readonly Header[]): Header[] => list.map(([name, value]) => [name, headers.has(name) ? REDACTED : value]);
  const redactUrl = (url: string): string => {
    if (parameters.size === 0) return url;
    const parsed = new URL(url);
    let changed = false;
    for (const name of parameters) {
      if (!parsed.searchParams.has(name)) continue;
      const count = parsed.searchParams.getAll(name).length;
      parsed.searchParams.delete(name);
      for (let n = 0; n < count; n += 1) parsed.searchParams.append(name, REDACTED);
      changed = true;
    }
    return changed ? parsed.toString() : url;
  };
  const hide = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(hide);
    if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fields.has(key.toLowerCase()) ? REDACTED : hide(inner)]));
  };
  const redactBody = (body: Buffer): Buffer => {
    if (fields.size === 0 || body.length === 0) return body;
    const text = bodyText(body);
    if (!/^\s*[[{]/.test(text)) return body;
    try {
      const before = parseExactJson(text);
      const after = hide(before);
      // Unchanged unless a field was hidden; numbers keep their exact text either way.
      const hidden = stringifyExactJson(after);
      return hidden === stringifyExactJson(before) ? body : Buffer.from(hidden);
    } catch {
      return body;
    }
  };
  // A body made shorter or longer by redaction keeps a content-length that says so.
  const withLength = (headers: Header[], before: Buffer, after: Buffer): Header[] =>
    before === after ? headers : headers.map(([name, value]) => [name, name === 'content-length' ? String(after.length) : value]);
  const request = (value: RecordedRequest): RecordedRequest => {
    const body = redactBody(value.body);
    return { ...value, url: redactUrl(value.url), headers: withLength(redactHeaders(value.headers), value.body, body), body };
  };
  const response = (value: RecordedResponse): RecordedResponse => {
    const body = redactBody(value.body);
    return { ...value, headers: withLength(redactHeaders(value.headers), value.body, body), body };
  };
  return { request, exchange: (value) => ({ ...value, request: request(value.request), response: response(value.response) }) };
}

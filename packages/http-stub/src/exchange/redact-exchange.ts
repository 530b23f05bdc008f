import { REDACTED } from '@mirrorguard/core';
import { bodyText } from './canonical-request.ts';
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
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fields.has(key.toLowerCase()) ? REDACTED : hide(inner)]));
  };
  const redactBody = (body: Buffer): Buffer => {
    if (fields.size === 0 || body.length === 0) return body;
    const text = bodyText(body);
    if (!/^\s*[[{]/.test(text)) return body;
    try {
      const before = JSON.parse(text) as unknown;
      const after = hide(before);
      return JSON.stringify(after) === JSON.stringify(before) ? body : Buffer.from(JSON.stringify(after));
    } catch {
      return body;
    }
  };
  const request = (value: RecordedRequest): RecordedRequest => ({ ...value, url: redactUrl(value.url), headers: redactHeaders(value.headers), body: redactBody(value.body) });
  const response = (value: RecordedResponse): RecordedResponse => ({ ...value, headers: redactHeaders(value.headers), body: redactBody(value.body) });
  return { request, exchange: (value) => ({ ...value, request: request(value.request), response: response(value.response) }) };
}

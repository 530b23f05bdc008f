import type { Header, RecordedRequest } from './exchange.ts';
import { parseExactJson, stringifyExactJson } from './exact-json.ts';

/** A request as matching sees it: every part in one canonical form. */
export interface CanonicalRequest {
  /** Upper case. */
  readonly method: string;
  /** Origin and path, without query or fragment. */
  readonly target: string;
  /** Query parameters sorted by name, then value: their order does not matter. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** JSON bodies with keys sorted at every depth; other bodies as text, or base64 when binary. */
  readonly body: string;
  /** The headers matching looks at (named by the user), lower-case names, values of repeats joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
}

/** A user's pass over each canonical request before matching, recorded and live alike (to blank volatile fields). */
export type RequestNormalizer = (request: CanonicalRequest) => CanonicalRequest;

const isJsonType = (headers: readonly Header[]): boolean => headers.some(([name, value]) => name === 'content-type' && /[/+]json\b/i.test(value));

/** JSON with object keys sorted at every depth, so key order never decides a match (numbers kept as written). */
export function canonicalJson(value: unknown): string {
  return stringifyExactJson(value, true);
}

/** The body as text when it is UTF-8, else as base64 (prefixed, so the two never collide). */
export function bodyText(body: Buffer): string {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) ? text : `base64:${body.toString('base64')}`;
}

function canonicalBody(request: RecordedRequest): string {
  if (request.body.length === 0) return '';
  const text = bodyText(request.body);
  if (isJsonType(request.headers) || /^\s*[[{]/.test(text)) {
    try {
      return canonicalJson(parseExactJson(text));
    } catch {
      // Not JSON after all: compared as text.
    }
  }
  // A multipart body's boundary is random per request: it is no part of what is sent.
  const boundary = /multipart\/[^;]+;\s*boundary="?([^";]+)"?/i.exec(request.headers.find(([name]) => name === 'content-type')?.[1] ?? '')?.[1];
  return boundary === undefined ? text : text.split(boundary).join('<boundary>');
}

/** The canonical form of a request, looking at the headers in `matchHeaders` only. */
export function canonicalRequest(request: RecordedRequest, matchHeaders: readonly string[], normalizers: readonly RequestNormalizer[] = []): CanonicalRequest {
  const url = new URL(request.url);
  const query = [...url.searchParams].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  const headers: Record<string, string> = {};
  for (const name of matchHeaders) {
    const values = request.headers.filter(([header]) => header === name.toLowerCase()).map(([, value]) => value);
    if (values.length > 0) headers[name.toLowerCase()] = values.join(', ');
  }
  let canonical: CanonicalRequest = { method: request.method.toUpperCase(), target: `${url.origin}${url.pathname}`, query, body: canonicalBody(request), headers };
  for (const normalize of normalizers) canonical = normalize(canonical);
  return canonical;
}

/** One string that equal canonical requests share: the key recordings are looked up by. */
export const matchKey = (request: CanonicalRequest): string => JSON.stringify([request.method, request.target, request.query, request.body, Object.entries(request.headers).sort()]);

/** How a recorded request differs from the one asked for, in words; empty when they match. */
export function differences(asked: CanonicalRequest, recorded: CanonicalRequest): string[] {
  const found: string[] = [];
  if (asked.method !== recorded.method) found.push(`method ${recorded.method} (asked ${asked.method})`);
  if (asked.target !== recorded.target) found.push(`URL ${recorded.target} (asked ${asked.target})`);
  const query = (request: CanonicalRequest): string => request.query.map(([name, value]) => `${name}=${value}`).join('&');
  if (query(asked) !== query(recorded)) found.push(`query "${query(recorded)}" (asked "${query(asked)}")`);
  if (asked.body !== recorded.body) found.push(`body ${preview(recorded.body)} (asked ${preview(asked.body)})`);
  for (const name of new Set([...Object.keys(asked.headers), ...Object.keys(recorded.headers)])) {
    if (asked.headers[name] !== recorded.headers[name]) found.push(`header ${name}: ${recorded.headers[name] ?? '(none)'} (asked ${asked.headers[name] ?? '(none)'})`);
  }
  return found;
}

const preview = (body: string): string => (body === '' ? '(empty)' : body.length > 80 ? `${body.slice(0, 80)}…` : body);

import { createRedactor, MirrorGuardError } from '@mirrorguard/core';
import { bodyText } from '../exchange/canonical-request.ts';
import { replayHeaders } from '../exchange/decode-body.ts';
import type { Header, RecordedExchange } from '../exchange/exchange.ts';

const CREATOR = { name: '@mirrorguard/http-stub', version: '0.1.0' };

/** The errors about a recording quote parts of it (a URL, the parser's excerpt): through the default redactor, as a hand-written file may hold secrets. */
const redactMessage = createRedactor();

/** `MG_ERR_HTTP_RECORDING_INVALID`, its message redacted. */
export const invalidRecording = (message: string): MirrorGuardError => new MirrorGuardError('MG_ERR_HTTP_RECORDING_INVALID', redactMessage(message));

interface HarNameValue {
  readonly name: string;
  readonly value: string;
}

/** HAR 1.2's content/postData text, with `encoding: "base64"` for a body that is not UTF-8 text. */
interface HarText {
  readonly mimeType: string;
  readonly text: string;
  readonly encoding?: 'base64';
}

const header = (headers: readonly Header[], name: string): string => headers.find(([key]) => key === name)?.[1] ?? '';
const toPairs = (headers: readonly Header[]): HarNameValue[] => headers.map(([name, value]) => ({ name, value }));

function textOf(body: Buffer, mimeType: string): HarText {
  const text = bodyText(body);
  return text.startsWith('base64:') ? { mimeType, text: body.toString('base64'), encoding: 'base64' } : { mimeType, text };
}

/**
 * A HAR 1.2 log of exchanges, in a deterministic order: by incoming request id (none first), then
 * in the order recorded. Each entry carries its request id as `_requestId`, and the incoming
 * request's method and path as `_incoming`.
 */
export function toHar(exchanges: readonly RecordedExchange[]): unknown {
  const ordered = exchanges
    .map((exchange, index) => ({ exchange, index }))
    .sort((a, b) => {
      const x = a.exchange.requestId ?? '';
      const y = b.exchange.requestId ?? '';
      return x < y ? -1 : x > y ? 1 : a.index - b.index;
    });
  const entries = ordered.map(({ exchange: { requestId, incoming, request, response, startedAt, durationMs } }) => {
    const url = new URL(request.url);
    return {
      _requestId: requestId,
      ...(incoming !== undefined && { _incoming: incoming }),
      startedDateTime: startedAt,
      time: durationMs,
      request: {
        method: request.method,
        url: request.url,
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: toPairs(request.headers),
        queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
        ...(request.body.length > 0 && { postData: textOf(request.body, header(request.headers, 'content-type')) }),
        headersSize: -1,
        bodySize: request.body.length,
      },
      response: {
        status: response.status,
        statusText: response.statusText,
        httpVersion: 'HTTP/1.1',
        cookies: [],
        headers: toPairs(response.headers),
        content: { size: response.body.length, ...textOf(response.body, header(response.headers, 'content-type')) },
        redirectURL: header(response.headers, 'location'),
        headersSize: -1,
        bodySize: response.body.length,
      },
      cache: {},
      timings: { send: 0, wait: durationMs, receive: 0 },
    };
  });
  return { log: { version: '1.2', creator: CREATOR, entries } };
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The exchanges of a HAR 1.2 log; `source` names the file in errors, which say what is wrong and where. */
export function fromHar(har: unknown, source: string): RecordedExchange[] {
  const invalid = (where: string, what: string): MirrorGuardError => invalidRecording(`${source}: ${where}: ${what}`);
  if (!isObject(har) || !isObject(har.log)) throw invalid('top level', 'not a HAR file (no "log" object)');
  if (!Array.isArray(har.log.entries)) throw invalid('log', '"entries" is not an array');
  return har.log.entries.map((entry: unknown, index: number): RecordedExchange => {
    const where = `log.entries[${index}]`;
    if (!isObject(entry) || !isObject(entry.request) || !isObject(entry.response)) throw invalid(where, 'an entry needs "request" and "response" objects');
    const { request, response } = entry;
    if (typeof request.method !== 'string' || typeof request.url !== 'string') throw invalid(`${where}.request`, '"method" and "url" must be strings');
    try {
      new URL(request.url);
    } catch {
      throw invalid(`${where}.request.url`, `not an absolute URL: ${JSON.stringify(request.url)}`);
    }
    if (typeof response.status !== 'number' || !Number.isInteger(response.status)) throw invalid(`${where}.response.status`, 'not an integer');
    const headers = (list: unknown, at: string): Header[] => {
      if (list === undefined) return [];
      if (!Array.isArray(list) || !list.every((item) => isObject(item) && typeof item.name === 'string' && typeof item.value === 'string')) throw invalid(at, 'headers must be a list of { name, value } strings');
      return list.map((item) => [String((item as HarNameValue).name).toLowerCase(), String((item as HarNameValue).value)]);
    };
    const body = (text: unknown, at: string): Buffer => {
      if (text === undefined) return Buffer.alloc(0);
      if (!isObject(text) || (text.text !== undefined && typeof text.text !== 'string')) throw invalid(at, '"text" must be a string');
      const value = (text.text as string | undefined) ?? '';
      return text.encoding === 'base64' ? Buffer.from(value, 'base64') : Buffer.from(value, 'utf8');
    };
    const requestId = entry._requestId;
    if (requestId !== undefined && requestId !== null && typeof requestId !== 'string') throw invalid(`${where}._requestId`, 'must be a string or null');
    const incoming = entry._incoming;
    if (incoming !== undefined && incoming !== null && !(isObject(incoming) && typeof incoming.method === 'string' && typeof incoming.path === 'string')) {
      throw invalid(`${where}._incoming`, 'must be null or { method, path } strings');
    }
    return {
      requestId: (requestId as string | null | undefined) ?? null,
      ...(incoming !== undefined && { incoming: incoming === null ? null : { method: incoming.method as string, path: incoming.path as string } }),
      request: { method: request.method, url: request.url, headers: headers(request.headers, `${where}.request.headers`), body: body(request.postData, `${where}.request.postData`) },
      response: {
        status: response.status,
        statusText: typeof response.statusText === 'string' ? response.statusText : '',
        // HAR's content.text is the decoded body: an encoding header would make the client decode it again.
        headers: replayHeaders(headers(response.headers, `${where}.response.headers`)),
        body: body(response.content, `${where}.response.content`),
      },
      startedAt: typeof entry.startedDateTime === 'string' ? entry.startedDateTime : new Date(0).toISOString(),
      durationMs: typeof entry.time === 'number' ? entry.time : 0,
    };
  });
}

import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import got from 'got';
import nodeFetch from 'node-fetch';
import * as undici from 'undici';
import * as undici6 from 'undici6';
import * as undici7 from 'undici7';
import WebSocketClient from 'ws';

// Every HTTP client a service might make an outbound call with, each through the route it takes by
// default (the process-wide dispatcher, node:http's global agents), so that a guard of the whole
// process is what stands between it and the network.

/** http.request as it was before any stub was installed: a library that copied it keeps the original. */
const copiedHttpRequest = http.request;

/**
 * How the bytes of a request body are framed on the wire (node:http sends what it is told): a
 * true Content-Length, chunked, both at once, a Content-Length shorter than the body (the rest
 * reads as the start of another request), or a Transfer-Encoding that is not chunked.
 */
export type Framing = 'none' | 'content-length' | 'chunked' | 'conflicting' | 'overlong' | 'identity';

export interface Call {
  readonly protocol: 'http' | 'https';
  /** host:port of the server. */
  readonly authority: string;
  readonly method: string;
  /** The path as the client is given it: node:http sends a Latin-1 byte as it is, the others percent-encode. */
  readonly path: string;
  readonly body: string | undefined;
  readonly framing: Framing;
  /** The CA that signed the HTTPS server's certificate, for clients that take one per call. */
  readonly ca: string | undefined;
  /** node:http only: a keep-alive agent shared across calls, so a pooled socket carries the next one. */
  readonly agent?: http.Agent;
}

/** How a call ended: an answer, or an error (with the first `code` found on it or its causes). */
export interface Outcome {
  readonly status?: number;
  readonly code?: string;
  readonly message?: string;
}

/** How a client puts the method on the wire: node:http, axios and got upper-case any; fetch only the six it normalizes; undici's request sends it as given. */
export type MethodCase = 'upper' | 'fetch' | 'as-given';

export interface HttpClient {
  readonly name: string;
  readonly protocols: ReadonlyArray<Call['protocol']>;
  readonly methodCase: MethodCase;
  /** Whether it sends a path byte outside ASCII as it is, and body framing as it is told. */
  readonly raw: boolean;
  /** Whether the call asks for a protocol upgrade (WebSocket). */
  readonly upgrade: boolean;
  run(call: Call): Promise<Outcome>;
}

const FETCH_NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/** The method as it goes on the wire from a client of `methodCase`. */
export function wireMethod(methodCase: MethodCase, method: string): string {
  if (methodCase === 'upper') return method.toUpperCase();
  if (methodCase === 'fetch') return FETCH_NORMALIZED.has(method.toUpperCase()) ? method.toUpperCase() : method;
  return method;
}

export function outcomeOf(error: unknown): Outcome {
  let code: string | undefined;
  for (let at: unknown = error, depth = 0; at !== null && typeof at === 'object' && depth < 5; at = (at as { cause?: unknown }).cause, depth += 1) {
    const found = (at as { code?: unknown }).code;
    if (typeof found === 'string' && found.startsWith('MG_ERR_')) return { code: found, message: (at as Error).message };
    if (code === undefined && typeof found === 'string') code = found;
  }
  return { ...(code !== undefined && { code }), message: String((error as Error)?.message ?? error) };
}

const url = (call: Call): string => `${call.protocol}://${call.authority}${call.path}`;

const settle = (work: Promise<Outcome>): Promise<Outcome> => work.catch(outcomeOf);

function nodeHttp(request: typeof http.request, call: Call): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    const length = call.body === undefined ? 0 : Buffer.byteLength(call.body);
    if (call.framing === 'content-length' || call.framing === 'conflicting') headers['content-length'] = String(length);
    if (call.framing === 'overlong') headers['content-length'] = String(Math.max(0, length - 3));
    if (call.framing === 'chunked' || call.framing === 'conflicting') headers['transfer-encoding'] = 'chunked';
    if (call.framing === 'identity') headers['transfer-encoding'] = 'identity';
    const options = {
      method: call.method,
      headers,
      ...(call.agent !== undefined && { agent: call.agent }),
      ...(call.ca !== undefined && { ca: call.ca }),
    };
    const [host, port] = call.authority.split(':');
    const sent = (call.protocol === 'https' ? https.request : request)({ host, port, path: call.path, ...options }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
      response.on('error', (error) => resolve(outcomeOf(error)));
    });
    sent.on('error', (error) => resolve(outcomeOf(error)));
    sent.end(call.body);
  });
}

const init = (call: Call): { method: string; body?: string } => ({ method: call.method, ...(call.body !== undefined && { body: call.body }) });

/** Waits for a WebSocket or EventSource to open or fail, then closes it. */
function firstEvent(target: { addEventListener(type: string, listener: (event: unknown) => void): void; close(): void }): Promise<Outcome> {
  return new Promise((resolve) => {
    target.addEventListener('open', () => {
      target.close();
      resolve({ status: 200 });
    });
    target.addEventListener('error', (event) => {
      target.close();
      resolve(outcomeOf((event as { error?: unknown }).error ?? new Error('error event')));
    });
  });
}

export const HTTP_CLIENTS: readonly HttpClient[] = [
  { name: 'node:http', protocols: ['http', 'https'], methodCase: 'upper', raw: true, upgrade: false, run: (call) => nodeHttp(http.request, call) },
  { name: 'node:http copied before install', protocols: ['http'], methodCase: 'upper', raw: true, upgrade: false, run: (call) => nodeHttp(copiedHttpRequest, call) },
  {
    name: 'axios',
    protocols: ['http', 'https'],
    methodCase: 'upper',
    raw: false,
    upgrade: false,
    run: (call) =>
      settle(
        axios
          .request({ url: url(call), ...init(call), data: call.body, validateStatus: () => true, ...(call.ca !== undefined && { httpsAgent: new https.Agent({ ca: call.ca }) }) })
          .then((response) => ({ status: response.status })),
      ),
  },
  {
    name: 'got',
    protocols: ['http', 'https'],
    methodCase: 'upper',
    raw: false,
    upgrade: false,
    run: (call) =>
      settle(
        got(url(call), { method: call.method as 'GET', ...(call.body !== undefined && { body: call.body }), throwHttpErrors: false, retry: { limit: 0 }, allowGetBody: true, ...(call.ca !== undefined && { https: { certificateAuthority: call.ca } }) }).then(
          (response) => ({ status: response.statusCode }),
        ),
      ),
  },
  {
    name: 'node-fetch',
    protocols: ['http', 'https'],
    methodCase: 'fetch',
    raw: false,
    upgrade: false,
    run: (call) => settle(nodeFetch(url(call), { ...init(call), ...(call.ca !== undefined && { agent: new https.Agent({ ca: call.ca }) }) }).then(async (response) => (await response.arrayBuffer(), { status: response.status }))),
  },
  { name: 'global fetch', protocols: ['http', 'https'], methodCase: 'fetch', raw: false, upgrade: false, run: (call) => settle(fetch(url(call), init(call)).then(async (response) => (await response.arrayBuffer(), { status: response.status }))) },
  { name: 'undici 8 fetch', protocols: ['http'], methodCase: 'fetch', raw: false, upgrade: false, run: (call) => settle(undici.fetch(url(call), init(call)).then(async (response) => (await response.arrayBuffer(), { status: response.status }))) },
  {
    name: 'undici 8 request',
    protocols: ['http'],
    methodCase: 'as-given',
    raw: false,
    upgrade: false,
    run: (call) => settle(undici.request(url(call), { method: call.method as 'GET', body: call.body ?? null }).then(async (response) => (await response.body.dump(), { status: response.statusCode }))),
  },
  { name: 'undici 7 fetch', protocols: ['http'], methodCase: 'fetch', raw: false, upgrade: false, run: (call) => settle(undici7.fetch(url(call), init(call)).then(async (response) => (await response.arrayBuffer(), { status: response.status }))) },
  {
    name: 'undici 7 request',
    protocols: ['http'],
    methodCase: 'as-given',
    raw: false,
    upgrade: false,
    run: (call) => settle(undici7.request(url(call), { method: call.method as 'GET', body: call.body ?? null }).then(async (response) => (await response.body.dump(), { status: response.statusCode }))),
  },
  { name: 'undici 6 fetch', protocols: ['http'], methodCase: 'fetch', raw: false, upgrade: false, run: (call) => settle(undici6.fetch(url(call), init(call)).then(async (response) => (await response.arrayBuffer(), { status: response.status }))) },
  {
    name: 'undici 6 request',
    protocols: ['http'],
    methodCase: 'as-given',
    raw: false,
    upgrade: false,
    run: (call) => settle(undici6.request(url(call), { method: call.method as 'GET', body: call.body ?? null }).then(async (response) => (await response.body.dump(), { status: response.statusCode }))),
  },
  { name: 'global WebSocket', protocols: ['http'], methodCase: 'upper', raw: false, upgrade: true, run: (call) => firstEvent(new WebSocket(`ws://${call.authority}${call.path}`)) },
  { name: 'undici 8 WebSocket', protocols: ['http'], methodCase: 'upper', raw: false, upgrade: true, run: (call) => firstEvent(new undici.WebSocket(`ws://${call.authority}${call.path}`) as never) },
  {
    name: 'ws',
    protocols: ['http'],
    methodCase: 'upper',
    raw: false,
    upgrade: true,
    run: (call) =>
      new Promise((resolve) => {
        const socket = new WebSocketClient(`ws://${call.authority}${call.path}`);
        socket.on('open', () => {
          socket.terminate();
          resolve({ status: 200 });
        });
        socket.on('error', (error) => resolve(outcomeOf(error)));
      }),
  },
  { name: 'undici 8 EventSource', protocols: ['http'], methodCase: 'upper', raw: false, upgrade: false, run: (call) => firstEvent(new undici.EventSource(url(call)) as never) },
];

/** What each client does with the method it is given: calls the generative tests may ask of it. */
export function clientTakes(client: HttpClient, method: string): boolean {
  // WebSocket and EventSource make GETs only; fetch refuses CONNECT, TRACE and TRACK itself.
  if (client.upgrade || client.name.includes('EventSource')) return method === 'GET';
  return true;
}

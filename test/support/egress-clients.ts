// Every client the egress tests drive, as one table: the vitest process, its worker threads and
// its child processes load this same file (plain Node strips the types), so a client behaves alike
// wherever the generative test runs it. It imports no mirrorguard code.
import dgram from 'node:dgram';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { connect as esmConnect } from 'node:net';
import tls from 'node:tls';
import axios from 'axios';
import got from 'got';
import nodeFetch from 'node-fetch';
import * as undici from 'undici';
import * as undici6 from 'undici6';
import { WebSocket as WsWebSocket } from 'ws';
import type { SentinelKind } from './byte-sentinel.ts';

/** Where a client is pointed: the host as spelled (any spelling), the port (a number or a string), or a Unix path. */
export interface Target {
  readonly kind: SentinelKind;
  readonly host: string;
  readonly port: number | string;
  readonly path?: string;
}

/** What came of a call: the first error code found in the error, its causes and aggregated errors. */
export interface Outcome {
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
}

export interface Client {
  readonly kinds: readonly SentinelKind[];
  /** The API hides why a connection failed (the WHATWG WebSocket's error event carries no error): only the journal says. */
  readonly opaqueErrors?: boolean;
  /** Made before the lockdown in the `before` timing: an agent, a dispatcher, a captured function. */
  readonly prepare?: () => unknown;
  readonly run: (target: Target, prepared: unknown) => Promise<unknown>;
}

const TIMEOUT_MS = 5_000;

/** A host as it goes into a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

const url = (scheme: string, target: Target, path = '/egress'): string => `${scheme}://${urlHost(target.host)}:${String(target.port)}${path}`;

/** Writes and waits for the answer (or the end) of a raw stream socket. */
function talk(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
    socket.once('error', reject);
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.write('hello');
  });
}

function httpCall(request: http.ClientRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    request.setTimeout(TIMEOUT_MS, () => request.destroy(new Error('timed out')));
    request.once('error', reject);
    request.once('response', (response) => {
      response.resume();
      response.once('end', resolve);
    });
    request.end('hello');
  });
}

function http2Call(target: Target, secure: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url(secure ? 'https' : 'http', target, ''), secure ? { rejectUnauthorized: false } : {});
    const fail = (error: Error): void => {
      session.destroy();
      reject(error);
    };
    session.once('error', fail);
    session.setTimeout(TIMEOUT_MS, () => fail(new Error('timed out')));
    const stream = session.request({ ':method': 'POST', ':path': '/egress' });
    stream.once('error', fail);
    stream.once('response', () => {
      stream.resume();
      stream.once('end', () => {
        session.close();
        resolve();
      });
    });
    stream.end('hello');
  });
}

function webSocketCall(socket: { addEventListener?: unknown; on?: unknown; send(data: string): void; close(): void }, wsPackage: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), TIMEOUT_MS);
    const done = (error?: unknown): void => {
      clearTimeout(timer);
      if (error === undefined) resolve();
      else reject(error);
    };
    if (wsPackage) {
      const ws = socket as unknown as WsWebSocket;
      ws.once('open', () => ws.send('hello'));
      ws.once('error', (error) => done(error));
      ws.once('close', (code) => (code === 1000 ? done() : done(new Error(`closed ${code}`))));
    } else {
      const ws = socket as unknown as WebSocket;
      ws.addEventListener('open', () => ws.send('hello'));
      ws.addEventListener('error', (event) => done((event as unknown as { error?: unknown }).error ?? new Error('websocket error')));
      ws.addEventListener('close', (event) => (event.code === 1000 ? done() : done(new Error(`closed ${event.code}`))));
    }
  });
}

/** Sends one datagram; done when the socket has handed it on (no answer is awaited: a reply would be a send of the sentinel's). */
function udpCall(target: Target, connectFirst: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(target.host) ? 'udp6' : 'udp4');
    const finish = (error?: Error | null): void => {
      socket.close();
      if (error) reject(error);
      else resolve();
    };
    socket.once('error', finish);
    const port = target.port as number;
    if (connectFirst) {
      // dgram hands a failed connect to the callback.
      socket.connect(port, target.host, (error?: Error) => (error ? finish(error) : socket.send('hello', finish)));
    } else {
      socket.send('hello', port, target.host, finish);
    }
  });
}

const body = { 'content-type': 'text/plain' };

export const CLIENTS: Record<string, Client> = {
  'net.connect': { kinds: ['tcp'], prepare: () => net.connect, run: (t, p) => talk((p as typeof net.connect ?? net.connect)(t.port as number, t.host)) },
  'net.connect (ESM binding)': { kinds: ['tcp'], prepare: () => esmConnect, run: (t, p) => talk(((p as typeof esmConnect) ?? esmConnect)({ port: t.port as number, host: t.host })) },
  // The method captured before the lockdown: the socket layer is bypassed, the handle layer is not.
  'Socket.prototype.connect captured': {
    kinds: ['tcp'],
    prepare: () => net.Socket.prototype.connect,
    run: (t, p) => {
      const socket = new net.Socket();
      const connect = ((p as typeof socket.connect | undefined) ?? socket.connect) as (this: net.Socket, port: number, host: string) => net.Socket;
      connect.call(socket, t.port as number, t.host);
      return talk(socket);
    },
  },
  'net.connect (unix)': { kinds: ['unix'], run: (t) => talk(net.connect(t.path!)) },
  'tls.connect': { kinds: ['tls'], run: (t) => talk(tls.connect({ host: t.host, port: t.port as number, rejectUnauthorized: false, ...(net.isIP(t.host) === 0 && { servername: t.host }) })) },
  'http.request': { kinds: ['http'], run: (t) => httpCall(http.request(url('http', t), { method: 'POST', headers: body })) },
  'http.request, agent per call': {
    kinds: ['http'],
    prepare: () => new http.Agent({ keepAlive: true }),
    run: (t, p) => httpCall(http.request(url('http', t), { method: 'POST', headers: body, agent: (p as http.Agent) ?? new http.Agent() })),
  },
  'https.request, agent per call': {
    kinds: ['https'],
    prepare: () => new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
    run: (t, p) => httpCall(https.request(url('https', t), { method: 'POST', headers: body, agent: (p as https.Agent) ?? new https.Agent({ rejectUnauthorized: false }) })),
  },
  'global fetch': { kinds: ['http'], run: async (t) => (await fetch(url('http', t), { method: 'POST', body: 'hello', signal: AbortSignal.timeout(TIMEOUT_MS) })).text() },
  'undici request': { kinds: ['http'], run: async (t) => (await undici.request(url('http', t), { method: 'POST', body: 'hello', signal: AbortSignal.timeout(TIMEOUT_MS) })).body.text() },
  'undici fetch': { kinds: ['http'], run: async (t) => (await undici.fetch(url('http', t), { method: 'POST', body: 'hello', signal: AbortSignal.timeout(TIMEOUT_MS) })).text() },
  'undici Agent per call': {
    kinds: ['http', 'https'],
    prepare: () => new undici.Agent({ connect: { rejectUnauthorized: false } }),
    run: async (t, p) =>
      (
        await undici.request(url(t.kind === 'https' ? 'https' : 'http', t), {
          method: 'POST',
          body: 'hello',
          dispatcher: (p as undici.Agent) ?? new undici.Agent({ connect: { rejectUnauthorized: false } }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        })
      ).body.text(),
  },
  // A dispatcher taken before the lockdown, the way a module keeps getGlobalDispatcher() at load.
  'undici global dispatcher captured': {
    kinds: ['http'],
    prepare: () => undici.getGlobalDispatcher(),
    run: async (t, p) => (await undici.request(url('http', t), { method: 'POST', body: 'hello', dispatcher: (p as undici.Dispatcher) ?? undici.getGlobalDispatcher(), signal: AbortSignal.timeout(TIMEOUT_MS) })).body.text(),
  },
  'undici 6 request': { kinds: ['http'], run: async (t) => (await undici6.request(url('http', t), { method: 'POST', body: 'hello', signal: AbortSignal.timeout(TIMEOUT_MS) })).body.text() },
  'undici 6 fetch': { kinds: ['http'], run: async (t) => (await undici6.fetch(url('http', t), { method: 'POST', body: 'hello', signal: AbortSignal.timeout(TIMEOUT_MS) })).text() },
  axios: {
    kinds: ['http', 'https'],
    prepare: () => axios.create({ httpsAgent: new https.Agent({ rejectUnauthorized: false }) }),
    run: async (t, p) =>
      ((p as typeof axios) ?? axios.create({ httpsAgent: new https.Agent({ rejectUnauthorized: false }) })).post(url(t.kind === 'https' ? 'https' : 'http', t), 'hello', { headers: body, timeout: TIMEOUT_MS, proxy: false }),
  },
  got: {
    kinds: ['http', 'https'],
    prepare: () => got.extend({ https: { rejectUnauthorized: false } }),
    run: (t, p) =>
      ((p as typeof got) ?? got.extend({ https: { rejectUnauthorized: false } })).post(url(t.kind === 'https' ? 'https' : 'http', t), { body: 'hello', retry: { limit: 0 }, timeout: { request: TIMEOUT_MS } }).text(),
  },
  'node-fetch': {
    kinds: ['http', 'https'],
    run: async (t) =>
      (await nodeFetch(url(t.kind === 'https' ? 'https' : 'http', t), { method: 'POST', body: 'hello', ...(t.kind === 'https' && { agent: new https.Agent({ rejectUnauthorized: false }) }) })).text(),
  },
  'global WebSocket': { kinds: ['ws'], opaqueErrors: true, run: (t) => webSocketCall(new WebSocket(url('ws', t)), false) },
  'ws package': { kinds: ['ws'], run: (t) => webSocketCall(new WsWebSocket(url('ws', t)) as never, true) },
  'http2.connect': { kinds: ['h2c', 'h2'], run: (t) => http2Call(t, t.kind === 'h2') },
  'dgram send': { kinds: ['udp'], run: (t) => udpCall(t, false) },
  'dgram connect, then send': { kinds: ['udp'], run: (t) => udpCall(t, true) },
};

/** The first `code` in an error, its `cause` chain and its aggregated `errors`. */
export function codeOf(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 6) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && code.startsWith('MG_')) return code;
  const nested = codeOf(cause, depth + 1) ?? (Array.isArray(errors) ? errors.map((each) => codeOf(each, depth + 1)).find((each) => each !== undefined) : undefined);
  return nested ?? (typeof code === 'string' ? code : undefined);
}

export async function runClient(name: string, target: Target, prepared?: unknown): Promise<Outcome> {
  const client = CLIENTS[name];
  if (client === undefined) throw new Error(`no client ${name}`);
  try {
    await client.run(target, prepared);
    return { ok: true };
  } catch (error) {
    const code = codeOf(error);
    return { ok: false, ...(code !== undefined && { code }), message: String((error as Error)?.message ?? error).slice(0, 300) };
  }
}

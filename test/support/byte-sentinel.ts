import dgram from 'node:dgram';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { privateDir } from './private-dir.ts';
import type { Certificate } from './self-signed-cert.ts';

/** What a sentinel speaks. Each answers a client that gets through, so a control run completes. */
export type SentinelKind = 'tcp' | 'tls' | 'http' | 'https' | 'h2c' | 'h2' | 'ws' | 'udp' | 'unix';

export const SENTINEL_KINDS: readonly SentinelKind[] = ['tcp', 'tls', 'http', 'https', 'h2c', 'h2', 'ws', 'udp', 'unix'];

/**
 * The oracle of the egress tests: a server on loopback, independent of the code under test, that
 * counts every connection it accepts (every datagram, for UDP) and every byte it reads — at the
 * socket, below whatever protocol it speaks, so a TLS ClientHello or a half-written request counts.
 * It listens on 127.0.0.1 and on ::1, on one port.
 */
export interface ByteSentinel {
  readonly kind: SentinelKind;
  /** The port on both addresses; 0 for a Unix socket. */
  readonly port: number;
  /** The Unix socket's path. */
  readonly path: string | undefined;
  connections(): number;
  bytes(): number;
  /** Resolves once more than `count` bytes were read (a datagram arrived, a connection closed): the event, not a timer. */
  bytesAbove(count: number): Promise<void>;
  close(): Promise<void>;
}

interface Listener {
  listen(port: number, host: string, callback: () => void): unknown;
  listen(path: string, callback: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'connection', listener: (socket: net.Socket) => void): unknown;
  close(callback?: () => void): unknown;
  address(): net.AddressInfo | string | null;
}

function makeServer(kind: Exclude<SentinelKind, 'udp'>, cert: Certificate | undefined): Listener {
  const need = (): Certificate => {
    if (cert === undefined) throw new Error(`a ${kind} sentinel needs a certificate`);
    return cert;
  };
  const echo = (socket: net.Socket | tls.TLSSocket): void => {
    socket.on('data', () => socket.end('ok'));
    socket.on('error', () => undefined);
  };
  const answer = (_request: http.IncomingMessage, response: http.ServerResponse): void => {
    _request.resume();
    _request.on('end', () => response.end('ok'));
  };
  switch (kind) {
    case 'tcp':
    case 'unix':
      return net.createServer(echo);
    case 'tls':
      return tls.createServer(need(), echo);
    case 'http':
      return http.createServer(answer);
    case 'https':
      return https.createServer(need(), answer);
    case 'h2c':
    case 'h2': {
      const server = kind === 'h2c' ? http2.createServer() : http2.createSecureServer(need());
      server.on('stream', (stream) => {
        stream.resume();
        stream.on('end', () => {
          stream.respond({ ':status': 200 });
          stream.end('ok');
        });
        stream.on('error', () => undefined);
      });
      server.on('sessionError', () => undefined);
      return server as unknown as Listener;
    }
    case 'ws': {
      const server = http.createServer();
      const sockets = new WebSocketServer({ server });
      sockets.on('connection', (socket) => socket.on('message', () => socket.close(1000, 'ok')));
      return server;
    }
  }
}

async function listen(server: Listener, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return (server.address() as net.AddressInfo).port;
}

export async function startByteSentinel(kind: SentinelKind, cert?: Certificate): Promise<ByteSentinel> {
  let connections = 0;
  let closedBytes = 0;
  const live = new Set<net.Socket>();
  const events = new EventEmitter();
  const waitAbove = async (count: number, bytes: () => number): Promise<void> => {
    while (bytes() <= count) await once(events, 'read');
  };

  if (kind === 'udp') {
    let bytes = 0;
    const sockets = [dgram.createSocket('udp4'), dgram.createSocket('udp6')];
    for (const socket of sockets) {
      // No answer: sending one would be a datagram of this process, which a locked-down test process refuses.
      socket.on('message', (message) => {
        connections += 1;
        bytes += message.length;
        events.emit('read');
      });
    }
    const port = await new Promise<number>((resolve) => sockets[0]!.bind(0, '127.0.0.1', () => resolve(sockets[0]!.address().port)));
    await new Promise<void>((resolve) => sockets[1]!.bind(port, '::1', resolve));
    return {
      kind,
      port,
      path: undefined,
      connections: () => connections,
      bytes: () => bytes,
      bytesAbove: (count) => waitAbove(count, () => bytes),
      close: async () => {
        for (const socket of sockets) await new Promise<void>((resolve) => socket.close(() => resolve()));
      },
    };
  }

  const count = (socket: net.Socket): void => {
    connections += 1;
    live.add(socket);
    // bytesRead counts at the handle, whatever reads the socket (http and TLS servers consume it natively, without data events).
    socket.on('close', () => {
      closedBytes += socket.bytesRead;
      live.delete(socket);
      events.emit('read');
    });
  };
  const bytes = (): number => closedBytes + [...live].reduce((sum, socket) => sum + socket.bytesRead, 0);
  const servers: Listener[] = [];
  let port = 0;
  let path: string | undefined;
  if (kind === 'unix') {
    const server = makeServer(kind, cert);
    server.on('connection', count);
    path = join(privateDir('mirrorguard-sentinel-'), 'sentinel.sock');
    await new Promise<void>((resolve) => server.listen(path!, resolve));
    servers.push(server);
  } else {
    for (const host of ['127.0.0.1', '::1']) {
      const server = makeServer(kind, cert);
      server.on('connection', count);
      port = await listen(server, port, host);
      servers.push(server);
    }
  }
  return {
    kind,
    port,
    path,
    connections: () => connections,
    bytes,
    bytesAbove: (count) => waitAbove(count, bytes),
    close: async () => {
      for (const socket of live) socket.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}

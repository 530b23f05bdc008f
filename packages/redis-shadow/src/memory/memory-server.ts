import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { MirrorGuardError } from '@mirrorguard/core';
import { createMemoryEngine } from './families.ts';
import { MemoryConnection } from './memory-connection.ts';
import type { MemoryEngine } from './memory-engine.ts';
import { CommandReader, RespProtocolError } from '../protocol/resp-frames.ts';
import { errors, isStatus, NULL_ARRAY, type Reply } from './replies.ts';

export interface MemoryServerOptions {
  /** The engine to serve; a new one by default. */
  readonly engine?: MemoryEngine;
  /** 127.0.0.1 by default: the engine has no authentication. */
  readonly host?: string;
  /** 0 (a free port) by default. */
  readonly port?: number;
}

export interface MemoryServer {
  readonly engine: MemoryEngine;
  /** `redis://host:port`, for any Redis client (ShadowRedis and RecordingRedis included). */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes every client's connection. */
  close(): Promise<void>;
}

const CRLF = '\r\n';

/** Encodes an engine reply as RESP2. */
export function encodeReply(reply: Reply, parts: Buffer[]): void {
  if (reply === null) parts.push(Buffer.from(`$-1${CRLF}`));
  else if (reply === NULL_ARRAY) parts.push(Buffer.from(`*-1${CRLF}`));
  else if (typeof reply === 'number' || typeof reply === 'bigint') parts.push(Buffer.from(`:${reply}${CRLF}`));
  else if (Buffer.isBuffer(reply)) {
    if (isStatus(reply)) parts.push(Buffer.from(`+${reply.toString('latin1')}${CRLF}`));
    else parts.push(Buffer.from(`$${reply.length}${CRLF}`), reply, Buffer.from(CRLF));
  }
  else if (reply instanceof Error) parts.push(Buffer.from(`-${reply.message.replaceAll(/[\r\n]+/g, ' ')}${CRLF}`));
  else {
    parts.push(Buffer.from(`*${reply.length}${CRLF}`));
    for (const item of reply) encodeReply(item, parts);
  }
}

/** The little of INFO a client asks at connect (ioredis' ready check reads `loading`). */
function info(runId: string, port: number): Buffer {
  return Buffer.from(['# Server', 'redis_version:7.0.15', 'redis_mode:standalone', `run_id:${runId}`, `tcp_port:${port}`, '', '# Persistence', 'loading:0', ''].join(CRLF));
}

/**
 * Serves the memory engine over RESP2 on loopback, so that several processes (a primary and its
 * mirror, say) share one embedded Redis as they would share a real one. Requests are read as Redis
 * reads them: arrays of bulk strings, or inline commands (a line of words). Each client connection has
 * its own database and transaction; a command the engine does not run is answered with an error reply naming MG_ERR_REDIS_UNSUPPORTED.
 */
export async function serveMemoryEngine(options: MemoryServerOptions = {}): Promise<MemoryServer> {
  const engine = options.engine ?? createMemoryEngine();
  const host = options.host ?? '127.0.0.1';
  const runId = randomBytes(20).toString('hex');
  const sockets = new Set<Socket>();
  let port = 0;

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const connection = new MemoryConnection(engine, 0);
    let quit = false;
    const refuse = (message: string): void => {
      quit = true;
      socket.end(`-ERR Protocol error: ${message}${CRLF}`);
    };
    const answer = (name: string, argv: Buffer[]): Reply => {
      if (name === 'info') return info(runId, port);
      try {
        return connection.execute([name, ...argv.slice(1)]);
      } catch (error) {
        // A command the engine does not run, or a fault of the engine's: an error reply, never a dead server.
        return errors.custom(error instanceof MirrorGuardError ? `ERR ${error.code}: ${error.message}` : `ERR ${String(error)}`);
      }
    };
    // Requests as Redis reads them: arrays of bulk strings, or inline commands (a line of words).
    const reader = new CommandReader();
    const run = ({ argv }: { argv: Buffer[] }): void => {
      if (quit) return;
      const name = argv[0]!.toString('latin1').toLowerCase();
      const parts: Buffer[] = [];
      encodeReply(answer(name, argv), parts);
      socket.write(Buffer.concat(parts));
      if (name === 'quit') {
        // What was pipelined after QUIT is not run.
        quit = true;
        socket.end();
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (quit) return;
      try {
        reader.feed(chunk, run);
      } catch (error) {
        refuse(error instanceof RespProtocolError ? error.message : 'unreadable request');
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    engine,
    url: `redis://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

import { createServer, type Socket } from 'node:net';
import { Redis, ReplyError } from 'ioredis';
import RedisParser from 'redis-parser';

// No Redis module is installed here. This stands in for one: a RESP proxy in front of a real
// redis-server (every command is the real server's, as the client's own user) whose COMMAND and
// COMMAND DOCS also describe one command of a module — `name`, filed under `categories` (neither
// @admin nor @dangerous: what the sandbox check cannot go by) — and whose ACL DRYRUN of that
// command answers as `allowed(user)` says. What a module would add, and nothing else.

export interface ModuleCommandProxy {
  readonly url: string;
  readonly port: number;
  /** The ACL DRYRUN verdict for the module's command, per user. */
  allowed: (user: string) => boolean;
  close(): Promise<void>;
}

const CRLF = '\r\n';

function encode(reply: unknown, parts: Buffer[]): void {
  if (reply === null || reply === undefined) parts.push(Buffer.from(`$-1${CRLF}`));
  else if (typeof reply === 'number') parts.push(Buffer.from(`:${reply}${CRLF}`));
  else if (Buffer.isBuffer(reply) || typeof reply === 'string') {
    const bytes = Buffer.from(reply);
    parts.push(Buffer.from(`$${bytes.length}${CRLF}`), bytes, Buffer.from(CRLF));
  } else if (reply instanceof Error) parts.push(Buffer.from(`-${reply.message.replaceAll(/[\r\n]+/g, ' ')}${CRLF}`));
  else {
    const items = reply as unknown[];
    parts.push(Buffer.from(`*${items.length}${CRLF}`));
    for (const item of items) encode(item, parts);
  }
}

export async function startModuleCommandProxy(target: { port: number }, name: string, categories: readonly string[]): Promise<ModuleCommandProxy> {
  const entry = [name, -1, ['write'], 0, 0, 0, categories.map((category) => `@${category}`), [], [], []];
  const docs = ['summary', 'a module command', 'since', '1.0.0', 'group', 'module', 'complexity', 'O(1)', 'module', name.split('.')[0]];
  const sockets = new Set<Socket>();
  const proxy: ModuleCommandProxy = { url: '', port: 0, allowed: () => false, close: async () => undefined };
  const server = createServer((socket) => {
    sockets.add(socket);
    const backend = new Redis({ host: '127.0.0.1', port: target.port, lazyConnect: true, enableReadyCheck: false, disableClientInfo: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    backend.on('error', () => undefined);
    let tail = Promise.resolve();
    const answer = async (argv: Buffer[]): Promise<unknown> => {
      const words = argv.map((part) => part.toString('utf8'));
      const [command = '', sub = ''] = words.map((word) => word.toLowerCase());
      if (command === 'command' && argv.length === 1) return [...((await backend.callBuffer('COMMAND')) as unknown[]), entry];
      if (command === 'command' && sub === 'docs' && words.slice(2).some((word) => word.toLowerCase() === name)) {
        const others = words.slice(2).filter((word) => word.toLowerCase() !== name);
        return [...(others.length > 0 ? ((await backend.callBuffer('COMMAND', 'DOCS', ...others)) as unknown[]) : []), name, docs];
      }
      if (command === 'acl' && sub === 'dryrun' && words[3]?.toLowerCase() === name) {
        return proxy.allowed(words[2]!) ? 'OK' : `This user has no permissions to run the '${name}' command`;
      }
      try {
        return await backend.callBuffer(words[0]!, ...argv.slice(1));
      } catch (error) {
        if (error instanceof ReplyError) return error;
        throw error;
      }
    };
    const parser = new RedisParser({
      returnBuffers: true,
      returnReply: (argv: Buffer[]) => {
        // One at a time, in order, as a server answers a connection.
        tail = tail.then(async () => {
          const parts: Buffer[] = [];
          encode(await answer(argv).catch((error: Error) => new Error(`ERR proxy: ${error.message}`)), parts);
          if (!socket.destroyed) socket.write(Buffer.concat(parts));
        });
      },
      returnError: () => socket.destroy(),
      returnFatalError: () => socket.destroy(),
    });
    socket.on('data', (chunk: Buffer) => parser.execute(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      backend.disconnect();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(proxy, {
    url: `redis://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

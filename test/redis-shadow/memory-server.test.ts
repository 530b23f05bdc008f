import { connect } from 'node:net';
import { createJournal, memorySink } from '@mirrorguard/core';
import { MemoryRedis, RecordingRedis, serveMemoryEngine, ShadowRedis, type MemoryServer } from '@mirrorguard/redis-shadow';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// The memory engine served over RESP: what a primary and its mirror share as their origin when no
// Redis server is there (the demo's embedded mode).
describe('serveMemoryEngine', () => {
  let server: MemoryServer;
  beforeAll(async () => {
    server = await serveMemoryEngine();
  });
  afterAll(() => server.close());

  /** What the engine itself holds, read in process (not over the server being tested). */
  const held = (key: string, db = 0): Promise<string | null> => {
    const direct = new MemoryRedis({ engine: server.engine, db });
    return direct.get(key).finally(() => direct.disconnect());
  };

  it('answers ioredis: strings, counters, hashes, transactions, databases, shared by clients', async () => {
    const a = new Redis(server.url);
    const b = new Redis(`${server.url}/2`);
    try {
      expect(await a.set('greeting', 'hello')).toBe('OK');
      expect(await a.get('greeting')).toBe('hello');
      expect(await a.incrby('counter', 5)).toBe(5);
      await a.hset('h', { x: '1', y: '2' });
      expect(await a.hgetall('h')).toEqual({ x: '1', y: '2' });
      expect(await a.multi().incr('counter').get('counter').exec()).toEqual([
        [null, 6],
        [null, '6'],
      ]);
      expect(await b.get('greeting')).toBeNull();
      await b.set('greeting', 'db2');
      expect(await held('greeting', 2)).toBe('db2');
      expect(await held('greeting', 0)).toBe('hello');
      expect(await a.getBuffer('greeting')).toEqual(Buffer.from('hello'));
      await expect(a.call('XADD', 's', '*', 'f', 'v')).rejects.toThrow(/MG_ERR_REDIS_UNSUPPORTED/);
      await expect(a.call('GET')).rejects.toThrow("ERR wrong number of arguments for 'get' command");
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('writes RESP2 a raw client can read, pipelined requests answered in order', async () => {
    const socket = connect(server.port, '127.0.0.1');
    const replies: Buffer[] = [];
    socket.on('data', (chunk) => replies.push(chunk));
    socket.write('*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n*2\r\n$4\r\nINCR\r\n$8\r\ngreeting\r\n*1\r\n$4\r\nQUIT\r\n');
    await new Promise((resolve) => socket.on('close', resolve));
    expect(Buffer.concat(replies).toString()).toBe('+PONG\r\n$-1\r\n-ERR value is not an integer or out of range\r\n+OK\r\n');
  });

  /** Writes `chunks` one by one (each its own TCP write) and returns all the server answered until it closed. */
  async function exchange(chunks: readonly (string | Buffer)[]): Promise<string> {
    const socket = connect(server.port, '127.0.0.1');
    socket.setNoDelay(true);
    const replies: Buffer[] = [];
    socket.on('data', (chunk) => replies.push(chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    for (const chunk of chunks) {
      socket.write(chunk);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await closed;
    return Buffer.concat(replies).toString('latin1');
  }

  it('reads requests split anywhere, and values of megabytes', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 'x');
    const set = Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$${big.length}\r\n`), big, Buffer.from('\r\n*2\r\n$6\r\nSTRLEN\r\n$3\r\nbig\r\n*1\r\n$4\r\nQUIT\r\n')]);
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < set.length; offset += 65_536) pieces.push(set.subarray(offset, offset + 65_536));
    // A request cut inside its header and inside its argument, too.
    expect(await exchange(['*2\r', '\n$3\r\nG', 'ET\r\n$3\r\nbig\r\n*1\r\n$4\r\nQUIT\r\n'])).toBe('$-1\r\n+OK\r\n');
    expect(await exchange(pieces)).toBe(`+OK\r\n:${big.length}\r\n+OK\r\n`);
    expect((await held('big'))?.length).toBe(big.length);
  });

  it('answers a malformed request with a protocol error and closes; runs nothing pipelined after QUIT', async () => {
    // A line not starting with `*` is an inline command, as Redis reads it (tested below, against a real Redis).
    for (const request of ['*1\r\n:1\r\n', '*2\r\n$3\r\nGET\r\n$-1\r\n', '*1\r\n*1\r\n$4\r\nPING\r\n']) {
      expect(await exchange([request]), JSON.stringify(request)).toMatch(/^-ERR Protocol error: /);
    }
    expect(await exchange(['*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n'])).toBe('+OK\r\n');
    expect(await held('after')).toBeNull();
    // The server is still there for everyone else.
    const client = new Redis(server.url);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('is an origin for ShadowRedis and RecordingRedis: the mirror writes nothing to it, the primary does', async () => {
    const sink = memorySink();
    const primary = new RecordingRedis(server.url, { journal: createJournal({ sinks: [sink], profile: 'record' }) });
    const mirror = new ShadowRedis(server.url, { shadow: 'memory', journal: createJournal({ sinks: [sink], profile: 'mirror' }) });
    try {
      await primary.set('stock:1', '10');
      expect(await mirror.get('stock:1')).toBe('10');
      expect(await mirror.decrby('stock:1', 3)).toBe(7);
      expect(await mirror.get('stock:1')).toBe('7');
      expect(await held('stock:1')).toBe('10');
      await mirror.del('greeting');
      expect(await held('greeting')).toBe('hello');
      // The SET went out before the primary had connected (ioredis sends it again from its offline queue): journaled once.
      expect(sink.events().filter((event) => event.action !== 'warned').map((event) => `${event.profile}:${event.action}:${event.operation}`)).toEqual(['record:recorded:set stock:1 10', 'mirror:shadowed:decrby stock:1 3', 'mirror:shadowed:del greeting']);
    } finally {
      primary.disconnect();
      mirror.disconnect();
    }
  });
});

// The served engine against a real Redis, reply by reply on the wire: status replies apart from
// bulk strings, RESP2's null array (`*-1`) apart from the null bulk string (`$-1`), and 64-bit
// integers exact.
describe('serveMemoryEngine on the wire, against a real Redis', () => {
  let engine: MemoryServer;
  let real: ThrowawayRedis;
  beforeAll(async () => {
    engine = await serveMemoryEngine();
    real = await startRedisServer();
  });
  afterAll(async () => {
    await engine.close();
    await real.kill();
  });

  /** RESP2 read into a comparable form: nulls told apart, integers as their digits. */
  function decode(text: string): unknown[] {
    let at = 0;
    const line = (): string => {
      const end = text.indexOf('\r\n', at);
      const value = text.slice(at, end);
      at = end + 2;
      return value;
    };
    const one = (): unknown => {
      const head = line();
      const body = head.slice(1);
      switch (head[0]) {
        case '+':
          return { status: body };
        case '-':
          return { error: body.split(' ')[0] };
        case ':':
          return { integer: body };
        case '$': {
          if (body === '-1') return 'null bulk';
          const value = text.slice(at, at + Number(body));
          at += Number(body) + 2;
          return { string: value };
        }
        case '*':
          return body === '-1' ? 'null array' : Array.from({ length: Number(body) }, one);
        default:
          throw new Error(`not RESP2: ${JSON.stringify(text.slice(at - head.length - 2))}`);
      }
    };
    const replies: unknown[] = [];
    while (at < text.length) replies.push(one());
    return replies;
  }

  const resp = (...argv: string[]): string => `*${argv.length}\r\n${argv.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;

  /** Sends `commands` then QUIT on a new connection, and decodes everything the server answered. */
  async function session(port: number, commands: ReadonlyArray<readonly string[]>): Promise<unknown[]> {
    const socket = connect(port, '127.0.0.1');
    const replies: Buffer[] = [];
    socket.on('data', (chunk) => replies.push(chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(commands.map((argv) => resp(...argv)).join('') + resp('QUIT'));
    await closed;
    return decode(Buffer.concat(replies).toString('latin1'));
  }

  const bothAnswer = async (commands: ReadonlyArray<readonly string[]>): Promise<void> => {
    const port = Number(new URL(real.url).port);
    expect(await session(engine.port, commands)).toEqual(await session(port, commands));
  };

  it('sends the null array where Redis does: LPOP/RPOP with a count on a missing key, LMPOP and ZMPOP with nothing to pop', async () => {
    await bothAnswer([
      ['LPOP', 'wire:missing', '2'],
      ['RPOP', 'wire:missing', '2'],
      ['LPOP', 'wire:missing'],
      ['LMPOP', '1', 'wire:missing', 'LEFT'],
      ['ZMPOP', '1', 'wire:missing', 'MIN'],
      ['RPUSH', 'wire:list', 'a'],
      ['LPOP', 'wire:list', '2'],
      ['LPOP', 'wire:list', '2'],
      ['DEL', 'wire:list'],
    ]);
  });

  it('sends the null array for an EXEC that WATCH aborted', async () => {
    for (const port of [engine.port, Number(new URL(real.url).port)]) {
      const watcher = connect(port, '127.0.0.1');
      const replies: Buffer[] = [];
      const first = new Promise((resolve) => watcher.once('data', resolve));
      watcher.on('data', (chunk) => replies.push(chunk));
      const closed = new Promise((resolve) => watcher.on('close', resolve));
      watcher.write(resp('WATCH', 'wire:watched'));
      await first;
      await session(port, [['SET', 'wire:watched', 'changed']]);
      watcher.write(resp('MULTI') + resp('GET', 'wire:watched') + resp('EXEC') + resp('DEL', 'wire:watched') + resp('QUIT'));
      await closed;
      expect(decode(Buffer.concat(replies).toString('latin1')).slice(2, 4), `port ${port}`).toEqual([{ status: 'QUEUED' }, 'null array']);
    }
  });

  it('answers 64-bit integers exactly, past 2^53 (HINCRBY, INCRBY, DECRBY and their overflow errors)', async () => {
    await bothAnswer([
      ['HSET', 'wire:h', 'n', '-9223372036854775484'],
      ['HINCRBY', 'wire:h', 'n', '-1'],
      ['HINCRBY', 'wire:h', 'n', '-10000'],
      ['SET', 'wire:n', '9007199254740993'],
      ['INCRBY', 'wire:n', '2'],
      ['INCRBY', 'wire:n', '9223372036854775000'],
      ['DECRBY', 'wire:n', '9007199254740995'],
      ['INCR', 'wire:n'],
      ['DEL', 'wire:h', 'wire:n'],
    ]);
  });

  it('reads inline commands as Redis does (a line of words), pipelined with arrays of bulk strings', async () => {
    const inline = async (port: number): Promise<unknown[]> => {
      const socket = connect(port, '127.0.0.1');
      const replies: Buffer[] = [];
      socket.on('data', (chunk) => replies.push(chunk));
      const closed = new Promise((resolve) => socket.on('close', resolve));
      socket.write(`PING\r\nSET wire:inline 5\r\nINCR   wire:inline\r\n${resp('GET', 'wire:inline')}\tDEL wire:inline \r\n\r\nQUIT\r\n`);
      await closed;
      return decode(Buffer.concat(replies).toString('latin1'));
    };
    expect(await inline(engine.port)).toEqual(await inline(Number(new URL(real.url).port)));
  });

  it('keeps expiries past 2^53 ms exactly, and refuses those past 64 bits as Redis does', async () => {
    await bothAnswer([
      ['SET', 'wire:e', 'v'],
      ['PEXPIREAT', 'wire:e', '9223372036854770000'],
      ['PEXPIRETIME', 'wire:e'],
      ['EXPIRETIME', 'wire:e'],
      ['PEXPIREAT', 'wire:e', '9223372036854770001', 'GT'],
      ['PEXPIRETIME', 'wire:e'],
      ['EXPIRE', 'wire:e', '9223372036854775', 'LT'],
      ['EXPIRE', 'wire:e', '9223372036854776'],
      ['PEXPIRE', 'wire:e', '9223372036854775807'],
      ['PEXPIREAT', 'wire:e', '-9223372036854770000'],
      ['TTL', 'wire:e'],
      ['EXISTS', 'wire:e'],
    ]);
  });
});

import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledCommandTable, loadCommandTable } from '../../packages/redis-shadow/src/commands/command-table.ts';
import { findKeys } from '../../packages/redis-shadow/src/commands/find-keys.ts';
import { REDIS_URL } from '../support/servers.ts';

// Commands of every key-spec shape: fixed, ranges, steps, keywords searched forward and backward,
// key counts, limits, subcommands, and keys that are no keys.
const SAMPLES: string[][] = [
  ['GET', 'k'], ['SET', 'k', 'v', 'GET'], ['SETNX', 'k', 'v'], ['GETDEL', 'k'], ['GETEX', 'k', 'PX', '10'], ['APPEND', 'k', 'v'],
  ['MSET', 'a', '1', 'b', '2'], ['MSETNX', 'a', '1', 'b', '2'], ['MGET', 'a', 'b', 'c'], ['DEL', 'a', 'b'], ['UNLINK', 'a'], ['EXISTS', 'a', 'b'],
  ['INCR', 'k'], ['INCRBYFLOAT', 'k', '1.5'], ['SETRANGE', 'k', '0', 'x'], ['BITFIELD', 'k', 'SET', 'u8', '0', '1'], ['BITFIELD_RO', 'k', 'GET', 'u8', '0'],
  ['BITOP', 'AND', 'dst', 'a', 'b'], ['COPY', 'src', 'dst', 'REPLACE'], ['RENAME', 'a', 'b'], ['RENAMENX', 'a', 'b'], ['MOVE', 'k', '1'],
  ['EXPIRE', 'k', '10'], ['PEXPIREAT', 'k', '1'], ['PERSIST', 'k'], ['TTL', 'k'], ['PEXPIRETIME', 'k'], ['TYPE', 'k'], ['DUMP', 'k'],
  ['RESTORE', 'k', '0', 'payload', 'REPLACE'], ['TOUCH', 'a', 'b'], ['OBJECT', 'ENCODING', 'k'], ['OBJECT', 'FREQ', 'k'],
  ['LPUSH', 'l', 'x'], ['RPOPLPUSH', 'a', 'b'], ['LMOVE', 'a', 'b', 'LEFT', 'LEFT'], ['BLMOVE', 'a', 'b', 'LEFT', 'LEFT', '0'],
  ['LMPOP', '2', 'a', 'b', 'LEFT'], ['BLMPOP', '0', '2', 'a', 'b', 'LEFT'], ['BLPOP', 'a', 'b', '0'], ['BRPOPLPUSH', 'a', 'b', '0'],
  ['SADD', 's', 'x'], ['SMOVE', 'a', 'b', 'x'], ['SINTERSTORE', 'dst', 'a', 'b'], ['SINTERCARD', '2', 'a', 'b'], ['SMISMEMBER', 's', 'a'],
  ['ZADD', 'z', '1', 'x'], ['ZUNIONSTORE', 'dst', '2', 'a', 'b'], ['ZINTER', '2', 'a', 'b'], ['ZRANGESTORE', 'dst', 'src', '0', '-1'],
  ['ZMPOP', '2', 'a', 'b', 'MIN'], ['BZMPOP', '0', '2', 'a', 'b', 'MIN'], ['BZPOPMIN', 'a', 'b', '0'], ['ZDIFFSTORE', 'dst', '2', 'a', 'b'],
  ['HSET', 'h', 'f', 'v'], ['HGETALL', 'h'], ['HINCRBY', 'h', 'f', '1'],
  ['PFADD', 'p', 'x'], ['PFCOUNT', 'a', 'b'], ['PFMERGE', 'dst', 'a', 'b'],
  ['XADD', 's', '*', 'f', 'v'], ['XREAD', 'COUNT', '1', 'STREAMS', 'a', 'b', '0', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'a', 'b', '>', '>'],
  ['XACK', 's', 'g', '1-0'], ['XCLAIM', 's', 'g', 'c', '0', '1-0'], ['XAUTOCLAIM', 's', 'g', 'c', '0', '0'], ['XGROUP', 'CREATE', 's', 'g', '$'],
  ['XINFO', 'STREAM', 's'], ['XTRIM', 's', 'MAXLEN', '1'],
  ['GEOADD', 'g', '0', '0', 'm'], ['GEOSEARCHSTORE', 'dst', 'src', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
  ['EVAL', 'return 1', '2', 'a', 'b', 'x'], ['EVALSHA_RO', 'abc', '1', 'a'], ['FCALL', 'f', '1', 'a', 'x'],
  ['WATCH', 'a', 'b'], ['SORT_RO', 'k'], ['LCS', 'a', 'b'], ['MIGRATE', 'h', '1', 'k', '0', '1'], ['MIGRATE', 'h', '1', '', '0', '1', 'KEYS', 'a', 'b'],
  ['MEMORY', 'USAGE', 'k'], ['PUBLISH', 'c', 'm'], ['PING'],
];

describe('key extraction agrees with the server (COMMAND GETKEYSANDFLAGS)', () => {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  afterAll(() => redis.quit());

  it('the bundled snapshot matches the live table of a Redis 7', async () => {
    const live = await loadCommandTable(redis);
    const bundled = bundledCommandTable();
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '';
    if (!version.startsWith(bundled.source.replace('snapshot Redis ', '').slice(0, 2))) {
      throw new Error(`the test server is Redis ${version}; the snapshot is from ${bundled.source}`);
    }
    expect([...live.names()].sort()).toEqual([...bundled.names()].sort());
  });

  it.each(SAMPLES.map((argv) => [argv.join(' '), argv] as const))('%s', async (_label, argv) => {
    const table = bundledCommandTable();
    const spec = table.resolve(argv);
    expect(spec, `${argv[0]} is known`).toBeDefined();
    const server = (await redis.call('COMMAND', 'GETKEYSANDFLAGS', ...argv).catch((error: Error) => error)) as [string, string[]][] | Error;
    const ours = findKeys(spec!, argv);
    if (ours === undefined) {
      // Incomplete specs: the router asks the server, which must be able to answer.
      expect(server).not.toBeInstanceOf(Error);
      return;
    }
    const expected = server instanceof Error ? [] : server.map(([key, flags]) => [key, [...flags].map((flag) => flag.toUpperCase()).sort()]);
    expect(ours.map((key) => [argv[key.index], [...key.flags].filter((flag) => flag !== 'VARIABLE_FLAGS').sort()])).toEqual(expected);
  });
});

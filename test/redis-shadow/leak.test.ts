import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournal, memorySink } from '@mirrorguard/core';
import { loadCommandTable, type CommandTable } from '../../packages/redis-shadow/src/commands/command-table.ts';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { monitorServer } from '../support/redis-oracles.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// Every command the origin flags as a write, with valid arguments against keys of the right type,
// plus PUBLISH, PFCOUNT and admin commands, sent through ShadowRedis. MONITOR on the origin, judged
// by the origin's own COMMAND flags, must see no write; every origin key must DUMP as before. Run
// twice: with a redis-server of the test's own as the shadow, and with the memory engine (which
// fails what it does not run with MG_ERR_REDIS_UNSUPPORTED — and still sends nothing to the origin).
// The origin is a redis-server of the test's own: MONITOR sees what it gets in every database.
const ORIGIN_DB = 11;
let origin: ThrowawayRedis;
let originUrl: string;
beforeAll(async () => {
  origin = await startRedisServer();
  originUrl = `${origin.url}/${ORIGIN_DB}`;
});
afterAll(() => origin?.kill());

const WORKLOAD: string[][] = [
  ['APPEND', 's:1', '!'], ['BITFIELD', 's:2', 'SET', 'u8', '0', '255'], ['BITOP', 'OR', 's:dst', 's:1', 's:2'],
  ['BLMOVE', 'l:1', 'l:dst', 'LEFT', 'RIGHT', '0'], ['BLMPOP', '0', '1', 'l:2', 'LEFT'], ['BLPOP', 'l:3', '0'], ['BRPOP', 'l:4', '0'],
  ['BRPOPLPUSH', 'l:5', 'l:dst', '0'], ['BZMPOP', '0', '1', 'z:1', 'MIN'], ['BZPOPMAX', 'z:2', '0'], ['BZPOPMIN', 'z:3', '0'],
  ['COPY', 's:1', 's:copy'], ['DECR', 'n:1'], ['DECRBY', 'n:2', '5'], ['DEL', 's:3'], ['EXPIRE', 's:4', '100'], ['EXPIREAT', 's:5', '4102444800'],
  ['GEOADD', 'g:1', '13.4', '52.5', 'berlin'], ['GEORADIUS', 'g:1', '13.4', '52.5', '100', 'km', 'STORE', 'g:store'],
  ['GEORADIUSBYMEMBER', 'g:1', 'paris', '1000', 'km', 'STOREDIST', 'g:dist'], ['GEOSEARCHSTORE', 'g:search', 'g:1', 'FROMMEMBER', 'paris', 'BYRADIUS', '1000', 'km'],
  ['GETDEL', 's:6'], ['GETEX', 's:7', 'EX', '100'], ['GETSET', 's:8', 'new'], ['HDEL', 'h:1', 'a'], ['HINCRBY', 'h:1', 'n', '2'],
  ['HINCRBYFLOAT', 'h:1', 'f', '1.5'], ['HMSET', 'h:2', 'x', '1'], ['HSET', 'h:3', 'y', '2'], ['HSETNX', 'h:3', 'z', '3'],
  ['INCR', 'n:3'], ['INCRBY', 'n:4', '7'], ['INCRBYFLOAT', 'n:5', '0.5'], ['LINSERT', 'l:6', 'BEFORE', 'b', 'a2'], ['LMOVE', 'l:6', 'l:dst', 'LEFT', 'LEFT'],
  ['LMPOP', '1', 'l:7', 'RIGHT'], ['LPOP', 'l:8'], ['LPUSH', 'l:9', 'x'], ['LPUSHX', 'l:9', 'y'], ['LREM', 'l:10', '0', 'a'], ['LSET', 'l:11', '0', 'z'],
  ['LTRIM', 'l:12', '0', '0'], ['MSET', 's:9', '1', 's:10', '2'], ['MSETNX', 's:new1', '1', 's:new2', '2'], ['PERSIST', 's:ttl'],
  ['PEXPIRE', 's:11', '100000'], ['PEXPIREAT', 's:12', '4102444800000'], ['PFADD', 'p:1', 'd'], ['PFMERGE', 'p:dst', 'p:1', 'p:2'],
  ['PSETEX', 's:13', '100000', 'v'], ['RENAME', 's:14', 's:renamed'], ['RENAMENX', 's:15', 's:renamed2'],
  ['RESTORE', 's:restored', '0', 'PAYLOAD'], ['RESTORE-ASKING', 's:restored2', '0', 'PAYLOAD'],
  ['RPOP', 'l:13'], ['RPOPLPUSH', 'l:14', 'l:dst'], ['RPUSH', 'l:15', 'x'], ['RPUSHX', 'l:15', 'y'], ['SADD', 'set:1', 'm'],
  ['SDIFFSTORE', 'set:dst', 'set:1', 'set:2'], ['SET', 's:16', 'v'], ['SETBIT', 's:17', '7', '1'], ['SETEX', 's:18', '100', 'v'],
  ['SETNX', 's:19', 'v'], ['SETRANGE', 's:20', '0', 'X'], ['SINTERSTORE', 'set:dst2', 'set:1', 'set:2'], ['SMOVE', 'set:1', 'set:2', 'a'],
  ['SORT', 'l:16', 'ALPHA', 'STORE', 'l:sorted'], ['SPOP', 'set:3'], ['SREM', 'set:4', 'a'], ['SUNIONSTORE', 'set:dst3', 'set:1', 'set:2'],
  ['UNLINK', 's:21'], ['XACK', 'x:1', 'group', '1-1'], ['XADD', 'x:1', '*', 'f', 'v'], ['XAUTOCLAIM', 'x:1', 'group', 'c2', '0', '0'],
  ['XCLAIM', 'x:1', 'group', 'c3', '0', '1-1'], ['XDEL', 'x:2', '1-1'], ['XGROUP', 'SETID', 'x:1', 'group', '0'],
  ['XGROUP', 'CREATECONSUMER', 'x:1', 'group', 'c9'], ['XGROUP', 'DELCONSUMER', 'x:1', 'group', 'c1'], ['XGROUP', 'CREATE', 'x:3', 'g2', '0'],
  ['XGROUP', 'DESTROY', 'x:1', 'group'], ['XREADGROUP', 'GROUP', 'g4', 'c1', 'STREAMS', 'x:4', '>'], ['XSETID', 'x:5', '99-0'],
  ['XTRIM', 'x:6', 'MAXLEN', '0'], ['ZADD', 'z:4', '5', 'e'], ['ZDIFFSTORE', 'z:dst', '2', 'z:4', 'z:5'], ['ZINCRBY', 'z:4', '1', 'a'],
  ['ZINTERSTORE', 'z:dst2', '2', 'z:4', 'z:5'], ['ZMPOP', '1', 'z:6', 'MAX'], ['ZPOPMAX', 'z:7'], ['ZPOPMIN', 'z:8'],
  ['ZRANGESTORE', 'z:dst3', 'z:4', '0', '-1'], ['ZREM', 'z:9', 'a'], ['ZREMRANGEBYLEX', 'z:10', '-', '+'], ['ZREMRANGEBYRANK', 'z:11', '0', '0'],
  ['ZREMRANGEBYSCORE', 'z:12', '0', '100'], ['ZUNIONSTORE', 'z:dst4', '2', 'z:4', 'z:5'],
  ['FUNCTION', 'FLUSH'], ['FUNCTION', 'DELETE', 'lib'], ['FUNCTION', 'LOAD', '#!lua name=lib\nredis.register_function("f", function() return 1 end)'],
  ['FUNCTION', 'RESTORE', 'PAYLOAD'], ['MIGRATE', '127.0.0.1', '1', 's:1', '0', '10'], ['MOVE', 's:1', '12'], ['SWAPDB', String(ORIGIN_DB), '12'],
  ['PFDEBUG', 'GETREG', 'p:1'],
  // Not flagged write, but they must not reach the origin either.
  ['PFCOUNT', 'p:2'], ['PUBLISH', 'orders', 'created'], ['SPUBLISH', 'orders', 'created'], ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'],
  ['CLIENT', 'PAUSE', '1'], ['CLIENT', 'KILL', 'ID', '999999'], ['SCRIPT', 'FLUSH'], ['DEBUG', 'SLEEP', '0'], ['SHUTDOWN', 'NOSAVE'],
  ['FLUSHDB'], ['FLUSHALL'],
];

async function seedOrigin(redis: Redis): Promise<void> {
  const pipeline = redis.pipeline();
  for (let n = 1; n <= 21; n += 1) pipeline.set(`s:${n}`, `value ${n}`);
  pipeline.set('s:ttl', 'x', 'EX', 1000);
  for (let n = 1; n <= 5; n += 1) pipeline.set(`n:${n}`, '10');
  for (let n = 1; n <= 16; n += 1) pipeline.rpush(`l:${n}`, 'a', 'b', 'c');
  for (let n = 1; n <= 3; n += 1) pipeline.hset(`h:${n}`, { a: '1', n: '1', f: '1.0' });
  for (let n = 1; n <= 4; n += 1) pipeline.sadd(`set:${n}`, 'a', 'b', 'c');
  for (let n = 1; n <= 12; n += 1) pipeline.zadd(`z:${n}`, 1, 'a', 2, 'b', 3, 'c');
  pipeline.pfadd('p:1', 'a', 'b').pfadd('p:2', 'c', 'd');
  pipeline.geoadd('g:1', 2.35, 48.86, 'paris', 4.9, 52.37, 'amsterdam');
  for (let n = 1; n <= 6; n += 1) pipeline.xadd(`x:${n}`, '1-1', 'f', 'v');
  pipeline.xgroup('CREATE', 'x:1', 'group', '0').xgroup('CREATE', 'x:4', 'g4', '0').xgroup('CREATE', 'x:3', 'existing', '0');
  pipeline.xreadgroup('GROUP', 'group', 'c1', 'STREAMS', 'x:1', '>');
  await pipeline.exec();
}

describe.each(['redis', 'memory'] as const)('leak test with a %s shadow: every write command through ShadowRedis, MONITOR on the origin', (shadowKind) => {
  let shadowServer: ThrowawayRedis;
  let admin: Redis;
  let monitor: Awaited<ReturnType<typeof monitorServer>>;
  let client: ShadowRedis;
  let originTable: CommandTable;
  let before: Map<string, Buffer | null>;
  const sink = memorySink({ limit: 100_000 });
  const outcomes = new Map<string, string>();

  beforeAll(async () => {
    shadowServer = await startRedisServer();
    admin = new Redis(originUrl);
    await admin.flushdb();
    await seedOrigin(admin);
    originTable = await loadCommandTable(admin);
    const keys = (await admin.keys('*')).sort();
    before = new Map(await Promise.all(keys.map(async (key) => [key, await admin.dumpBuffer(key)] as const)));
    monitor = await monitorServer(origin.url);
    const payload = await admin.dumpBuffer('s:1');
    const shadow = shadowKind === 'memory' ? 'memory' : shadowServer.shadowUrl;
    client = new ShadowRedis(originUrl, { shadow, journal: createJournal({ profile: 'mirror', sinks: [sink] }) });
    for (const argv of WORKLOAD) {
      const args = argv.map((arg) => (arg === 'PAYLOAD' ? payload! : arg));
      const outcome = await client.call(args[0] as string, ...args.slice(1)).then(
        () => 'ok',
        (error: Error & { code?: string }) => error.code ?? `error: ${error.message}`,
      );
      outcomes.set(argv.slice(0, argv[0] === 'XGROUP' || argv[0] === 'FUNCTION' || argv[0] === 'CLIENT' || argv[0] === 'CONFIG' || argv[0] === 'SCRIPT' ? 2 : 1).join(' '), outcome);
    }
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    monitor?.stop();
    admin?.disconnect();
    await shadowServer?.kill();
  });

  it('covers every command the origin flags as a write (at least 100)', () => {
    const writeCommands = new Set<string>();
    for (const name of originTable.names()) {
      const spec = originTable.get(name)!;
      if (spec.subcommands.size > 0) for (const sub of spec.subcommands.values()) if (sub.flags.has('write')) writeCommands.add(sub.name);
      if (spec.subcommands.size === 0 && spec.flags.has('write')) writeCommands.add(name);
    }
    const sent = new Set(WORKLOAD.map((argv) => originTable.resolve(argv)?.name).filter((name): name is string => name !== undefined));
    expect(writeCommands.size).toBeGreaterThanOrEqual(100);
    expect([...writeCommands].filter((name) => !sent.has(name))).toEqual([]);
  });

  it('no write reached the origin (MONITOR, judged by the origin\'s own COMMAND flags)', async () => {
    await monitor.caughtUp(admin);
    const received = monitor.received.map(({ args }) => args);
    // ACL DRYRUN is the guard's own check of the origin user (a dry run: it executes nothing).
    const ownCheck = (args: string[]): boolean => args[0]?.toLowerCase() === 'acl' && args[1]?.toLowerCase() === 'dryrun';
    const writes = received.filter((args) => !ownCheck(args) && (originTable.resolve(args)?.flags.has('write') || originTable.resolve(args)?.flags.has('admin')));
    expect(writes).toEqual([]);
    expect(received.filter((args) => ['publish', 'spublish', 'pfcount'].includes(args[0]!.toLowerCase()))).toEqual([]);
  });

  it('every origin key DUMPs exactly as before, and no key was added', async () => {
    const keys = (await admin.keys('*')).sort();
    expect(keys).toEqual([...before.keys()]);
    for (const key of keys) expect(await admin.dumpBuffer(key), key).toEqual(before.get(key));
  });

  it('shadowed the writes it can route, refused the rest, and journaled each', () => {
    const shadowed = [...outcomes.values()].filter((outcome) => outcome === 'ok' || outcome.startsWith('error:')).length;
    const unsupported = [...outcomes].filter(([, outcome]) => outcome === 'MG_ERR_REDIS_UNSUPPORTED').map(([name]) => name);
    if (shadowKind === 'redis') {
      expect(shadowed).toBeGreaterThanOrEqual(90);
      expect(unsupported).toEqual([]);
    } else {
      // Streams, geo, HyperLogLog, bitmaps, blocking commands and RESTORE are not the memory engine's.
      expect(shadowed).toBeGreaterThanOrEqual(55);
      expect(unsupported).toEqual(expect.arrayContaining(['XADD', 'GEOADD', 'PFADD', 'SETBIT', 'BLPOP', 'RESTORE']));
    }
    // A write the shadow did not take is journaled as blocked, never as shadowed.
    const shadowedNames = new Set(sink.events().filter((event) => event.action === 'shadowed').map((event) => event.operation.split(' ')[0]!.toUpperCase()));
    expect(unsupported.filter((name) => shadowedNames.has(name))).toEqual([]);
    const blockedNames = new Set(sink.events().filter((event) => event.action === 'blocked').map((event) => event.operation.split(' ')[0]!.toUpperCase()));
    expect(unsupported.filter((name) => !blockedNames.has(name.split(' ')[0]!))).toEqual([]);
    for (const refused of ['MIGRATE', 'SWAPDB', 'FUNCTION FLUSH', 'FUNCTION RESTORE', 'CONFIG SET', 'CLIENT KILL', 'SCRIPT FLUSH', 'SHUTDOWN', 'DEBUG', 'PFDEBUG']) {
      expect(outcomes.get(refused), refused).toBe('MG_ERR_REDIS_REFUSED');
    }
    expect(sink.events().filter((event) => event.action === 'shadowed').length).toBeGreaterThanOrEqual(shadowKind === 'redis' ? 90 : 55);
    expect(outcomes.get('PUBLISH')).toBe('ok');
  });
});

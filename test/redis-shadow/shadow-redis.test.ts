import { createServer, connect, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGuards, createJournal, getEgressLockdown, memorySink, MirrorGuardError } from '@mirrorguard/core';
import { redisProvider } from '../../packages/redis-shadow/src/provider/redis-provider.ts';
import { MemoryRedis } from '../../packages/redis-shadow/src/memory/memory-redis.ts';
import { CommandTable, loadCommandTable } from '../../packages/redis-shadow/src/commands/command-table.ts';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { RedisMonitor } from '../support/redis-monitor.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// Origin: a real redis-server, database 10. Shadow: another. Both are the test's own. MONITOR
// records what the origin receives, in any database; the origin's own COMMAND flags say which of it
// were writes.
const ORIGIN_DB = 10;

describe('ShadowRedis against a real origin and a real shadow', () => {
  let originServer: ThrowawayRedis;
  let originUrl: string;
  let shadowServer: ThrowawayRedis;
  let admin: Redis;
  let shadowAdmin: Redis;
  let monitor: RedisMonitor;
  let originTable: CommandTable;
  const received: string[][] = [];
  /** MONITOR's sources (CLIENT INFO's addr) of the test's own set-up connections: what they send is not the mirror's. */
  const setUpSources = new Set<string>();
  const sink = memorySink();
  let client: ShadowRedis;

  beforeAll(async () => {
    [originServer, shadowServer] = await Promise.all([startRedisServer(), startRedisServer()]);
    originUrl = `${originServer.url}/${ORIGIN_DB}`;
    admin = new Redis(originUrl);
    shadowAdmin = new Redis(shadowServer.url);
    originTable = await loadCommandTable(admin);
    monitor = await RedisMonitor.open(originServer.url);
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!setUpSources.has(source)) received.push(args);
    });
  });

  afterAll(async () => {
    monitor?.disconnect();
    admin?.disconnect();
    shadowAdmin?.disconnect();
    await Promise.all([originServer?.kill(), shadowServer?.kill()]);
  });

  beforeEach(async () => {
    await admin.flushdb();
    await shadowAdmin.flushdb();
    await admin.mset('origin:str', 'from origin', 'origin:counter', '10');
    await admin.hset('origin:hash', { a: '1', b: '2' });
    await admin.rpush('origin:list', 'x', 'y');
    // MONITOR delivers asynchronously: wait until it has seen the set-up before forgetting it.
    await monitorCaughtUp();
    received.length = 0;
    sink.clear();
    client = new ShadowRedis(originUrl, { shadow: shadowServer.shadowUrl, journal: createJournal({ profile: 'mirror', sinks: [sink] }) });
  });

  afterEach(() => client.close());

  /** Resolves once MONITOR has delivered everything the origin received so far (an ECHO as a fence). */
  async function monitorCaughtUp(): Promise<void> {
    const fence = `fence-${Math.random()}`;
    const seen = new Promise<void>((resolve) => {
      const listener = (_time: string, args: string[]): void => {
        if (!args.includes(fence)) return;
        monitor.off('monitor', listener);
        resolve();
      };
      monitor.on('monitor', listener);
    });
    await admin.echo(fence);
    await seen;
  }

  /** Everything the origin received since the test began that its own metadata flags as a write. */
  async function writesReceived(): Promise<string[][]> {
    await monitorCaughtUp();
    return received.filter((args) => originTable.resolve(args)?.flags.has('write'));
  }

  it('classifies by the origin\'s own COMMAND table once connected', async () => {
    expect(client.commandSource).toMatch(/^snapshot Redis 7\.|^origin$/);
    await client.ping();
    for (let waited = 0; client.commandSource !== 'origin' && waited < 100; waited += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(client.commandSource).toBe('origin');
  });

  it('reads untouched keys from the origin and writes to the shadow; a request reads its own writes', async () => {
    expect(await client.get('origin:str')).toBe('from origin');
    await client.set('new', 'value');
    expect(await client.get('new')).toBe('value');
    expect(await client.incr('origin:counter')).toBe(11);
    expect(await client.hset('origin:hash', 'c', '3')).toBe(1);
    expect(await client.hgetall('origin:hash')).toEqual({ a: '1', b: '2', c: '3' });
    expect(await client.rpush('origin:list', 'z')).toBe(3);
    expect(await client.lrange('origin:list', 0, -1)).toEqual(['x', 'y', 'z']);
    expect(await client.del('origin:str')).toBe(1);
    expect(await client.get('origin:str')).toBeNull();
    expect(await client.getBuffer('new')).toEqual(Buffer.from('value'));

    expect(await admin.get('origin:str')).toBe('from origin');
    expect(await admin.get('origin:counter')).toBe('10');
    expect(await admin.hgetall('origin:hash')).toEqual({ a: '1', b: '2' });
    expect(await admin.exists('new')).toBe(0);
    expect(await shadowAdmin.get('origin:counter')).toBe('11');
    expect(await writesReceived()).toEqual([]);
    expect(sink.events().filter((event) => event.action === 'shadowed').map((event) => event.operation.split(' ')[0])).toEqual([
      'set',
      'incr',
      'hset',
      'rpush',
      'del',
    ]);
  });

  it('keeps pipelines in order across origin and shadow, with auto-pipelining too', async () => {
    const results = await client.pipeline().get('origin:counter').incrby('origin:counter', 5).get('origin:counter').set('p', '1').get('p').exec();
    expect(results).toEqual([[null, '10'], [null, 15], [null, '15'], [null, 'OK'], [null, '1']]);
    const auto = new ShadowRedis({ ...new URL(originUrl).searchParams, host: '127.0.0.1', port: originServer.port, db: ORIGIN_DB, enableAutoPipelining: true }, { shadow: shadowServer.shadowUrl });
    const [before, incremented, after] = await Promise.all([auto.get('origin:str'), auto.append('origin:str', '!'), auto.get('origin:str')]);
    expect([before, incremented, after]).toEqual(['from origin', 12, 'from origin!']);
    await auto.close();
    expect(await admin.get('origin:str')).toBe('from origin');
    expect(await writesReceived()).toEqual([]);
  });

  it('runs scripts on the shadow with their keys copied, the read-only ones too: never on the origin', async () => {
    expect(await client.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, 'origin:counter', 7)).toBe(17);
    expect(await client.eval_ro("return redis.call('GET', KEYS[1])", 1, 'origin:str')).toBe('from origin');
    await monitorCaughtUp();
    expect(received.filter((args) => /^(eval|evalsha|fcall|script)/i.test(args[0] ?? ''))).toEqual([]);
    client.defineCommand('bump', { numberOfKeys: 1, lua: "return redis.call('INCR', KEYS[1])" });
    expect(await (client as unknown as { bump(key: string): Promise<number> }).bump('origin:counter')).toBe(18);
    expect(await admin.get('origin:counter')).toBe('10');
    expect(await writesReceived()).toEqual([]);
  });

  it('suppresses PUBLISH, refuses admin and unknown commands, and fails closed on what it cannot route yet', async () => {
    expect(await client.publish('orders', 'created')).toBe(0);
    await expect(client.config('SET', 'maxmemory', '1')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED' });
    await expect(client.call('FROBNICATE', 'k')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED' });
    await expect(client.migrate('127.0.0.1', 1, 'origin:str', 0, 1)).rejects.toBeInstanceOf(MirrorGuardError);
    expect(sink.events().filter((event) => event.action === 'blocked').map((event) => event.operation.split(' ')[0]!.toLowerCase())).toEqual(
      expect.arrayContaining(['publish', 'config', 'frobnicate', 'migrate']),
    );
    expect(await writesReceived()).toEqual([]);
  });

  it('follows SELECT into another database; MOVE and COPY … DB make the shadow own the key in both', async () => {
    const OTHER_DB = 3;
    const other = new Redis(`${originServer.url}/${OTHER_DB}`);
    // Its writes are the test's set-up; the mirror's, in any database, are still watched.
    const otherSource = /\baddr=(\S+)/.exec(String(await other.client('INFO')))![1]!;
    setUpSources.add(otherSource);
    try {
      await other.flushdb();
      await other.set('other:str', 'in db 3');
      await monitorCaughtUp();
      // Origin database 10 is the shadow's 0; database 3 maps one to one to the shadow's (3 − 10) mod 16 = 9.
      expect(await client.select(OTHER_DB)).toBe('OK');
      expect(await client.get('other:str')).toBe('in db 3');
      expect(await client.append('other:str', '!')).toBe(8);
      expect(await client.get('other:str')).toBe('in db 3!');
      expect(await client.get('origin:str')).toBeNull();
      await client.select(ORIGIN_DB);
      expect(await client.get('origin:str')).toBe('from origin');
      expect(await client.get('other:str')).toBeNull();
      // MOVE: the key leaves this database (a tombstone here) and arrives in the other one.
      expect(await client.move('origin:str', OTHER_DB)).toBe(1);
      expect(await client.get('origin:str')).toBeNull();
      expect(await client.move('origin:counter', OTHER_DB)).toBe(1);
      expect(await client.copy('origin:hash', 'copied:hash', 'DB', OTHER_DB)).toBe(1);
      expect(await client.copy('origin:list', 'other:str', 'DB', OTHER_DB)).toBe(0);
      const twin = client.duplicate({ db: OTHER_DB });
      expect(await twin.mget('origin:str', 'origin:counter', 'other:str')).toEqual(['from origin', '10', 'in db 3!']);
      expect(await twin.hgetall('copied:hash')).toEqual({ a: '1', b: '2' });
      expect(await twin.keys('*')).toEqual(expect.arrayContaining(['origin:str', 'origin:counter', 'other:str', 'copied:hash']));
      await twin.close();
      const shadowOther = new Redis(`${shadowServer.url}/9`);
      expect(await shadowOther.get('other:str')).toBe('in db 3!');
      shadowOther.disconnect();
      await expect(client.select(40)).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED' });
      await expect(client.move('origin:list', 40)).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED' });
      expect(await other.get('other:str')).toBe('in db 3');
      expect(await other.dbsize()).toBe(1);
      expect(await admin.get('origin:str')).toBe('from origin');
      expect(await writesReceived()).toEqual([]);
      expect(received.filter((args) => ['append', 'move', 'copy'].includes(args[0]!.toLowerCase()))).toEqual([]);
    } finally {
      await other.flushdb();
      other.disconnect();
      await monitorCaughtUp();
      setUpSources.delete(otherSource);
    }
  });

  it('runs a pipelined transaction that writes on the shadow, and one that only reads on the origin', async () => {
    const written = await client.multi().incr('origin:counter').hset('origin:hash', 'c', '3').hgetall('origin:hash').exec();
    expect(written).toEqual([[null, 11], [null, 1], [null, { a: '1', b: '2', c: '3' }]]);
    const read = await client.multi().get('origin:str').lrange('origin:list', 0, -1).exec();
    expect(read).toEqual([[null, 'from origin'], [null, ['x', 'y']]]);
    // A transaction nested in a pipeline (ioredis supports it; its typings do not say so).
    const pipeline = client.pipeline().get('origin:counter') as unknown as { multi(): { incr(key: string): { exec(): { get(key: string): { exec(): Promise<unknown[][]> } } } } };
    const nested = await pipeline.multi().incr('origin:counter').exec().get('origin:counter').exec();
    expect(nested?.at(-1)).toEqual([null, '12']);
    expect(await admin.get('origin:counter')).toBe('10');
    expect(await writesReceived()).toEqual([]);
  });

  it('refuses keyspace-wide reads in a transaction that runs on the shadow, where they could not be merged', async () => {
    // Only reads, nothing owned: the whole transaction runs on the origin, KEYS included.
    expect(await client.multi().get('origin:str').keys('origin:*').exec()).toEqual([[null, 'from origin'], [null, expect.arrayContaining(['origin:str', 'origin:hash'])]]);
    await expect(client.multi().set('mine', '1').keys('*').exec()).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED' });
    expect(await client.exists('mine')).toBe(0);
    const manual = client.duplicate();
    await manual.multi({ pipeline: false });
    await expect(manual.dbsize()).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED' });
    await manual.discard();
    await manual.close();
    expect(await writesReceived()).toEqual([]);
  });

  it('applies keyPrefix to every key it reads, copies and writes', async () => {
    const keyPrefixed = new ShadowRedis({ host: '127.0.0.1', port: originServer.port, db: ORIGIN_DB, keyPrefix: 'origin:' }, { shadow: shadowServer.shadowUrl });
    try {
      expect(await keyPrefixed.get('str')).toBe('from origin');
      expect(await keyPrefixed.incr('counter')).toBe(11);
      expect(await keyPrefixed.hincrby('hash', 'a', 5)).toBe(6);
      expect(await shadowAdmin.mget('origin:counter', 'counter')).toEqual(['11', null]);
      expect(await shadowAdmin.hgetall('origin:hash')).toEqual({ a: '6', b: '2' });
      expect(await keyPrefixed.multi().incr('counter').get('counter').exec()).toEqual([[null, 12], [null, '12']]);
    } finally {
      await keyPrefixed.close();
    }
    expect(await admin.mget('origin:counter', 'counter')).toEqual(['10', null]);
    expect(await writesReceived()).toEqual([]);
  });

  it('runs MULTI sent on its own, command by command, on the shadow', async () => {
    expect(await client.multi({ pipeline: false })).toBe('OK');
    expect(await client.set('manual', '1')).toBe('QUEUED');
    expect(await client.incrby('origin:counter', 2)).toBe('QUEUED');
    expect(await client.get('origin:str')).toBe('QUEUED');
    expect(await client.exec()).toEqual([[null, 'OK'], [null, 12], [null, 'from origin']]);
    expect(await client.get('manual')).toBe('1');
    expect(await admin.exists('manual')).toBe(0);
    expect(await writesReceived()).toEqual([]);
  });

  it('watches keys on the shadow: a transaction commits, or aborts when the key changed', async () => {
    await client.watch('origin:counter');
    expect(await client.multi().incr('origin:counter').exec()).toEqual([[null, 11]]);
    await client.watch('origin:counter');
    await shadowAdmin.set('origin:counter', '100');
    expect(await client.multi().incr('origin:counter').exec()).toBeNull();
    expect(await client.get('origin:counter')).toBe('100');
    expect(await writesReceived()).toEqual([]);
  });

  it('refuses a whole transaction that holds a refused command', async () => {
    await expect(client.multi().set('t', '1').config('SET', 'maxmemory', '1').exec()).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED' });
    expect(await client.exists('t')).toBe(0);
    expect(await writesReceived()).toEqual([]);
  });

  it('merges SCAN, KEYS, DBSIZE and RANDOMKEY over origin and shadow, tombstones left out', async () => {
    await client.set('new', '1');
    await client.del('origin:str');
    const expected = ['new', 'origin:counter', 'origin:hash', 'origin:list'];
    expect((await client.keys('*')).sort()).toEqual(expected);
    expect((await client.keys('origin:*')).sort()).toEqual(['origin:counter', 'origin:hash', 'origin:list']);
    expect(await client.dbsize()).toBe(4);
    const scanned: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 1);
      expect(next).toMatch(/^\d+$/);
      scanned.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    expect(scanned.sort()).toEqual(expected);
    const streamed: string[] = [];
    for await (const keys of client.scanStream({ match: '*', count: 2 })) streamed.push(...(keys as string[]));
    expect(streamed.sort()).toEqual(expected);
    for (let draw = 0; draw < 10; draw += 1) expect(expected).toContain(await client.randomkey());
    expect(await admin.dbsize()).toBe(4);
    expect(await writesReceived()).toEqual([]);
  });

  it('sorts with BY/GET patterns: SORT_RO on the origin while the shadow owns nothing, then over both sides', async () => {
    await admin.mset('w_x', '2', 'w_y', '1', 'n_x', 'ex', 'n_y', 'why');
    await admin.hset('o_x', 'f', 'fx');
    await monitorCaughtUp();
    received.length = 0;
    expect(await client.sort_ro('origin:list', 'BY', 'w_*')).toEqual(['y', 'x']);
    await monitorCaughtUp();
    expect(received.some((args) => args[0]?.toLowerCase() === 'sort_ro')).toBe(true);
    // SORT is flagged a write, so even with nothing owned it is evaluated here, reading the origin.
    expect(await client.sort('origin:list', 'BY', 'w_*', 'GET', 'n_*')).toEqual(['why', 'ex']);
    // The mirror's own weight for y now sorts it last; names and hash fields still come from the origin.
    await client.set('w_y', '5');
    expect(await client.sort_ro('origin:list', 'BY', 'w_*', 'GET', '#', 'GET', 'n_*', 'GET', 'o_*->f')).toEqual(['x', 'ex', 'fx', 'y', 'why', null]);
    await client.rpush('origin:list', 'z');
    expect(await client.sort('origin:list', 'BY', 'w_*', 'DESC', 'GET', 'n_*', 'STORE', 'sorted')).toBe(3);
    expect(await client.lrange('sorted', 0, -1)).toEqual(['why', 'ex', '']);
    expect(await shadowAdmin.lrange('sorted', 0, -1)).toEqual(['why', 'ex', '']);
    await expect(client.sort('origin:str', 'BY', 'w_*')).rejects.toThrow(/WRONGTYPE/);
    await expect(client.multi().set('k', '1').sort('origin:list', 'BY', 'w_*').exec()).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED' });
    expect(sink.events().filter((event) => event.action === 'shadowed').map((event) => event.operation)).toContain('sort origin:list BY w_* DESC GET n_* STORE sorted');
    expect(await admin.exists('sorted')).toBe(0);
    expect(await admin.lrange('origin:list', 0, -1)).toEqual(['x', 'y']);
    expect(await writesReceived()).toEqual([]);
  });

  it('hides the whole origin after FLUSHALL', async () => {
    await client.flushall();
    expect(await client.get('origin:str')).toBeNull();
    expect(await client.hgetall('origin:hash')).toEqual({});
    await client.set('after', '1');
    expect(await client.keys('*')).toEqual(['after']);
    expect(await client.dbsize()).toBe(1);
    expect(await admin.get('origin:str')).toBe('from origin');
    expect(await writesReceived()).toEqual([]);
  });

  it('duplicates into a ShadowRedis that shares what the shadow owns', async () => {
    const twin = client.duplicate();
    expect(twin).toBeInstanceOf(ShadowRedis);
    await client.set('shared', 'from the first');
    expect(await twin.get('shared')).toBe('from the first');
    await twin.del('origin:str');
    expect(await client.get('origin:str')).toBeNull();
    await twin.close();
    // The first client still works after its twin closed: the shared connections stay open.
    expect(await client.incr('origin:counter')).toBe(11);
    expect(await admin.get('origin:str')).toBe('from origin');
    expect(await writesReceived()).toEqual([]);
  });

  it('is what the redis provider builds in mirror; live gets a plain Redis; test a seeded memory engine', async () => {
    const provider = redisProvider({ origin: originUrl, shadow: shadowServer.shadowUrl, seed: (redis) => redis.set('fixture', 'seeded').then(() => undefined) });
    const mirror = await createGuards({ profile: 'mirror', providers: { redis: provider }, journal: { sinks: [sink] } });
    expect(mirror.redis).toBeInstanceOf(ShadowRedis);
    await mirror.redis.set('via-provider', '1');
    expect(sink.events().find((event) => event.operation === 'set via-provider 1')).toMatchObject({ dependency: 'redis', action: 'shadowed', profile: 'mirror' });
    await mirror.close();
    // A mirror's egress lockdown outlives its guards; this suite goes on in other profiles.
    getEgressLockdown()?.dispose();
    const live = await createGuards({ profile: 'live', providers: { redis: provider } });
    expect(live.redis).not.toBeInstanceOf(ShadowRedis);
    expect(await live.redis.get('origin:str')).toBe('from origin');
    await live.close();
    const test = await createGuards({ profile: 'test', providers: { redis: provider } });
    expect(test.redis).toBeInstanceOf(MemoryRedis);
    expect(await test.redis.get('fixture')).toBe('seeded');
    expect(await test.redis.get('origin:str')).toBeNull();
    expect(await test.redis.incr('origin:counter')).toBe(1);
    await test.close();
    expect(test.redis.status).toBe('end');
    expect(await admin.exists('via-provider')).toBe(0);
    expect(await writesReceived()).toEqual([]);
  });

  it('warns once when the origin user can write (the README\'s restricted user is tested on a private origin: sandbox.test.ts)', async () => {
    await client.originUserChecked;
    expect(sink.events().filter((event) => event.action === 'warned')).toMatchObject([
      { dependency: 'redis', reason: expect.stringContaining('the origin user "default" can write') },
    ]);
    expect(await admin.get('origin:counter')).toBe('10');
  });

  it('asks the origin to name the keys when the key specs cannot (COMMAND GETKEYSANDFLAGS), then runs on the shadow', async () => {
    // Redis 7.0's own commands all have complete specs but MIGRATE and SORT (each handled apart);
    // module commands do not. LMOVE stands in for one here: its specs are made incomplete.
    const resolve = CommandTable.prototype.resolve;
    const spy = vi.spyOn(CommandTable.prototype, 'resolve').mockImplementation(function (this: CommandTable, argv) {
      const spec = resolve.call(this, argv);
      if (spec?.name !== 'lmove') return spec;
      return { ...spec, keySpecs: spec.keySpecs.map((keySpec) => ({ ...keySpec, flags: new Set([...keySpec.flags, 'INCOMPLETE']) })) };
    });
    try {
      expect(await client.lrange('origin:list', 0, -1)).toEqual(['x', 'y']);
      // The read right behind the write waits for it, though its key was not known when it was sent.
      const [moved, source, destination] = await Promise.all([client.lmove('origin:list', 'moved:list', 'LEFT', 'RIGHT'), client.lrange('origin:list', 0, -1), client.lrange('moved:list', 0, -1)]);
      expect([moved, source, destination]).toEqual(['x', ['y'], ['x']]);
      await monitorCaughtUp();
      expect(received.some((args) => args[0]?.toUpperCase() === 'COMMAND' && args[1]?.toUpperCase() === 'GETKEYSANDFLAGS' && args[2]?.toUpperCase() === 'LMOVE')).toBe(true);
      expect(await shadowAdmin.lrange('origin:list', 0, -1)).toEqual(['y']);
    } finally {
      spy.mockRestore();
    }
    expect(await admin.lrange('origin:list', 0, -1)).toEqual(['x', 'y']);
    expect(await admin.exists('moved:list')).toBe(0);
    expect(await writesReceived()).toEqual([]);
  });

  it('refuses a shadow on the origin\'s own server, in any database and under any name', async () => {
    for (const shadow of [originUrl, `${originServer.url}/3`, originUrl.replace('127.0.0.1', 'localhost'), originUrl.replace('127.0.0.1', '127.1')]) {
      expect(() => new ShadowRedis(originUrl, { shadow }), shadow).toThrow(expect.objectContaining({ code: 'MG_ERR_REDIS_SHADOW_IS_ORIGIN' }));
    }
    // Behind a proxy the options cannot tell: the servers' run_id can. Nothing is sent to it.
    const proxy = createServer((socket) => socket.pipe(connect(originServer.port, '127.0.0.1')).pipe(socket));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const disguised = new ShadowRedis(originUrl, { shadow: { host: '127.0.0.1', port: (proxy.address() as AddressInfo).port, db: 5 } });
    try {
      await expect(disguised.set('via-proxy', '1')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_IS_ORIGIN' });
      await expect(disguised.incr('origin:counter')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_IS_ORIGIN' });
      expect(await disguised.get('origin:counter')).toBe('10');
    } finally {
      disguised.disconnect();
      proxy.close();
    }
    expect(await admin.exists('via-proxy')).toBe(0);
    const database5 = new Redis(`${originServer.url}/5`);
    expect(await database5.exists('via-proxy', 'origin:counter')).toBe(0);
    database5.disconnect();
    expect(await writesReceived()).toEqual([]);
  });

  it('fails writes with a clear error when the shadow is down, and never falls back to the origin', async () => {
    const doomed = await startRedisServer();
    const fragile = new ShadowRedis(originUrl, { shadow: { host: '127.0.0.1', port: doomed.port, ...doomed.shadowUser, retryStrategy: () => null } });
    fragile.on('error', () => undefined);
    await fragile.set('before', '1');
    await doomed.kill();
    await expect(fragile.set('after', '2')).rejects.toThrow();
    await expect(fragile.incr('origin:counter')).rejects.toThrow();
    expect(await fragile.get('origin:str')).toBe('from origin');
    fragile.disconnect();
    expect(await admin.exists('after')).toBe(0);
    expect(await admin.get('origin:counter')).toBe('10');
    expect(await writesReceived()).toEqual([]);
  });
});

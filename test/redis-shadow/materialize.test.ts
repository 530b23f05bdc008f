import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeyState } from '../../packages/redis-shadow/src/shadow/key-state.ts';
import { keyId } from '../../packages/redis-shadow/src/memory/key-id.ts';
import { Materializer, originReader, shadowWriter } from '../../packages/redis-shadow/src/shadow/materialize-key.ts';
import { RedisMonitor } from '../support/redis-monitor.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// Origin and shadow are redis-servers of the test's own (the origin's database 9, flushed before
// each test): MONITOR on the origin records every command it receives and nothing of other tests.
const ORIGIN_DB = 9;

describe('materializing keys into a real shadow Redis', () => {
  let originServer: ThrowawayRedis;
  let shadowServer: ThrowawayRedis;
  let origin: Redis;
  let shadow: Redis;
  let admin: Redis;
  let monitor: RedisMonitor;
  const seen: string[][] = [];

  beforeAll(async () => {
    [originServer, shadowServer] = await Promise.all([startRedisServer(), startRedisServer()]);
    origin = new Redis(originServer.url, { db: ORIGIN_DB });
    admin = new Redis(originServer.url, { db: ORIGIN_DB });
    shadow = new Redis(shadowServer.url);
    monitor = await RedisMonitor.open(originServer.url);
    monitor.on('monitor', (_time: string, args: string[], _source: string, database: string) => {
      if (Number(database) === ORIGIN_DB) seen.push(args);
    });
  });

  afterAll(async () => {
    monitor.disconnect();
    for (const client of [origin, shadow, admin]) client.disconnect();
    await Promise.all([originServer.kill(), shadowServer.kill()]);
  });

  beforeEach(async () => {
    await admin.flushdb();
    await shadow.flushdb();
  });

  const fresh = () => {
    const state = new KeyState();
    return { state, materializer: new Materializer(originReader(origin), shadowWriter(shadow), state) };
  };
  /** Resolves once MONITOR has delivered everything the origin received so far (an ECHO as a fence). */
  const caughtUp = async (): Promise<void> => {
    const fence = `fence-${Date.now()}-${Math.random()}`;
    await admin.echo(fence);
    for (let waited = 0; !seen.some((args) => args.includes(fence)); waited += 1) {
      if (waited > 200) throw new Error('MONITOR did not catch up');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  /** A mark after everything so far: what the test itself sets up does not count. */
  const markNow = async (): Promise<number> => {
    await caughtUp();
    return seen.length;
  };
  /** What MONITOR saw since `mark`. */
  const commandsSince = async (mark: number): Promise<string[][]> => {
    await caughtUp();
    return seen.slice(mark).filter((args) => !args.some((arg) => arg.startsWith('fence-')) && args[0]?.toLowerCase() !== 'select');
  };

  it('copies every type with its value and absolute expiry, reading the origin only', async () => {
    const expiresAt = Date.now() + 600_000;
    await admin
      .multi()
      .set('str', 'héllo \u0000 binary')
      .hset('hash', { a: '1', b: '2' })
      .rpush('list', 'x', 'y', 'z')
      .sadd('set', 'p', 'q')
      .zadd('zset', 1, 'one', 2, 'two')
      .pfadd('hll', 'a', 'b', 'c')
      .xadd('stream', '1-1', 'f', 'v')
      .xgroup('CREATE', 'stream', 'group', '0')
      .set('ttl', 'soon', 'PXAT', expiresAt)
      .exec();
    const keys = ['str', 'hash', 'list', 'set', 'zset', 'hll', 'stream', 'ttl'];
    const before = await Promise.all(keys.map((key) => admin.dumpBuffer(key)));
    const mark = await markNow();
    const { state, materializer } = fresh();
    await Promise.all(keys.map((key) => materializer.ensureOwned(key)));
    const commands = new Set((await commandsSince(mark)).map((args) => args[0]!.toLowerCase()));
    expect([...commands].sort()).toEqual(['dump', 'exec', 'multi', 'pexpiretime']);

    // A hash-table encoding iterates in an order that depends on each server's hash seed, so a
    // faithful copy need not DUMP to the same bytes: compare values. The origin, against itself, must.
    const valueOf = async (client: Redis, key: string): Promise<unknown> => {
      switch (await client.type(key)) {
        case 'string':
          return client.getBuffer(key);
        case 'hash':
          return client.hgetall(key);
        case 'list':
          return client.lrange(key, 0, -1);
        case 'set':
          return (await client.smembers(key)).sort();
        case 'zset':
          return client.zrange(key, 0, -1, 'WITHSCORES');
        case 'stream':
          return [await client.xrange(key, '-', '+'), await client.xinfo('GROUPS', key)];
        default:
          return client.type(key);
      }
    };
    for (const [index, key] of keys.entries()) {
      expect(await valueOf(shadow, key), key).toEqual(await valueOf(admin, key));
      expect(await admin.dumpBuffer(key), `origin ${key} unchanged`).toEqual(before[index]);
      expect(state.isOwned(keyId(key))).toBe(true);
    }
    expect(await shadow.pexpiretime('ttl')).toBe(expiresAt);
    expect(await shadow.pexpiretime('str')).toBe(-1);
    expect(await shadow.xinfo('GROUPS', 'stream')).toHaveLength(1);
  });

  it('removes a stale shadow copy when the origin has no such key', async () => {
    await shadow.set('gone', 'stale from an earlier life');
    const { materializer } = fresh();
    await materializer.ensureOwned('gone');
    expect(await shadow.exists('gone')).toBe(0);
  });

  it('copies a key once, however many writes ask for it at the same time', async () => {
    await admin.set('hot', '0');
    const mark = await markNow();
    const { materializer } = fresh();
    await Promise.all(Array.from({ length: 20 }, () => materializer.ensureOwned('hot')));
    await materializer.ensureOwned('hot');
    const dumps = (await commandsSince(mark)).filter((args) => args[0]?.toLowerCase() === 'dump');
    expect(dumps).toEqual([['dump', 'hot']]);
  });

  it('keeps ownership after the shadow copy expires: the origin value never shows through again', async () => {
    await admin.set('session', 'origin value');
    const { state, materializer } = fresh();
    await materializer.ensureOwned('session');
    await shadow.pexpire('session', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await shadow.exists('session')).toBe(0);
    expect(state.isOwned(keyId('session'))).toBe(true);
    const mark = await markNow();
    await materializer.ensureOwned('session');
    expect((await commandsSince(mark)).filter((args) => args[0]?.toLowerCase() === 'dump')).toEqual([]);
  });

  it('skips the copy for a write that replaces the whole value', async () => {
    await admin.set('replaced', 'old');
    const mark = await markNow();
    const { state, materializer } = fresh();
    materializer.ownOnceWritten('replaced')('applied');
    expect(state.isOwned(keyId('replaced'))).toBe(true);
    expect((await commandsSince(mark)).filter((args) => args[0]?.toLowerCase() === 'dump')).toEqual([]);
  });

  it('fails, and owns nothing, when the shadow is down', async () => {
    await admin.set('k', 'v');
    const deadServer = await startRedisServer();
    const dead = new Redis(deadServer.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on('error', () => undefined);
    await dead.ping();
    await deadServer.kill();
    const state = new KeyState();
    const materializer = new Materializer(originReader(origin), shadowWriter(dead), state);
    await expect(materializer.ensureOwned('k')).rejects.toThrow();
    expect(state.isOwned(keyId('k'))).toBe(false);
    dead.disconnect();
  });
});

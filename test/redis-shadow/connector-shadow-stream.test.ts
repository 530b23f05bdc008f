import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MirrorGuardError } from '@mirrorguard/core';
import { ShadowRedis2 } from '../../packages/redis-shadow/src/connector/shadow-connector.ts';
import { createMemoryEngine } from '../../packages/redis-shadow/src/memory/families.ts';
import { startOriginAndShadow, type OriginAndShadow } from '../support/redis-server.ts';
import { rng } from '../support/seeded-random.ts';
import { executedStats, keysDigest } from '../support/redis-oracles.ts';

/** Calls per command since the last RESETSTAT, the RESETSTAT itself left out. */
async function executedSinceReset(admin: Redis): Promise<Map<string, number>> {
  const stats = await executedStats(admin);
  stats.delete('config|resetstat');
  return stats;
}

// The connector prototype (packages/redis-shadow/src/connector), judged on private origin and
// shadow servers: the origin's INFO commandstats and a digest of its keys, read by its own user.

const HOST = '127.0.0.1';

/** Commands a mirror may send the origin: reads, copies (DUMP in MULTI), the handshake and the check of its user (ACL WHOAMI, ACL DRYRUN: execute nothing). */
const ORIGIN_MAY_RUN = new Set(['acl|whoami', 'acl|dryrun', 'get', 'mget', 'exists', 'dump', 'pexpiretime', 'multi', 'exec', 'info', 'select', 'client|setinfo', 'client|setname', 'ping', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'hgetall', 'scan', 'type', 'lrange', 'smembers', 'zrange', 'strlen', 'ttl']);

const random = rng;

describe('ShadowRedis2 (connector below ioredis) over a real shadow', () => {
  let servers: OriginAndShadow;
  const clients: Redis[] = [];

  const client = (options: Record<string, unknown> = {}, coalesceWrites = true): ShadowRedis2 => {
    const made = new ShadowRedis2({ host: HOST, port: servers.origin.port, ...options }, { shadow: { host: HOST, port: servers.shadow.port, ...servers.shadow.shadowUser }, coalesceWrites });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    servers = await startOriginAndShadow();
  });

  beforeEach(async () => {
    await servers.originAdmin.flushall();
    await servers.shadowAdmin.flushall();
    await servers.originAdmin.config('RESETSTAT');
    for (let index = 0; index < 20; index += 1) await servers.originAdmin.set(`o:${index}`, `origin-${index}`);
    await servers.originAdmin.hset('h', 'f', 'v');
    await servers.originAdmin.config('RESETSTAT');
  });

  afterAll(async () => {
    for (const made of clients) made.disconnect();
    await servers.stop();
  });

  it('sends reads of untouched keys to the origin, and nothing else', async () => {
    const redis = client();
    expect(await redis.get('o:1')).toBe('origin-1');
    expect(await redis.hgetall('h')).toEqual({ f: 'v' });
    expect(await redis.get('missing')).toBeNull();
    const stats = await executedSinceReset(servers.originAdmin);
    expect(stats.get('get')).toBe(2);
    expect([...stats.keys()].filter((name) => !ORIGIN_MAY_RUN.has(name))).toEqual([]);
    expect((await executedSinceReset(servers.shadowAdmin)).get('get')).toBeUndefined();
  });

  it('lands writes in the shadow, copying the origin value first; the origin never changes', async () => {
    const before = await keysDigest(servers.originAdmin);
    const redis = client();
    await servers.originAdmin.set('counter', '41');
    await servers.originAdmin.pexpire('counter', 600_000);
    const beforeCounter = await keysDigest(servers.originAdmin);
    expect(await redis.incr('counter')).toBe(42);
    expect(await redis.get('counter')).toBe('42');
    expect(await servers.shadowAdmin.get('counter')).toBe('42');
    expect(await servers.shadowAdmin.pttl('counter')).toBeGreaterThan(500_000);
    expect(await redis.set('o:2', 'mirror')).toBe('OK');
    expect(await redis.get('o:2')).toBe('mirror');
    expect(await redis.del('o:3')).toBe(1);
    expect(await redis.get('o:3')).toBeNull();
    expect(await redis.hset('h', 'g', 'w')).toBe(1);
    expect(await redis.hgetall('h')).toEqual({ f: 'v', g: 'w' });
    expect(await redis.lpush('list', 'a', 'b')).toBe(2);
    expect(await redis.publish('channel', 'hello')).toBe(0);
    expect(await keysDigest(servers.originAdmin)).toBe(beforeCounter);
    expect(before).not.toBe(beforeCounter);
    const stats = await executedSinceReset(servers.originAdmin);
    expect([...stats.keys()].filter((name) => !ORIGIN_MAY_RUN.has(name) && name !== 'set' && name !== 'pexpire' && name !== 'keys')).toEqual([]);
    // The oracle's own SET and PEXPIRE of `counter` are the only writes the origin ran.
    expect(stats.get('set')).toBe(1);
    expect(stats.get('incr')).toBeUndefined();
    expect(stats.get('del')).toBeUndefined();
    expect(stats.get('publish')).toBeUndefined();
  });

  it('refuses admin and unknown commands with a MirrorGuardError code, sending nothing', async () => {
    const redis = client();
    const refused = await redis.call('CONFIG', 'GET', 'maxmemory').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MirrorGuardError);
    expect((refused as MirrorGuardError).code).toBe('MG_ERR_REDIS_REFUSED');
    const unknown = await redis.call('NOSUCHCOMMAND').catch((error: unknown) => error);
    expect((unknown as MirrorGuardError).code).toBe('MG_ERR_REDIS_REFUSED');
    expect(await redis.get('o:1')).toBe('origin-1');
    const stats = await executedSinceReset(servers.originAdmin);
    expect(stats.get('config|get')).toBeUndefined();
    expect((await executedSinceReset(servers.shadowAdmin)).get('config|get')).toBeUndefined();
  });

  it('answers a generated pipeline mixing origin, shadow, suppressed and refused commands in command order', async () => {
    for (let seed = 1; seed <= 12; seed += 1) {
      await servers.shadowAdmin.flushall();
      // Odd seeds: one socket write per ioredis write; even: a tick's commands coalesced.
      const redis = client({}, seed % 2 === 0);
      const next = random(seed);
      const model = new Map<string, string | null>(Array.from({ length: 20 }, (_, index) => [`o:${index}`, `origin-${index}`]));
      const pipeline = redis.pipeline();
      const expected: unknown[] = [];
      for (let step = 0; step < 60; step += 1) {
        const key = `o:${Math.floor(next() * 20)}`;
        const pick = next();
        if (pick < 0.4) {
          pipeline.get(key);
          expected.push([null, model.get(key) ?? null]);
        } else if (pick < 0.6) {
          const value = `w${seed}-${step}`;
          pipeline.set(key, value);
          model.set(key, value);
          expected.push([null, 'OK']);
        } else if (pick < 0.7) {
          pipeline.append(key, 'x');
          const value = `${model.get(key) ?? ''}x`;
          model.set(key, value);
          expected.push([null, value.length]);
        } else if (pick < 0.8) {
          pipeline.del(key);
          expected.push([null, model.get(key) === null ? 0 : 1]);
          model.set(key, null);
        } else if (pick < 0.9) {
          pipeline.publish('c', key);
          expected.push([null, 0]);
        } else {
          pipeline.call('CONFIG', 'GET', 'x');
          expected.push('refused');
        }
      }
      const results = (await pipeline.exec())!;
      expect(
        results.map(([error, value]) => (error === null ? [null, value] : (error as MirrorGuardError).code === 'MG_ERR_REDIS_REFUSED' ? 'refused' : String(error))),
        `seed ${seed}`,
      ).toEqual(expected);
      redis.disconnect();
      // The next seed's client starts from a fresh ownership: the origin must be as it was.
      await servers.originAdmin.flushall();
      for (let index = 0; index < 20; index += 1) await servers.originAdmin.set(`o:${index}`, `origin-${index}`);
    }
  });

  it('runs a transaction on the shadow, keys copied first, replies as ioredis gives them', async () => {
    const redis = client();
    const results = await redis.multi().incr('o:5').get('o:5').get('o:6').set('t', '1').exec();
    // o:5 holds "origin-5": INCR fails inside the transaction, as on the server.
    expect(results![0]![0]).toBeInstanceOf(Error);
    expect(results!.slice(1)).toEqual([
      [null, 'origin-5'],
      [null, 'origin-6'],
      [null, 'OK'],
    ]);
    expect(await servers.originAdmin.get('t')).toBeNull();
    expect(await servers.shadowAdmin.get('t')).toBe('1');
    const refused = await redis.multi().set('a', '1').call('CONFIG', 'GET', 'x').exec().catch((error: unknown) => error);
    expect(String(refused)).toMatch(/EXECABORT/);
  });

  it('calls quit(cb) back and ends', async () => {
    const redis = client();
    await redis.set('q', '1');
    const reply = await new Promise((resolve, reject) => redis.quit((error, result) => (error ? reject(error) : resolve(result))));
    expect(reply).toBe('OK');
    if (redis.status !== 'end') await once(redis, 'end');
  });

  it('applies stringNumbers to replies the shadow answers', async () => {
    const redis = client({ stringNumbers: true });
    expect(await redis.incr('n')).toBe('1');
    expect(await redis.incrby('n', 2 ** 53)).toBe('9007199254740993');
    expect(await redis.strlen('o:1')).toBe('8');
  });

  it('in subscriber mode passes messages through and refuses writes as ioredis does', async () => {
    const redis = client();
    const plain = new Redis({ host: HOST, port: servers.origin.port });
    clients.push(plain);
    await redis.subscribe('news');
    await plain.subscribe('news');
    const ours = (await redis.set('k', 'v').catch((error: unknown) => error)) as Error;
    const theirs = (await plain.set('k', 'v').catch((error: unknown) => error)) as Error;
    expect(ours.message).toBe(theirs.message);
    const message = once(redis, 'message');
    await servers.originAdmin.publish('news', 'hello');
    expect(await message).toEqual(['news', 'hello']);
    await redis.unsubscribe('news');
    // Out of subscriber mode, writes go to the shadow again.
    expect(await redis.set('after', 'sub')).toBe('OK');
    expect(await servers.shadowAdmin.get('after')).toBe('sub');
    expect(await servers.originAdmin.get('after')).toBeNull();
  });

  it('follows SELECT on both sides', async () => {
    const redis = client({ db: 0 });
    await servers.originAdmin.select(3);
    await servers.originAdmin.set('db3', 'origin');
    await servers.originAdmin.select(0);
    await redis.select(3);
    expect(await redis.get('db3')).toBe('origin');
    await redis.set('db3', 'mirror');
    expect(await redis.get('db3')).toBe('mirror');
    const shadow3 = new Redis({ host: HOST, port: servers.shadow.port, db: 3 });
    clients.push(shadow3);
    expect(await shadow3.get('db3')).toBe('mirror');
    await servers.originAdmin.select(3);
    expect(await servers.originAdmin.get('db3')).toBe('origin');
    await servers.originAdmin.select(0);
  });
});

describe('ShadowRedis2 over the memory engine', () => {
  let servers: OriginAndShadow;
  const clients: Redis[] = [];

  beforeAll(async () => {
    servers = await startOriginAndShadow();
    await servers.originAdmin.set('m', 'origin');
    await servers.originAdmin.rpush('l', 'a', 'b');
  });

  afterAll(async () => {
    for (const made of clients) made.disconnect();
    await servers.stop();
  });

  it('reads the origin and writes the engine, copying values first', async () => {
    const engine = createMemoryEngine();
    const redis = new ShadowRedis2({ host: HOST, port: servers.origin.port }, { shadow: { engine } });
    clients.push(redis);
    const before = await keysDigest(servers.originAdmin);
    expect(await redis.get('m')).toBe('origin');
    expect(await redis.append('m', '+mirror')).toBe(13);
    expect(await redis.get('m')).toBe('origin+mirror');
    expect(await redis.rpush('l', 'c')).toBe(3);
    expect(await redis.lrange('l', 0, -1)).toEqual(['a', 'b', 'c']);
    const results = await redis.pipeline().get('m').set('x', '1').get('l').get('x').exec();
    expect(results!.map(([error, value]) => (error === null ? value : 'error'))).toEqual(['origin+mirror', 'OK', 'error', '1']);
    expect(await keysDigest(servers.originAdmin)).toBe(before);
    expect(await servers.originAdmin.get('x')).toBeNull();
  });
});

// A first write of a key the origin holds: the key's copy (RESTORE … REPLACE) goes out on the
// client's own shadow connection right before the write, not on another connection first.
// Oracles: MONITOR on the shadow (order and connection of RESTORE and the write), a reference
// Redis given the same keys and the same writes (replies, values, expiries compared), and the
// origin's fingerprint (nothing written there).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '@mirrorguard/redis-shadow';
import { fingerprint, monitorServer, type ServerFingerprint } from '../support/redis-oracles.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { rng, type Rng } from '../support/seeded-random.ts';

type Seed = (client: Redis, key: string) => Promise<unknown>;
type Write = (client: Redis, key: string) => Promise<unknown>;

/** Keys of each type, some with an expiry. */
const SEEDS: ReadonlyArray<readonly [string, Seed]> = [
  ['string', (client, key) => client.set(key, 'origin value')],
  ['counter', (client, key) => client.set(key, '41', 'EX', 1000)],
  ['hash', (client, key) => client.hset(key, 'a', '1', 'b', '2')],
  ['list', (client, key) => client.rpush(key, 'x', 'y')],
  ['set', (client, key) => client.sadd(key, 'm', 'n')],
  ['zset', (client, key) => client.zadd(key, 1, 'one', 2, 'two').then(() => client.pexpire(key, 5_000_000))],
  ['absent', (client, key) => client.del(key)],
];

/** Writes that need the key's old value (not a plain SET, which replaces it whole and copies nothing). */
const WRITES: ReadonlyArray<readonly [string, Write]> = [
  ['APPEND', (client, key) => client.append(key, '+w')],
  ['INCR', (client, key) => client.incr(key)],
  ['HSET', (client, key) => client.hset(key, 'c', '3')],
  ['LPUSH', (client, key) => client.lpush(key, 'w')],
  ['SADD', (client, key) => client.sadd(key, 'w')],
  ['ZADD', (client, key) => client.zadd(key, 3, 'three')],
  ['SET XX', (client, key) => client.set(key, 'new', 'XX')],
  ['EXPIRE', (client, key) => client.expire(key, 500)],
  ['DEL', (client, key) => client.del(key)],
];

const outcome = (promise: Promise<unknown>): Promise<unknown> => promise.then((reply) => ({ reply }), (error: Error) => ({ error: error.message }));

/** The key as a client reads it: type, value, and whether it expires. */
async function observe(client: Redis, key: string): Promise<unknown> {
  const type = await client.type(key);
  const values: Record<string, () => Promise<unknown>> = {
    string: () => client.get(key),
    hash: () => client.hgetall(key),
    list: () => client.lrange(key, 0, -1),
    set: () => client.smembers(key).then((members) => members.sort()),
    zset: () => client.zrange(key, 0, -1, 'WITHSCORES'),
  };
  const ttl = await client.pttl(key);
  return { type, value: (await values[type]?.()) ?? null, expiry: ttl === -1 ? 'none' : ttl === -2 ? 'gone' : ttl > 0 ? 'set' : ttl };
}

const pick = <T>(random: Rng, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

describe('a first write carries its key copy on its own shadow connection', () => {
  let origin: ThrowawayRedis;
  let shadow: ThrowawayRedis;
  let reference: ThrowawayRedis;
  let originAdmin: Redis;
  let shadowAdmin: Redis;
  let referenceClient: Redis;
  let before: ServerFingerprint;

  beforeAll(async () => {
    [origin, shadow, reference] = await Promise.all([startRedisServer(), startRedisServer(), startRedisServer()]);
    originAdmin = new Redis(origin.url);
    shadowAdmin = new Redis(shadow.url);
    referenceClient = new Redis(reference.url);
  });

  afterAll(async () => {
    originAdmin.disconnect();
    shadowAdmin.disconnect();
    referenceClient.disconnect();
    await Promise.all([origin.kill(), shadow.kill(), reference.kill()]);
  });

  it('answers as Redis does, with each RESTORE right before its write on the same connection, and the origin unchanged', async () => {
    const random = rng(812);
    const cases = Array.from({ length: 60 }, (_, index) => ({ key: `cw:${index}`, seed: pick(random, SEEDS), write: pick(random, WRITES) }));
    for (const { key, seed } of cases) {
      await seed[1](originAdmin, key);
      await seed[1](referenceClient, key);
    }
    before = await fingerprint(originAdmin);
    const monitor = await monitorServer(shadow.url);
    const client = new ShadowRedis(origin.url, { shadow: shadow.shadowUrl });
    try {
      for (const { key, seed, write } of cases) {
        const label = `${write[0]} on ${seed[0]}`;
        expect(await outcome(write[1](client, key)), label).toEqual(await outcome(write[1](referenceClient, key)));
        expect(await observe(client, key), label).toEqual(await observe(referenceClient, key));
      }
      await monitor.caughtUp(shadowAdmin);
      for (const { key, seed, write } of cases) {
        const named = monitor.received.filter(({ args }) => args[1] === key);
        const copy = named.findIndex(({ args }) => ['restore', 'del'].includes(args[0]!.toLowerCase()));
        if (seed[0] === 'absent' && write[0] === 'DEL') continue;
        expect(copy, `${write[0]} on ${seed[0]}: no copy`).toBeGreaterThanOrEqual(0);
        const written = named[copy + 1];
        // The next command naming the key is the write, from the connection that sent the copy.
        expect(written?.args[0]?.toLowerCase(), `${write[0]} on ${seed[0]}`).toBe(write[0].split(' ')[0]!.toLowerCase());
        expect(written?.source, `${write[0]} on ${seed[0]}: the copy came from another connection`).toBe(named[copy]!.source);
        const between = monitor.received.slice(monitor.received.indexOf(named[copy]!) + 1, monitor.received.indexOf(written!));
        expect(between.filter(({ source }) => source === written!.source), `${write[0]} on ${seed[0]}`).toEqual([]);
      }
    } finally {
      monitor.stop();
      await client.close();
    }
    expect(await fingerprint(originAdmin)).toEqual(before);
  });

  it('a copy the shadow refuses fails its write (whatever the shadow answered it), and the next write copies the key again', async () => {
    await originAdmin.set('refused', 'origin value');
    const client = new ShadowRedis(origin.url, { shadow: shadow.shadowUrl });
    try {
      await client.set('warm', '1');
      // The shadow user loses RESTORE after the client checked it: the copy is refused, the APPEND that follows it is not.
      await shadowAdmin.call('ACL', 'SETUSER', 'mirror-shadow', '-restore');
      await expect(client.append('refused', '+mirror')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_FAILED' });
      // The write failed: the app reads the origin's value, whatever the shadow holds.
      expect(await shadowAdmin.get('refused')).toBe('+mirror');
      expect(await client.get('refused')).toBe('origin value');
      await shadowAdmin.call('ACL', 'SETUSER', 'mirror-shadow', '+restore');
      expect(await client.append('refused', '+mirror')).toBe('origin value+mirror'.length);
      expect(await client.get('refused')).toBe('origin value+mirror');
      expect(await originAdmin.get('refused')).toBe('origin value');
    } finally {
      await client.close();
    }
  });
});

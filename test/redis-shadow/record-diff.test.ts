import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGuards, diffJournals, memorySink, withRequestContext, type JournalEvent, type Profile } from '@mirrorguard/core';
import { redisProvider } from '../../packages/redis-shadow/src/provider/redis-provider.ts';
import { RecordingRedis } from '../../packages/redis-shadow/src/client/recording-redis.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// The primary (record) journals the Redis writes it really makes; its mirror (ShadowRedis, here on
// the memory engine) journals the same writes as shadowed. The same code gives no difference. The
// origin is a redis-server of the test's own.
let originUrl: string;

/** A request's Redis work: reads, writes one by one, in a pipeline and in a transaction, and a publish. */
async function reserve(redis: Redis, quantity: number): Promise<void> {
  await withRequestContext({ requestId: 'reserve-1', method: 'POST', path: '/reservations' }, async () => {
    await redis.get('stock:lamp');
    await redis.decrby('stock:lamp', quantity);
    await redis.hset('cart:7', 'lamp', String(quantity));
    await redis.pipeline().lpush('events', 'reserved').ltrim('events', 0, 99).exec();
    await redis.multi().incr('reservations').expire('reservations', 3600).exec();
    await redis.publish('stock', 'changed');
  });
}

async function journalOf(profile: Profile, quantity: number): Promise<JournalEvent[]> {
  const sink = memorySink();
  const guards = await createGuards({ profile, providers: { redis: redisProvider({ origin: originUrl, shadow: 'memory' }) }, journal: { sinks: [sink] } });
  try {
    await reserve(guards.redis, quantity);
  } finally {
    await guards.close();
  }
  return sink.events().filter((event) => event.action !== 'warned');
}

describe('record profile: the primary journals the Redis writes it really makes', () => {
  let server: ThrowawayRedis;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    originUrl = `${server.url}/4`;
    admin = new Redis(originUrl);
  });
  beforeEach(async () => {
    await admin.flushdb();
    await admin.set('stock:lamp', '10');
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.kill();
  });

  it('is a RecordingRedis that journals writes (and PUBLISH), never reads', async () => {
    const events = await journalOf('record', 2);
    expect(events.map((event) => [event.action, event.operation])).toEqual([
      ['recorded', 'decrby stock:lamp 2'],
      ['recorded', 'hset cart:7 lamp 2'],
      ['recorded', 'lpush events reserved'],
      ['recorded', 'ltrim events 0 99'],
      ['recorded', 'incr reservations'],
      ['recorded', 'expire reservations 3600'],
      ['recorded', 'publish stock changed'],
    ]);
    expect(await admin.get('stock:lamp')).toBe('8');
    const client = new RecordingRedis(originUrl);
    expect(client.duplicate()).toBeInstanceOf(RecordingRedis);
    client.disconnect();
  });

  it('gives no difference against a mirror running the same code, and finds a changed write', async () => {
    const primary = await journalOf('record', 2);
    await admin.set('stock:lamp', '10');
    const mirror = await journalOf('mirror', 2);
    expect(mirror.map((event) => event.action)).toEqual(['shadowed', 'shadowed', 'shadowed', 'shadowed', 'shadowed', 'shadowed', 'blocked']);
    expect(diffJournals(primary, mirror).differing).toBe(0);
    const changed = diffJournals(primary, await journalOf('mirror', 3));
    expect(changed.requests[0]!.differences).toEqual([
      { kind: 'other values', dependency: 'redis', primary: 'decrby stock:lamp 2', mirror: 'decrby stock:lamp 3' },
      { kind: 'other values', dependency: 'redis', primary: 'hset cart:7 lamp 2', mirror: 'hset cart:7 lamp 3' },
    ]);
    expect(await admin.get('stock:lamp')).toBe('10');
  });
});

import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { MemoryRedis } from '../../packages/redis-shadow/src/memory/memory-redis.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// Each case is a defect found in review, kept from coming back. Origin and shadow are redis-servers
// of the test's own.
const ORIGIN_DB = 2;

describe('redis-shadow regressions', () => {
  let originServer: ThrowawayRedis;
  let originUrl: string;
  let shadowServer: ThrowawayRedis;
  let admin: Redis;
  beforeAll(async () => {
    [originServer, shadowServer] = await Promise.all([startRedisServer(), startRedisServer()]);
    originUrl = `${originServer.url}/${ORIGIN_DB}`;
    admin = new Redis(originUrl);
  });
  beforeEach(async () => {
    await admin.flushdb();
    await admin.set('lock', 'held-by-primary');
    await admin.set('counter', '10');
  });
  afterAll(async () => {
    admin?.disconnect();
    await Promise.all([originServer?.kill(), shadowServer?.kill()]);
  });

  it('fails writes to a shadow that never came up, without an unhandled rejection', async () => {
    const client = new ShadowRedis(originUrl, { shadow: { host: '127.0.0.1', port: 1, retryStrategy: () => null } });
    client.on('error', () => undefined);
    await expect(client.set('k', 'v')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_FAILED' });
    expect(await client.get('counter')).toBe('10');
    client.disconnect();
    expect(await admin.exists('k')).toBe(0);
  });

  it('copies a key before a conditional write: SETNX on a key the origin holds answers 0', async () => {
    const client = new ShadowRedis(originUrl, { shadow: shadowServer.shadowUrl });
    try {
      expect(await client.setnx('lock', 'mirror')).toBe(0);
      expect(await client.get('lock')).toBe('held-by-primary');
      // A write that fails leaves the origin's value visible (not an empty shadow key).
      await expect(client.setex('counter', -5, 'x')).rejects.toThrow(/invalid expire time/);
      expect(await client.get('counter')).toBe('10');
    } finally {
      await client.close();
    }
    expect(await admin.get('lock')).toBe('held-by-primary');
  });

  it('maps SELECT of the current database inside a pipelined transaction, and a refused transaction hides nothing', async () => {
    const client = new ShadowRedis(originUrl, { shadow: shadowServer.shadowUrl });
    try {
      expect(await client.multi().select(ORIGIN_DB).incr('counter').exec()).toEqual([[null, 'OK'], [null, 11]]);
      expect(await client.get('counter')).toBe('11');
      await expect(client.multi().flushdb().config('SET', 'maxmemory', '1').exec()).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED' });
      expect(await client.get('lock')).toBe('held-by-primary');
    } finally {
      expect(await client.quit()).toBe('OK');
    }
    expect(await admin.get('counter')).toBe('10');
  });

  it('MemoryRedis: reply errors name their command; a reconnect forgets the database and the transaction', async () => {
    const redis = new MemoryRedis({ db: 3 });
    await redis.set('s', 'x');
    const replies = (await redis.pipeline().incr('s').exec()) as unknown as Array<[Error & { command?: unknown }]>;
    const error = replies[0]![0];
    expect(error).toMatchObject({ message: expect.stringContaining('not an integer'), command: { name: 'incr', args: ['s'] } });
    await redis.select(5);
    await redis.call('MULTI');
    redis.disconnect();
    await redis.connect();
    expect(await redis.get('s')).toBe('x');
    expect(await redis.call('EXEC').catch((caught: Error) => caught.message)).toBe('ERR EXEC without MULTI');
    redis.disconnect();
  });
});

import { Redis } from 'ioredis';
import { createJournal, memorySink } from '@mirrorguard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { loadCommandTable } from '../../packages/redis-shadow/src/commands/command-table.ts';
import { monitorServer } from '../support/redis-oracles.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// A write workload runs through ShadowRedis; the shadow is killed in the middle of it. Writes from
// then on must fail with a clear error and never fall back to the origin, which stays untouched.
// The origin is a redis-server of the test's own: MONITOR sees every command it gets, in any database.
const ORIGIN_DB = 15;

describe('the shadow dies during a workload', () => {
  let origin: ThrowawayRedis;
  let originUrl: string;
  let admin: Redis;
  let monitor: Awaited<ReturnType<typeof monitorServer>>;

  beforeAll(async () => {
    origin = await startRedisServer();
    originUrl = `${origin.url}/${ORIGIN_DB}`;
    admin = new Redis(originUrl);
    await admin.mset(Object.fromEntries(Array.from({ length: 50 }, (_, n) => [`k:${n}`, String(n)])));
    monitor = await monitorServer(origin.url);
  });
  afterAll(async () => {
    monitor?.stop();
    admin?.disconnect();
    await origin?.kill();
  });

  it('fails the writes with MG_ERR_REDIS_SHADOW_FAILED and leaves the origin as it was', async () => {
    const before = await admin.mget(Array.from({ length: 50 }, (_, n) => `k:${n}`));
    const shadow = await startRedisServer();
    const sink = memorySink({ limit: 100_000 });
    const client = new ShadowRedis(originUrl, { shadow: { host: '127.0.0.1', port: shadow.port, ...shadow.shadowUser, retryStrategy: () => null }, journal: createJournal({ profile: 'mirror', sinks: [sink] }) });
    client.on('error', () => undefined);
    const outcomes: string[] = [];
    let killed = false;
    const deadline = Date.now() + 600;
    await Promise.all(
      Array.from({ length: 10 }, async (_, worker) => {
        for (let round = 0; Date.now() < deadline; round += 1) {
          const key = `k:${(worker * 7 + round) % 50}`;
          const write = round % 3 === 0 ? client.incr(key) : round % 3 === 1 ? client.set(key, String(worker)) : client.hset(`h:${worker}`, 'f', String(round));
          outcomes.push(await write.then(() => (killed ? 'ok after kill' : 'ok'), (error: Error & { code?: string }) => error.code ?? error.message));
          if (worker === 0 && round === 20) {
            await shadow.kill();
            killed = true;
          }
        }
      }),
    );
    client.disconnect();

    expect(outcomes.filter((outcome) => outcome === 'ok').length).toBeGreaterThan(20);
    const failures = outcomes.filter((outcome) => outcome !== 'ok' && outcome !== 'ok after kill');
    expect(failures.length).toBeGreaterThan(0);
    expect(new Set(failures)).toEqual(new Set(['MG_ERR_REDIS_SHADOW_FAILED']));
    // Every failed write is journaled as blocked, with the shadow's failure as the reason.
    const blocked = sink.events().filter((event) => event.action === 'blocked');
    expect(blocked.length).toBe(failures.length);
    expect(blocked.every((event) => event.reason.includes('shadow'))).toBe(true);
    // …and names the write that failed (described only then: an unread shadowed write is not described).
    expect(blocked.every((event) => /^(incr k:|set k:|hset h:)\d+/i.test(event.operation))).toBe(true);

    expect(await admin.mget(Array.from({ length: 50 }, (_, n) => `k:${n}`))).toEqual(before);
    expect(await admin.exists('h:0', 'h:1')).toBe(0);
    await monitor.caughtUp(admin);
    const table = await loadCommandTable(admin);
    expect(monitor.received.filter(({ args }) => table.resolve(args)?.flags.has('write'))).toEqual([]);
  });
});

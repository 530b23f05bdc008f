// A plain SET replaces its key whole: its first write in the mirror copies nothing from the origin.
// Oracles: MONITOR on the origin (no command naming the key), and a reference key on a real Redis
// given the same prior state and the same SET (replies, value, type, expiry compared).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '@mirrorguard/redis-shadow';
import { replacesWholeKey } from '../../packages/redis-shadow/src/routing/whole-key-writes.ts';
import { monitorServer } from '../support/redis-oracles.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { rng } from '../support/seeded-random.ts';

type Prior = 'absent' | 'string' | 'string with expiry' | 'hash';
const PRIORS: readonly Prior[] = ['absent', 'string', 'string with expiry', 'hash'];

/** The SET options tried: those that replace a key whole, and every kind that must not be taken as one. */
function options(now: number): string[][] {
  return [
    [],
    ['EX', '100'],
    ['px', '100000'],
    ['EXAT', String(Math.floor(now / 1000) + 1000)],
    ['PXAT', String(now - 60_000)],
    ['NX'],
    ['XX'],
    ['GET'],
    ['KEEPTTL'],
    ['EX', '0'],
    ['EX', '-5'],
    ['EX', '1.5'],
    ['PX', '99999999999999999999'],
    ['EX', '10', 'PX', '10'],
    ['EX', '10', 'NX'],
  ];
}

async function prepare(client: Redis, key: string, prior: Prior): Promise<void> {
  await client.del(key);
  if (prior === 'string') await client.set(key, 'old');
  if (prior === 'string with expiry') await client.set(key, 'old', 'EX', 1000);
  if (prior === 'hash') await client.hset(key, 'f', 'old');
}

/** What the key reads as afterwards: type, value, and the expiry as a sign (none, set, gone). */
async function observe(client: Redis, key: string): Promise<unknown> {
  const type = await client.type(key);
  const value = type === 'string' ? await client.get(key) : type === 'hash' ? await client.hgetall(key) : null;
  const ttl = await client.pttl(key);
  return { type, value, expiry: ttl === -1 ? 'none' : ttl === -2 ? 'gone' : ttl > 0 ? 'set' : ttl };
}

const outcome = (promise: Promise<unknown>): Promise<unknown> => promise.then((reply) => ({ reply }), (error: Error) => ({ error: error.message }));

describe('whole-key writes: a plain SET copies nothing', () => {
  let originServer: ThrowawayRedis;
  let shadowServer: ThrowawayRedis;
  let admin: Redis;
  let reference: Redis;
  let client: ShadowRedis;
  let monitor: Awaited<ReturnType<typeof monitorServer>>;

  beforeAll(async () => {
    [originServer, shadowServer] = await Promise.all([startRedisServer(), startRedisServer()]);
    admin = new Redis(originServer.url);
    reference = new Redis(shadowServer.url, { db: 5 });
    client = new ShadowRedis(originServer.url, { shadow: shadowServer.shadowUrl });
    monitor = await monitorServer(originServer.url);
  });

  afterAll(async () => {
    monitor.stop();
    await client.close();
    admin.disconnect();
    reference.disconnect();
    await Promise.all([originServer.kill(), shadowServer.kill()]);
  });

  it('answers every SET as Redis does, and copies the key first only when the SET is not a plain one', async () => {
    const random = rng(1207);
    const now = Date.now();
    const cases = PRIORS.flatMap((prior) => options(now).map((extra) => ({ prior, extra })));
    // Shuffled (seeded): the order a key is first written in does not matter.
    cases.sort(() => random() - 0.5);
    let plain = 0;
    for (const [index, { prior, extra }] of cases.entries()) {
      const key = `w:${index}`;
      await prepare(admin, key, prior);
      await prepare(reference, key, prior);
      const argv = ['set', key, 'new', ...extra];
      const expected = await outcome(reference.call('SET', key, 'new', ...extra));
      const actual = await outcome(client.call('SET', key, 'new', ...extra));
      expect(actual, `SET ${prior} ${extra.join(' ')}`).toEqual(expected);
      expect(await observe(client, key), `after SET ${prior} ${extra.join(' ')}`).toEqual(await observe(reference, key));
      await monitor.caughtUp(admin);
      const named = monitor.received.filter(({ args }) => args.includes(key) && !['del', 'set', 'hset'].includes(args[0]!.toLowerCase()));
      // The origin is read for the key unless the SET replaces it whole (the reads after it go to the shadow).
      if (replacesWholeKey(argv)) {
        plain += 1;
        expect(named, `SET ${prior} ${extra.join(' ')} read the origin`).toEqual([]);
      } else if (prior !== 'absent') {
        expect(named.length, `SET ${prior} ${extra.join(' ')} did not copy the key`).toBeGreaterThan(0);
      }
    }
    expect(plain).toBe(PRIORS.length * 5);
    // The origin still holds what it held.
    expect(await admin.get('w:0')).not.toBe('new');
  });

  it('copies the key for a SET inside a transaction, which may be aborted', async () => {
    await admin.set('w:tx', 'old', 'EX', 1000);
    const results = await client.multi().set('w:tx', 'new').get('w:tx').exec();
    expect(results).toEqual([[null, 'OK'], [null, 'new']]);
    await monitor.caughtUp(admin);
    expect(monitor.received.some(({ args }) => args.includes('w:tx') && args[0]!.toLowerCase() === 'dump')).toBe(true);
  });
});

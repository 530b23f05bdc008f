// Attacks on the plain-SET fast path (whole-key-writes.ts, ShadowRedis#toShadow with replacesWhole):
// a plain SET owns its key at once, copying nothing. Oracles: MONITOR on the origin (no write, nothing
// read for a plain SET), and a reference Redis given the same prior state and the same commands.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '@mirrorguard/redis-shadow';
import { replacesWholeKey } from '../../packages/redis-shadow/src/routing/whole-key-writes.ts';
import { monitorServer } from '../support/redis-oracles.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

const outcome = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (reply) => ({ reply }),
    (error: Error) => ({ error: error.message }),
  );

const WRITES = new Set(['set', 'del', 'hset', 'append', 'incr', 'restore', 'flushdb', 'flushall', 'expire', 'pexpire', 'getex', 'setex', 'rename', 'copy', 'swapdb', 'move', 'lpush', 'sadd', 'select']);

describe('attacks on the whole-key SET fast path', () => {
  let originServer: ThrowawayRedis;
  let shadowServer: ThrowawayRedis;
  let referenceServer: ThrowawayRedis;
  let admin: Redis;
  let reference: Redis;
  let monitor: Awaited<ReturnType<typeof monitorServer>>;
  let n = 0;
  const fresh = (): string => `a:${(n += 1)}`;

  beforeAll(async () => {
    [originServer, shadowServer, referenceServer] = await Promise.all([startRedisServer(), startRedisServer(), startRedisServer()]);
    admin = new Redis(originServer.url);
    reference = new Redis(referenceServer.url);
    monitor = await monitorServer(originServer.url);
  });

  afterAll(async () => {
    monitor.stop();
    admin.disconnect();
    reference.disconnect();
    await Promise.all([originServer.kill(), shadowServer.kill(), referenceServer.kill()]);
  });

  /** No write of any kind reached the origin from the mirror (the test's own set-up connection aside). */
  async function originUnwritten(mirrorPorts: () => Promise<string[]>): Promise<void> {
    await monitor.caughtUp(admin);
    const mine = new Set(await mirrorPorts());
    const fromMirror = monitor.received.filter(({ source }) => mine.has(source.split(' ')[0]!.split(':').pop()!));
    // The oracle sees the mirror's connections (their reads), so an empty list of writes means something.
    expect(fromMirror.length).toBeGreaterThan(0);
    expect(fromMirror.filter(({ args }) => WRITES.has(args[0]!.toLowerCase()) && args[0]!.toLowerCase() !== 'select')).toEqual([]);
  }

  async function clientPorts(): Promise<string[]> {
    const list = String(await admin.call('CLIENT', 'LIST')).trim().split('\n');
    return list.filter((line) => !/ cmd=monitor/.test(line) && !/ name=admin/.test(line)).map((line) => /addr=\S+:(\d+)/.exec(line)![1]!);
  }

  async function both(prepare: (c: Redis) => Promise<unknown>): Promise<void> {
    await prepare(admin);
    await prepare(reference);
  }

  it('argument forms: every plain-looking SET answers, and leaves the key, as Redis does', async () => {
    await admin.client('SETNAME', 'admin');
    const client = new ShadowRedis(originServer.url, { shadow: shadowServer.shadowUrl });
    try {
      const now = Date.now();
      const forms: unknown[][] = [
        ['EX', '+5'],
        ['EX', '05'],
        ['EX', ' 5'],
        ['EX', '5 '],
        ['EX', '٥'],
        ['EX', '999999999999'],
        ['PX', '999999999999999'],
        ['EXAT', '999999999999'],
        ['PXAT', '999999999999999'],
        ['EXAT', '1'],
        ['PXAT', '1'],
        [Buffer.from('ex'), Buffer.from('100')],
        [Buffer.from('EX\u0000'), '100'],
        ['Ex', 100],
        ['PX', 1e21],
        ['EX', 9223372036854],
        ['eXaT', String(Math.floor(now / 1000) + 100)],
        ['EX', '100', 'EX', '100'],
      ];
      for (const prior of ['absent', 'string', 'hash'] as const) {
        for (const extra of forms) {
          const key = fresh();
          await both(async (c) => {
            if (prior === 'string') await c.set(key, 'old', 'EX', 1000);
            if (prior === 'hash') await c.hset(key, 'f', 'v');
          });
          const label = `${prior} SET ${extra.map(String).join(' ')}`;
          const expected = await outcome(reference.call('SET', key, 'new', ...(extra as string[])));
          const actual = await outcome(client.call('SET', key, 'new', ...(extra as string[])));
          expect(actual, label).toEqual(expected);
          const observe = async (c: Redis): Promise<unknown> => [await c.type(key), await c.call('GET', key).catch((e: Error) => e.message), Math.sign(await c.pttl(key))];
          expect(await observe(client), label).toEqual(await observe(reference));
        }
      }
      await originUnwritten(clientPorts);
    } finally {
      await client.close();
    }
  });

  it('pipelines mixing a plain SET with reads and writes of the same key answer as Redis', async () => {
    const client = new ShadowRedis(originServer.url, { shadow: shadowServer.shadowUrl });
    try {
      for (let round = 0; round < 5; round += 1) {
        const key = fresh();
        await both((c) => c.set(key, 'old', 'EX', 1000));
        const build = (c: Redis) =>
          c.pipeline().get(key).exists(key).set(key, 'new').pttl(key).append(key, '+').get(key).type(key).set(key, 'again', 'PX', 50000).getex(key, 'PERSIST').ttl(key).strlen(key).dbsize().keys('a:*');
        const expected = await build(reference).exec();
        const actual = await build(client).exec();
        // DBSIZE and KEYS differ between the two servers' whole contents; compare the rest, then the key's presence.
        const strip = (rows: typeof expected) => rows!.slice(0, 11);
        expect(strip(actual), `round ${round}`).toEqual(strip(expected));
        expect((actual![12]![1] as string[]).filter((k) => k === key)).toEqual([key]);
      }
      await originUnwritten(clientPorts);
    } finally {
      await client.close();
    }
  });

  it('a keyspace read pipelined just before a plain SET counts the key once (DBSIZE, KEYS, SCAN, EXISTS)', async () => {
    // A shadow of its own: keyspace-wide reads count all of the shadow database's keys.
    const privateShadow = await startRedisServer();
    const client = new ShadowRedis(`${originServer.url}/7`, { shadow: privateShadow.shadowUrl });
    const origin7 = new Redis(originServer.url, { db: 7 });
    const reference7 = new Redis(referenceServer.url, { db: 7 });
    try {
      await Promise.all([origin7.flushdb(), reference7.flushdb()]);
      await Promise.all([origin7.mset('k1', 'a', 'k2', 'b', 'k3', 'c'), reference7.mset('k1', 'a', 'k2', 'b', 'k3', 'c')]);
      for (const key of ['k1', 'k2', 'k3']) {
        const build = (c: Redis) => c.pipeline().dbsize().keys('*').exists('k1', 'k2', 'k3').set(key, 'new').dbsize().keys('*').get(key);
        const sortKeys = (rows: Awaited<ReturnType<ReturnType<typeof build>['exec']>>) => rows!.map(([error, reply]) => [error, Array.isArray(reply) ? [...(reply as string[])].sort() : reply]);
        expect(sortKeys(await build(client).exec()), key).toEqual(sortKeys(await build(reference7).exec()));
        // SCAN may page differently; iterated to the end it names each key once.
        const scanned: string[] = [];
        let cursor = '0';
        do {
          const [next, page] = await client.scan(cursor, 'COUNT', 1);
          scanned.push(...page);
          cursor = next;
        } while (cursor !== '0');
        expect(scanned.sort(), key).toEqual(['k1', 'k2', 'k3']);
      }
    } finally {
      origin7.disconnect();
      reference7.disconnect();
      await client.close();
      await privateShadow.kill();
    }
  });

  it('a plain SET racing a copy of the same key from a duplicate (shared session) lands in an order Redis allows', async () => {
    const client = new ShadowRedis(originServer.url, { shadow: shadowServer.shadowUrl });
    const other = client.duplicate() as ShadowRedis;
    try {
      const keys = Array.from({ length: 40 }, () => fresh());
      await Promise.all(keys.map((key) => admin.set(key, 'old')));
      // APPEND copies its key first; the SET from the other connection goes out while that copy runs.
      const appended = keys.map((key) => other.append(key, 'x'));
      const set = keys.map((key) => client.set(key, 'new'));
      await Promise.all([...appended, ...set]);
      const values = await Promise.all(keys.map((key) => client.get(key)));
      // APPEND then SET: new; SET then APPEND: newx. Never the origin's value appended after the SET.
      for (const [index, value] of values.entries()) expect(['new', 'newx'], keys[index]).toContain(value);
      const otherValues = await Promise.all(keys.map((key) => other.get(key)));
      expect(otherValues).toEqual(values);
      expect(await Promise.all(keys.map((key) => admin.get(key)))).toEqual(keys.map(() => 'old'));
    } finally {
      await other.close();
      await client.close();
    }
  });

  it('SELECT another database, then a plain SET: that database of the shadow, the origin untouched', async () => {
    const client = new ShadowRedis(originServer.url, { shadow: shadowServer.shadowUrl });
    const origin3 = new Redis(originServer.url, { db: 3 });
    try {
      const key = fresh();
      await origin3.set(key, 'old3');
      await admin.set(key, 'old0');
      await client.select(3);
      expect(await client.set(key, 'new3')).toBe('OK');
      expect(await client.get(key)).toBe('new3');
      await client.select(0);
      expect(await client.get(key)).toBe('old0');
      const p = await client.pipeline().select(3).set(key, 'p3').select(0).get(key).select(3).get(key).exec();
      expect(p!.map(([, r]) => r)).toEqual(['OK', 'OK', 'OK', 'old0', 'OK', 'p3']);
      expect(await origin3.get(key)).toBe('old3');
      expect(await admin.get(key)).toBe('old0');
    } finally {
      origin3.disconnect();
      await client.close();
    }
  });

  it('transactions: MULTI via pipeline, multi({ pipeline: false }), WATCH then SET then EXEC answer as Redis', async () => {
    const client = new ShadowRedis(originServer.url, { shadow: shadowServer.shadowUrl });
    try {
      for (const form of ['pipelined', 'manual', 'watch-own-set', 'watch-other-set'] as const) {
        const key = fresh();
        await both((c) => c.set(key, 'old', 'EX', 1000));
        const run = async (c: Redis): Promise<unknown> => {
          if (form === 'pipelined') return c.multi().set(key, 'new').ttl(key).get(key).exec();
          if (form === 'manual') {
            await c.multi({ pipeline: false });
            const queued = [await c.set(key, 'new'), await c.ttl(key), await c.get(key)];
            return [queued, await c.exec()];
          }
          await c.watch(key);
          if (form === 'watch-own-set') await c.set(key, 'mine');
          else await c.set(fresh(), 'elsewhere');
          const r = await c.multi().get(key).exec();
          return [r, await c.get(key), await c.ttl(key) > 0];
        };
        expect(await run(client), form).toEqual(await run(reference));
      }
      await originUnwritten(clientPorts);
    } finally {
      await client.close();
    }
  });

  it('after FLUSHDB on the mirror, a plain SET then reads answer as Redis', async () => {
    const privateShadow = await startRedisServer();
    const client = new ShadowRedis(`${originServer.url}/9`, { shadow: privateShadow.shadowUrl });
    const origin9 = new Redis(originServer.url, { db: 9 });
    const reference9 = new Redis(referenceServer.url, { db: 9 });
    try {
      await Promise.all([origin9.mset('x', '1', 'y', '2'), reference9.mset('x', '1', 'y', '2')]);
      const run = async (c: Redis) => [await c.flushdb(), await c.set('x', 'new'), await c.get('x'), await c.get('y'), await c.dbsize(), await c.keys('*')];
      expect(await run(client)).toEqual(await run(reference9));
      expect(await origin9.mget('x', 'y')).toEqual(['1', '2']);
    } finally {
      origin9.disconnect();
      reference9.disconnect();
      await client.close();
      await privateShadow.kill();
    }
  });

  for (const prefix of ['', 'pre:']) it(`a plain SET on a key a script wrote answers as Redis (keyPrefix '${prefix}')`, async () => {
    const client = new ShadowRedis({ host: '127.0.0.1', port: originServer.port, keyPrefix: prefix }, { shadow: shadowServer.shadowUrl });
    try {
      const key = fresh();
      await both((c) => c.set(`${prefix}${key}`, 'old'));
      const script = "redis.call('APPEND', KEYS[1], 'S'); return redis.call('GET', KEYS[1])";
      const run = async (c: Redis, prefix: string) => [
        await c.eval(script, 1, `${prefix}${key}`),
        await c.set(`${prefix}${key}`, 'new', 'EX', 100),
        await c.get(`${prefix}${key}`),
        await c.append(`${prefix}${key}`, '!'),
        await c.get(`${prefix}${key}`),
        (await c.ttl(`${prefix}${key}`)) > 0,
      ];
      expect(await run(client, '')).toEqual(await run(reference, prefix));
      expect(await admin.get(`${prefix}${key}`)).toBe('old');
    } finally {
      await client.close();
    }
  });

  it('memory shadow: plain SET forms answer as Redis', async () => {
    const client = new ShadowRedis(originServer.url, { shadow: 'memory' });
    try {
      for (const extra of [[], ['EX', '999999999999'], ['PX', '999999999999999'], ['PXAT', '1'], ['exat', '999999999999'], ['px', '100000']]) {
        const key = fresh();
        await both((c) => c.hset(key, 'f', 'v'));
        const label = extra.join(' ');
        expect(await outcome(client.call('SET', key, 'new', ...extra)), label).toEqual(await outcome(reference.call('SET', key, 'new', ...extra)));
        const observe = async (c: Redis) => [await c.type(key), await c.get(key), Math.sign(await c.pttl(key)), await c.exists(key)];
        expect(await observe(client), label).toEqual(await observe(reference));
      }
    } finally {
      await client.close();
    }
  });

  it('sanity: replacesWholeKey rejects forms the server may refuse', () => {
    expect(replacesWholeKey(['set', 'k', 'v', 'EX', '+5'])).toBe(false);
    expect(replacesWholeKey(['set', 'k', 'v', 'EX', '٥'])).toBe(false);
    expect(replacesWholeKey(['set', 'k', 'v', 'EX', '05'])).toBe(false);
  });
});

describe('attacks on the whole-key SET fast path: a shadow that refuses the SET', () => {
  // Was through: the key was marked owned before the SET was answered, so a SET the shadow refused
  // (OOM here; the same for any failure of it) left it owned and unwritten: nil where a Redis that
  // refused the SET still holds the old value. Now the key is owned only once the SET is applied;
  // refused, the origin's value is copied first (refused too here: the key stays the origin's).
  it('a plain SET the shadow refuses (maxmemory, noeviction) leaves the key reading as it did', async () => {
    const [origin, shadow] = await Promise.all([startRedisServer(), startRedisServer({ args: ['--maxmemory', '1', '--maxmemory-policy', 'noeviction'] })]);
    const admin = new Redis(origin.url);
    const client = new ShadowRedis(origin.url, { shadow: shadow.shadowUrl });
    try {
      await admin.set('k', 'old');
      await admin.hset('h', 'f', 'v');
      const set = await outcome(client.set('k', 'new'));
      expect(set).toEqual({ error: expect.stringContaining('OOM') });
      // A Redis that refused the SET still holds the old value.
      expect(await client.get('k')).toBe('old');
      expect(await outcome(client.set('h', 'new', 'EX', 100))).toEqual({ error: expect.stringContaining('OOM') });
      expect(await client.type('h')).toBe('hash');
      expect(await client.hget('h', 'f')).toBe('v');
      expect(await client.exists('k', 'h')).toBe(2);
      expect(await admin.get('k')).toBe('old');
    } finally {
      await client.close();
      admin.disconnect();
      await Promise.all([origin.kill(), shadow.kill()]);
    }
  });
});

describe('attacks on the whole-key SET fast path: a SET that is never answered', () => {
  it('a plain SET that times out (the shadow paused) may land later: its key is refused from then on, never read from either side', async () => {
    const [origin, shadow] = await Promise.all([startRedisServer(), startRedisServer()]);
    const admin = new Redis(origin.url);
    const shadowAdmin = new Redis(shadow.url);
    const client = new ShadowRedis({ host: '127.0.0.1', port: origin.port, commandTimeout: 300 }, { shadow: shadow.shadowUrl });
    try {
      await admin.set('k', 'old');
      await client.set('warm', 'up'); // the shadow's session checked and ready
      await shadowAdmin.call('CLIENT', 'PAUSE', '3000', 'WRITE');
      expect(await outcome(client.set('k', 'new'))).toEqual({ error: expect.stringMatching(/Command timed out/) });
      // The SET may still land once the pause ends: neither 'old' nor nil can be trusted.
      expect(await outcome(client.get('k'))).toEqual({ error: expect.stringMatching(/neither side's value can be trusted/) });
      expect(await admin.get('k')).toBe('old');
    } finally {
      await shadowAdmin.call('CLIENT', 'UNPAUSE');
      await client.close();
      admin.disconnect();
      shadowAdmin.disconnect();
      await Promise.all([origin.kill(), shadow.kill()]);
    }
  });
});

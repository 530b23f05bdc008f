// Attacks on b85e0da: a first write's RESTORE (or DEL) sent, unawaited, right before the write on
// the client's own shadow connection, the key held from the origin read until the RESTORE's reply.
// Private servers only: an origin, a shadow, and a reference Redis given the same keys and the
// same commands (what the app must see). Oracles: replies and values against the reference, the
// origin's fingerprint, the shadow's own view (INFO clients, CLIENT LIST).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '@mirrorguard/redis-shadow';
import { commandStats, executedStats, fingerprint } from '../support/redis-oracles.ts';
import { startOriginAndShadow, startRedisServer, type OriginAndShadow, type ThrowawayRedis } from '../support/redis-server.ts';
import { rng } from '../support/seeded-random.ts';

const outcome = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (reply) => ({ reply }),
    (error: Error & { code?: string }) => ({ error: /^(WRONGTYPE|ERR)/.exec(error.message)?.[1] ?? error.code ?? error.message }),
  );

/** Resolves once `admin`'s server has `count` clients blocked (a BLPOP waiting on it), polling its own INFO. */
async function blockedClients(admin: Redis, count: number): Promise<void> {
  for (;;) {
    const info = String(await admin.call('INFO', 'clients'));
    if (Number(/blocked_clients:(\d+)/.exec(info)?.[1]) >= count) return;
  }
}

/** Resolves once the origin has answered more DUMPs than `before`. */
async function dumpsBeyond(admin: Redis, before: number): Promise<void> {
  while (((await commandStats(admin)).get('dump') ?? 0) <= before);
}

describe('a first write carrying its RESTORE on its own shadow connection, attacked', () => {
  let servers: OriginAndShadow;
  let reference: ThrowawayRedis;
  let referenceAdmin: Redis;

  beforeAll(async () => {
    [servers, reference] = await Promise.all([startOriginAndShadow(), startRedisServer()]);
    referenceAdmin = new Redis(reference.url);
  });

  afterAll(async () => {
    referenceAdmin.disconnect();
    await Promise.all([servers.stop(), reference.kill()]);
  });

  const mirror = (options: { commandTimeout?: number } = {}): ShadowRedis =>
    new ShadowRedis({ host: '127.0.0.1', port: servers.origin.port, ...options }, { shadow: servers.shadow.shadowUrl });

  // GOT THROUGH b85e0da, closed since (blockedBehind). The key is held from the origin read until
  // its RESTORE is answered, and that RESTORE waited on the writing client's own shadow connection,
  // behind whatever that connection was blocked on (here the same client's BLPOP … 0). Any other
  // client (duplicate(), sharing key state) that reads the key waited with it: in a real Redis its
  // GET answers at once (only the blocked connection waits). A program that reads the key before
  // pushing the list the BLPOP waits for never finished; here B's commandTimeout shows the wait.
  // Now a connection with a blocking command in flight copies on the writer connection first.
  it('a read by another client of a key whose RESTORE waits behind a blocked connection is answered at once', async () => {
    const { originAdmin } = servers;
    await Promise.all([originAdmin.set('held', 'origin'), referenceAdmin.set('held', 'origin')]);
    const before = await fingerprint(originAdmin);
    const a = mirror();
    const b = a.duplicate({ commandTimeout: 1500 });
    try {
      await a.set('held:warm', '1');
      const popped = a.blpop('held:list', 0);
      await blockedClients(servers.shadowAdmin, 1);
      const dumps = (await commandStats(originAdmin)).get('dump') ?? 0;
      const appended = a.append('held', '+a');
      await dumpsBeyond(originAdmin, dumps);
      // The reference: a client blocked on BLPOP, its APPEND queued behind it; another client reads
      // the key, then pushes what the BLPOP waits for.
      const refA = new Redis(reference.url);
      const refB = new Redis(reference.url, { commandTimeout: 1500 });
      const refPopped = refA.blpop('held:list', 0);
      await blockedClients(referenceAdmin, 1);
      const refAppended = refA.append('held', '+a');
      const expected = [await outcome(refB.get('held')), await outcome(refB.lpush('held:list', 'go'))];
      await Promise.all([refPopped, refAppended]);
      refA.disconnect();
      refB.disconnect();
      expect(expected).toEqual([{ reply: 'origin' }, { reply: 1 }]);
      let got: unknown;
      try {
        got = [await outcome(b.get('held')), await outcome(b.lpush('held:list', 'go'))];
      } finally {
        // Unblocks A whatever B did (B's push, still queued behind its read, would never go out).
        const stillBlocked = Number(/blocked_clients:(\d+)/.exec(String(await servers.shadowAdmin.call('INFO', 'clients')))?.[1]) > 0;
        if (stillBlocked) await servers.shadowAdmin.lpush('held:list', 'unblock');
        await Promise.allSettled([popped, appended]);
      }
      expect(got).toEqual(expected);
    } finally {
      await b.close();
      await a.close();
    }
    expect(await fingerprint(originAdmin)).toEqual(before);
  });

  // GOT THROUGH b85e0da, closed since: blocked connections copy on the writer connection, and a
  // RESTORE whose commandTimeout runs out distrusts its key instead of handing it back. Before: a
  // RESTORE not answered in time (the app's commandTimeout bounds the shadow connection too)
  // settled its key as 'refused', the origin's, though it and the write behind it were still on
  // their way and ran later. Another client then
  // copies the key afresh on its own connection and writes it (owned, with its write); when the
  // first connection is unblocked, the stale RESTORE … REPLACE puts the origin's old value back
  // and the timed-out APPEND lands on it: B's acknowledged write is lost and the key stays owned
  // with a value no Redis could hold. A real Redis ends with both appends (B's, then A's late one).
  // Before b85e0da the RESTORE ran (and was answered) first on the writer connection; only the
  // APPEND waited, and landed after B's: the same value as the reference.
  it('a RESTORE that timed out behind a blocked connection never lands over a later write of another client', async () => {
    const { originAdmin } = servers;
    await Promise.all([originAdmin.set('late', 'origin'), referenceAdmin.set('late', 'origin')]);
    const before = await fingerprint(originAdmin);
    const run = async (a: Redis, b: Redis, blocked: Redis): Promise<unknown[]> => {
      const popped = outcome(a.blpop('late:list', 0));
      await blockedClients(blocked, 1);
      const timedOut = await outcome(a.append('late', '+a'));
      const written = await outcome(b.append('late', '+b'));
      await b.lpush('late:list', 'go');
      await popped;
      // On A's connection, behind what it had queued: answered once those ran.
      await a.set('late:sync', '1');
      return [typeof timedOut === 'object' && timedOut !== null && 'error' in timedOut ? 'failed' : timedOut, written, await b.get('late')];
    };
    const refA = new Redis(reference.url, { commandTimeout: 400 });
    const refB = new Redis(reference.url, { commandTimeout: 400 });
    const expected = await run(refA, refB, referenceAdmin);
    refA.disconnect();
    refB.disconnect();
    expect(expected).toEqual(['failed', { reply: 'origin+b'.length }, 'origin+b+a']);
    const a = mirror({ commandTimeout: 400 });
    const b = a.duplicate();
    try {
      await a.set('late:warm', '1');
      expect(await run(a, b, servers.shadowAdmin)).toEqual(expected);
    } finally {
      await b.close();
      await a.close();
    }
    expect(await fingerprint(originAdmin)).toEqual(before);
  });

  // STOPPED. The same key named twice in one write: read (and copied) once, the write sees it.
  it('writes naming one key twice answer and leave values as Redis does', async () => {
    const { originAdmin } = servers;
    const seeds: Array<[string, (client: Redis) => Promise<unknown>]> = [
      ['tw:list', (client) => client.rpush('tw:list', 'x', 'y', 'z')],
      ['tw:set', (client) => client.sadd('tw:set', 'm', 'n')],
      ['tw:str', (client) => client.set('tw:str', 'origin', 'PX', 5_000_000)],
      ['tw:zset', (client) => client.zadd('tw:zset', 1, 'one', 2, 'two')],
      ['tw:list2', (client) => client.rpush('tw:list2', 'p', 'q')],
    ];
    for (const [, seed] of seeds) await Promise.all([seed(originAdmin), seed(referenceAdmin)]);
    const before = await fingerprint(originAdmin);
    const writes: Array<[string, (client: Redis) => Promise<unknown>]> = [
      ['RPOPLPUSH k k', (client) => client.rpoplpush('tw:list', 'tw:list')],
      ['SMOVE k k', (client) => client.smove('tw:set', 'tw:set', 'm')],
      ['RENAME k k', (client) => client.rename('tw:str', 'tw:str')],
      ['LMOVE k k', (client) => client.lmove('tw:list2', 'tw:list2', 'LEFT', 'RIGHT')],
      ['ZUNIONSTORE k k', (client) => client.zunionstore('tw:zset', 2, 'tw:zset', 'tw:zset')],
      ['BLMOVE k k', (client) => client.blmove('tw:list', 'tw:list', 'RIGHT', 'LEFT', 1)],
      ['COPY k k', (client) => client.copy('tw:str', 'tw:str')],
    ];
    const client = mirror();
    try {
      for (const [label, write] of writes) expect(await outcome(write(client)), label).toEqual(await outcome(write(referenceAdmin)));
      for (const key of ['tw:list', 'tw:list2']) expect(await client.lrange(key, 0, -1), key).toEqual(await referenceAdmin.lrange(key, 0, -1));
      expect((await client.smembers('tw:set')).sort()).toEqual((await referenceAdmin.smembers('tw:set')).sort());
      expect(await client.get('tw:str')).toBe(await referenceAdmin.get('tw:str'));
      expect((await client.pttl('tw:str')) > 4_000_000).toBe((await referenceAdmin.pttl('tw:str')) > 4_000_000);
      expect(await client.zrange('tw:zset', 0, -1, 'WITHSCORES')).toEqual(await referenceAdmin.zrange('tw:zset', 0, -1, 'WITHSCORES'));
    } finally {
      await client.close();
    }
    expect(await fingerprint(originAdmin)).toEqual(before);
  });

  // STOPPED. Two clients writing the same fresh keys at once, in crossed order (RPOPLPUSH a b /
  // RPOPLPUSH b a): each holds keys while it reads the origin; a lock-order deadlock would leave
  // both waiting forever. And both writes land, once each, as in some order on a real Redis.
  it('crossed first writes of two clients on the same keys both settle, each applied once', async () => {
    const { originAdmin } = servers;
    const a = mirror();
    const b = a.duplicate();
    try {
      await a.set('cross:warm', '1');
      for (let round = 0; round < 40; round += 1) {
        const [x, y] = [`cross:${round}:x`, `cross:${round}:y`];
        await originAdmin.rpush(x, 'x1', 'x2');
        await originAdmin.rpush(y, 'y1', 'y2');
        const replies = await Promise.all([a.rpoplpush(x, y), b.rpoplpush(y, x)]);
        const [xs, ys] = [await b.lrange(x, 0, -1), await a.lrange(y, 0, -1)];
        // Either order of the two on a real Redis ends the same way.
        expect({ replies, xs, ys }).toEqual({ replies: ['x2', 'y2'], xs: ['y2', 'x1'], ys: ['x2', 'y1'] });
      }
    } finally {
      await b.close();
      await a.close();
    }
  });

  // STOPPED. A pipeline of writes and reads of one fresh key (each command goes its own way; the
  // second write finds the key owned by the first's RESTORE) answers as Redis does.
  it('a pipeline of first writes and reads of fresh keys answers as Redis does', async () => {
    const { originAdmin } = servers;
    const random = rng(4711);
    const keys = Array.from({ length: 8 }, (_, index) => `pipe:${index}`);
    for (const key of keys) await Promise.all([originAdmin.set(key, `v${key}`), referenceAdmin.set(key, `v${key}`)]);
    const before = await fingerprint(originAdmin);
    const ops = Array.from({ length: 60 }, () => ({ key: keys[Math.floor(random() * keys.length)]!, kind: Math.floor(random() * 4) }));
    const build = (client: Redis): Promise<unknown> => {
      const pipeline = client.pipeline();
      for (const { key, kind } of ops) {
        if (kind === 0) pipeline.append(key, '+');
        else if (kind === 1) pipeline.get(key);
        else if (kind === 2) pipeline.strlen(key);
        else pipeline.lpush(key, 'wrong');
      }
      return pipeline.exec().then((results) => results?.map(([error, reply]) => (error === null ? reply : /^\w+/.exec((error as Error).message)?.[0])));
    };
    const client = mirror();
    try {
      expect(await build(client)).toEqual(await build(referenceAdmin));
      for (const key of keys) expect(await client.get(key), key).toBe(await referenceAdmin.get(key));
    } finally {
      await client.close();
    }
    expect(await fingerprint(originAdmin)).toEqual(before);
  });

  // STOPPED. A write the shadow refuses after a good copy (WRONGTYPE), and a 1 MB value: the
  // error is Redis', the key keeps the origin's value, the next write builds on it.
  it('a write refused after its copy, and a 1 MB key, answer as Redis does', async () => {
    const { originAdmin } = servers;
    const big = 'b'.repeat(1024 * 1024);
    await Promise.all([originAdmin.set('wt:str', 'origin'), referenceAdmin.set('wt:str', 'origin'), originAdmin.set('wt:big', big), referenceAdmin.set('wt:big', big)]);
    const before = await fingerprint(originAdmin);
    const client = mirror();
    try {
      const steps: Array<(c: Redis) => Promise<unknown>> = [
        (c) => c.lpush('wt:str', 'x'),
        (c) => c.get('wt:str'),
        (c) => c.append('wt:str', '+w'),
        (c) => c.append('wt:big', '+w'),
        (c) => c.strlen('wt:big'),
        (c) => c.getrange('wt:big', -4, -1),
      ];
      for (const step of steps) expect(await outcome(step(client))).toEqual(await outcome(step(referenceAdmin)));
    } finally {
      await client.close();
    }
    expect(await fingerprint(originAdmin)).toEqual(before);
  });

  // STOPPED. SELECT between first writes: each RESTORE lands in the database its write meant
  // (the shadow connection is switched before the copies go out).
  it('first writes around SELECT copy into the right database', async () => {
    const { originAdmin } = servers;
    for (const admin of [originAdmin, referenceAdmin]) {
      await admin.select(3);
      await admin.set('db:k', 'three');
      await admin.select(0);
      await admin.set('db:k', 'zero');
    }
    const before = await fingerprint(originAdmin);
    const client = mirror();
    const reference2 = new Redis(reference.url);
    try {
      const steps: Array<(c: Redis) => Promise<unknown>> = [
        (c) => c.append('db:k', '+0'),
        (c) => c.select(3),
        (c) => c.append('db:k', '+3'),
        (c) => c.select(0),
        (c) => c.get('db:k'),
        (c) => c.select(3),
        (c) => c.get('db:k'),
      ];
      const sent = steps.map((step) => outcome(step(client)));
      const expected = steps.map((step) => outcome(step(reference2)));
      expect(await Promise.all(sent)).toEqual(await Promise.all(expected));
    } finally {
      reference2.disconnect();
      await client.close();
    }
    expect(await fingerprint(originAdmin)).toEqual(before);
  });

  // STOPPED. WATCH before first writes: a RESTORE sent on the watching connection for another key
  // leaves the watch clean (EXEC runs), and one for the watched key itself dirties it only as the
  // client's own write would on a real Redis (EXEC aborts).
  it('first writes after WATCH abort EXEC exactly when Redis does', async () => {
    const { originAdmin } = servers;
    for (const admin of [originAdmin, referenceAdmin]) await admin.mset('w:watched', 'w0', 'w:other', 'o0');
    const before = await fingerprint(originAdmin);
    const client = mirror();
    const reference2 = new Redis(reference.url);
    try {
      await client.set('w:warm', '1');
      for (const [label, target] of [['another key', 'w:other'], ['the watched key', 'w:watched']] as const) {
        const steps: Array<(c: Redis) => Promise<unknown>> = [
          (c) => c.watch('w:watched'),
          (c) => c.append(target, '+x'),
          (c) => c.multi({ pipeline: false }),
          (c) => c.append('w:watched', '+t'),
          (c) => c.exec(),
          (c) => c.get('w:watched'),
        ];
        const got: unknown[] = [];
        const expected: unknown[] = [];
        for (const step of steps) {
          got.push(await outcome(step(client)));
          expected.push(await outcome(step(reference2)));
        }
        expect(got, label).toEqual(expected);
      }
    } finally {
      reference2.disconnect();
      await client.close();
    }
    expect(await fingerprint(originAdmin)).toEqual(before);
  });

  // STOPPED. commandTimeout firing while the origin read is in flight (origin frozen): the write is
  // failed and never sent (not run later on the shadow behind the app's back), the key is not held
  // for good, and the next write copies it and builds on the origin's value.
  it('a first write that timed out while its origin read was in flight is never sent, and frees its key', async () => {
    const { originAdmin, shadowAdmin } = servers;
    await originAdmin.set('slow', 'origin');
    const before = await fingerprint(originAdmin);
    const client = mirror({ commandTimeout: 300 });
    try {
      await client.set('slow:warm', '1');
      const appends = (await executedStats(shadowAdmin)).get('append') ?? 0;
      await servers.origin.pause();
      let timedOut: unknown;
      try {
        timedOut = await outcome(client.append('slow', '+a'));
      } finally {
        servers.origin.resume();
      }
      expect(timedOut).toEqual({ error: 'Command timed out' });
      expect(await client.append('slow', '+b')).toBe('origin+b'.length);
      expect(await client.get('slow')).toBe('origin+b');
      expect((await executedStats(shadowAdmin)).get('append')).toBe(appends + 1);
    } finally {
      await client.close();
    }
    expect(await fingerprint(originAdmin)).toEqual(before);
  });
});

import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShadowRedis2 } from '../../packages/redis-shadow/src/connector/shadow-connector.ts';
import { createMemoryEngine } from '../../packages/redis-shadow/src/memory/families.ts';
import { startOriginAndShadow, startRedisServer, type OriginAndShadow, type ThrowawayRedis } from '../support/redis-server.ts';
import { rng, type Rng } from '../support/seeded-random.ts';
import { executedStats, keysDigest } from '../support/redis-oracles.ts';

/** Calls per command since the last RESETSTAT, the RESETSTAT itself left out. */
async function executedSinceReset(admin: Redis): Promise<Map<string, number>> {
  const stats = await executedStats(admin);
  stats.delete('config|resetstat');
  return stats;
}

// The connector's keyspace reads over origin and shadow (src/connector/keyspace-merge.ts): SCAN,
// KEYS, DBSIZE, RANDOMKEY and SORT with BY/GET, once the shadow owns keys. The yardstick is one
// plain Redis (the reference, private) that got the origin's data and then the same writes
// directly; the origin must be as it was (a digest of its keys, its INFO commandstats).

const HOST = '127.0.0.1';

/** What the mirror may run on the origin: reads, copies, the handshake. */
const ORIGIN_MAY_RUN = new Set(['acl|whoami', 'acl|dryrun',
  'get', 'hget', 'exists', 'dump', 'pexpiretime', 'multi', 'exec', 'info', 'select', 'client|setinfo', 'client|setname', 'ping',
  'scan', 'keys', 'dbsize', 'randomkey', 'type', 'lrange', 'smembers', 'zrange', 'hgetall', 'sort_ro',
]);

const pick = <T>(next: Rng, items: readonly T[]): T => items[Math.floor(next() * items.length)]!;

const TYPES = ['string', 'hash', 'list', 'set', 'zset'] as const;
const IDS = 16;

/** The data both the origin and the reference start with (written through `client`). */
async function seedData(client: Redis, next: Rng): Promise<void> {
  const batch = client.pipeline();
  for (let index = 0; index < 40; index += 1) {
    const key = `k:${index}`;
    const type = TYPES[index % TYPES.length]!;
    if (type === 'string') batch.set(key, `v${index}`);
    else if (type === 'hash') batch.hset(key, 'f', `v${index}`);
    else if (type === 'list') batch.rpush(key, 'a', 'b');
    else if (type === 'set') batch.sadd(key, 'a', 'b');
    else batch.zadd(key, 1, 'a');
  }
  // Names are unique (the server leaves the order of ALPHA ties open); weights repeat (numeric ties are ordered by element).
  for (let id = 0; id < IDS + 4; id += 1) batch.hset(`obj:${id}`, 'name', `name-${Math.floor(next() * 1000)}-${id}`);
  for (let id = 0; id < IDS; id += 1) {
    batch.set(`w:${id}`, String(Math.floor(next() * 10)));
    batch.rpush('ids', String(id));
    batch.sadd('idset', String(id));
  }
  await batch.exec();
}

type Write = (client: Redis) => Promise<unknown>;

/** A seeded write: on new keys, on the origin's keys (of every type), on SORT's weights, objects and sources. */
function generateWrite(next: Rng, step: number): Write {
  const key = next() < 0.25 ? `n:${Math.floor(next() * 30)}` : `k:${Math.floor(next() * 40)}`;
  const id = Math.floor(next() * (IDS + 4));
  const choice = next();
  const weight = String(Math.floor(next() * 10));
  if (choice < 0.2) return (client) => client.set(key, `s${step}`);
  if (choice < 0.35) return (client) => client.del(key);
  if (choice < 0.45) return (client) => client.rpush(key, `r${step}`);
  if (choice < 0.52) return (client) => client.sadd(key, `m${step}`);
  if (choice < 0.6) return (client) => client.hset(key, 'g', `h${step}`);
  if (choice < 0.7) return (client) => client.set(`w:${id}`, weight);
  if (choice < 0.76) return (client) => client.del(`w:${id}`);
  if (choice < 0.84) return (client) => client.hset(`obj:${id}`, 'name', `name-w${step}`);
  if (choice < 0.9) return (client) => client.rpush('ids', String(id));
  if (choice < 0.94) return (client) => client.sadd('idset', String(id));
  return (client) => client.lrem('ids', 1, String(id));
}

/** A write's outcome, comparable across the two clients (an error by its message). */
const outcome = (client: Redis, write: Write): Promise<unknown> => write(client).then((value) => ['ok', value], (error: Error) => ['error', error.message]);

async function fullScan(client: Redis, options: Array<string | number>): Promise<string[]> {
  const seen = new Set<string>();
  let cursor = '0';
  for (let round = 0; round < 10_000; round += 1) {
    const [next, keys] = (await client.call('SCAN', cursor, ...options)) as [string, string[]];
    for (const key of keys) seen.add(key);
    cursor = next;
    if (cursor === '0') return [...seen].sort();
  }
  throw new Error(`SCAN ${options.join(' ')} did not end`);
}

const PATTERNS = ['*', 'k:*', '*1*', 'w:?', 'n:*', 'obj:1*', 'nothing*'];

/** A seeded SCAN option list: MATCH, COUNT, TYPE, each or not. */
function scanOptions(next: Rng): Array<string | number> {
  const options: Array<string | number> = [];
  if (next() < 0.6) options.push('MATCH', pick(next, PATTERNS));
  if (next() < 0.6) options.push('COUNT', pick(next, [1, 3, 10, 1000]));
  if (next() < 0.4) options.push('TYPE', pick(next, TYPES));
  return options;
}

/** SORT forms with patterns (BY and GET over keys the shadow owns and keys it does not), STORE apart. */
const SORTS: ReadonlyArray<ReadonlyArray<string | number>> = [
  ['ids', 'BY', 'w:*'],
  ['ids', 'BY', 'w:*', 'GET', '#', 'GET', 'obj:*->name'],
  ['idset', 'BY', 'w:*', 'DESC', 'GET', 'w:*'],
  ['ids', 'BY', 'nosort', 'GET', 'obj:*->name', 'GET', '#'],
  ['ids', 'BY', 'obj:*->name', 'ALPHA', 'LIMIT', 2, 5],
  ['idset', 'BY', 'obj:*->name', 'ALPHA', 'GET', 'w:*', 'GET', '#'],
];

type ShadowKind = 'redis' | 'memory';

describe.each<ShadowKind>(['redis', 'memory'])('ShadowRedis2 keyspace reads over origin and shadow (%s shadow)', (kind) => {
  let servers: OriginAndShadow;
  let reference: ThrowawayRedis;
  let ref: Redis;
  const clients: Redis[] = [];

  const connector = (options: Record<string, unknown> = {}): ShadowRedis2 => {
    const made = new ShadowRedis2({ host: HOST, port: servers.origin.port, ...options }, { shadow: kind === 'memory' ? { engine: createMemoryEngine() } : servers.shadow.shadowUrl });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    [servers, reference] = await Promise.all([startOriginAndShadow(), startRedisServer()]);
    ref = new Redis(reference.url);
  });

  afterAll(async () => {
    for (const made of clients) made.disconnect();
    ref.disconnect();
    await Promise.all([servers.stop(), reference.kill()]);
  });

  /** Origin and reference with the same data, the shadow empty; the origin's digest and statistics from here on. */
  const prepare = async (seed: number): Promise<string> => {
    await Promise.all([servers.originAdmin.flushall(), servers.shadowAdmin.flushall(), ref.flushall()]);
    await seedData(servers.originAdmin, rng(seed));
    await seedData(ref, rng(seed));
    await servers.originAdmin.config('RESETSTAT');
    return keysDigest(servers.originAdmin);
  };

  /** The same seeded writes through the connector and on the reference, with the same outcomes. */
  const applyWrites = async (redis: Redis, next: Rng, count: number): Promise<void> => {
    for (let step = 0; step < count; step += 1) {
      const write = generateWrite(next, step);
      expect(await outcome(redis, write), `write ${step}`).toEqual(await outcome(ref, write));
    }
  };

  const originUnchanged = async (before: string): Promise<void> => {
    const stats = await executedSinceReset(servers.originAdmin);
    expect([...stats.keys()].filter((name) => !ORIGIN_MAY_RUN.has(name))).toEqual([]);
    expect(await keysDigest(servers.originAdmin)).toBe(before);
  };

  beforeEach(() => {
    for (const made of clients.splice(0)) made.disconnect();
  });

  it('SCAN (full iterations with MATCH/COUNT/TYPE) and scanStream give the reference keys', async () => {
    for (let seed = 1; seed <= 6; seed += 1) {
      const before = await prepare(seed);
      const redis = connector();
      const next = rng(seed * 101);
      await applyWrites(redis, next, 40);
      for (let query = 0; query < 8; query += 1) {
        const options = scanOptions(next);
        expect(await fullScan(redis, options), `seed ${seed} SCAN ${options.join(' ')}`).toEqual(await fullScan(ref, options));
      }
      const streamed = new Set<string>();
      for await (const keys of redis.scanStream({ match: 'k:*', count: 7 })) for (const key of keys as string[]) streamed.add(key);
      expect([...streamed].sort(), `seed ${seed} scanStream`).toEqual((await ref.keys('k:*')).sort());
      await originUnchanged(before);
    }
  });

  it('KEYS, DBSIZE and RANDOMKEY give what the reference does', async () => {
    for (let seed = 1; seed <= 6; seed += 1) {
      const before = await prepare(seed);
      const redis = connector();
      const next = rng(seed * 211);
      await applyWrites(redis, next, 40);
      for (const pattern of PATTERNS) expect((await redis.keys(pattern)).sort(), `seed ${seed} KEYS ${pattern}`).toEqual((await ref.keys(pattern)).sort());
      expect(await redis.dbsize(), `seed ${seed} DBSIZE`).toBe(await ref.dbsize());
      const all = new Set(await ref.keys('*'));
      for (let draw = 0; draw < 10; draw += 1) {
        const key = await redis.randomkey();
        expect(key !== null && all.has(key), `seed ${seed} RANDOMKEY ${key}`).toBe(true);
      }
      await originUnchanged(before);
    }
  });

  it('SORT and SORT_RO with BY/GET read each key from its side; STORE lands in the shadow', async () => {
    for (let seed = 1; seed <= 6; seed += 1) {
      const before = await prepare(seed);
      const redis = connector();
      const next = rng(seed * 307);
      await applyWrites(redis, next, 40);
      for (const form of SORTS) {
        for (const name of ['SORT', 'SORT_RO']) {
          expect(await outcome(redis, (client) => client.call(name, ...form)), `seed ${seed} ${name} ${form.join(' ')}`).toEqual(await outcome(ref, (client) => client.call(name, ...form)));
        }
      }
      const stored = pick(next, ['k:3', 'n:1', 'dest']);
      const form = pick(next, SORTS);
      expect(await redis.call('SORT', ...form, 'STORE', stored), `seed ${seed} STORE`).toEqual(await ref.call('SORT', ...form, 'STORE', stored));
      expect(await redis.lrange(stored, 0, -1)).toEqual(await ref.lrange(stored, 0, -1));
      // A source of the wrong type is the server's error.
      expect(await outcome(redis, (client) => client.sort('k:0', 'BY', 'w:*'))).toEqual(await outcome(ref, (client) => client.sort('k:0', 'BY', 'w:*')));
      await originUnchanged(before);
    }
  });

  it('answers a generated pipeline of writes and keyspace reads in command order, each read seeing the writes before it', async () => {
    for (let seed = 1; seed <= 6; seed += 1) {
      const before = await prepare(seed);
      const redis = connector();
      const next = rng(seed * 401);
      // The shadow owns a key first, so the reads are merges from the start.
      await applyWrites(redis, next, 1);
      const build = (client: Redis, draw: Rng): Promise<Array<[Error | null, unknown]> | null> => {
        const pipeline = client.pipeline();
        for (let step = 0; step < 40; step += 1) {
          const choice = draw();
          if (choice < 0.5) void generateWrite(draw, step)(pipeline as unknown as Redis);
          else if (choice < 0.65) pipeline.keys(pick(draw, PATTERNS));
          else if (choice < 0.75) pipeline.dbsize();
          else if (choice < 0.9) pipeline.call('SORT', ...pick(draw, SORTS));
          else if (choice < 0.95) pipeline.call('SORT', ...pick(draw, SORTS), 'STORE', 'dest').lrange('dest', 0, -1);
          else pipeline.get(`w:${Math.floor(draw() * IDS)}`);
        }
        return pipeline.exec();
      };
      // KEYS replies (names with a colon) in any order; SORT's in its own.
      const normalize = (results: Array<[Error | null, unknown]> | null): unknown[] =>
        results!.map(([error, value]) => (error !== null ? `error: ${error.message}` : Array.isArray(value) && value.some((item) => typeof item === 'string' && item.includes(':') && !item.startsWith('name-')) ? [...(value as string[])].sort() : value));
      const ours = await build(redis, rng(seed * 403));
      const theirs = await build(ref, rng(seed * 403));
      expect(normalize(ours), `seed ${seed}`).toEqual(normalize(theirs));
      await originUnchanged(before);
    }
  });

  it("gives the server's errors: a bad cursor, a bad option, a source of the wrong type", async () => {
    const before = await prepare(7);
    const redis = connector();
    await applyWrites(redis, rng(7), 10);
    for (const argv of [['SCAN', 'abc'], ['SCAN', '0', 'COUNT', 0], ['SCAN', '0', 'BOGUS', 'x'], ['KEYS'], ['KEYS', '*', 'x'], ['DBSIZE', 'x'], ['RANDOMKEY', 'x'], ['SCAN'], ['SORT', 'ids', 'BY', 'w:*', 'LIMIT', 'x', 1]]) {
      expect(await outcome(redis, (client) => client.call(argv[0] as string, ...argv.slice(1))), argv.join(' ')).toEqual(await outcome(ref, (client) => client.call(argv[0] as string, ...argv.slice(1))));
    }
    // The connection goes on, in order.
    expect(await redis.dbsize()).toBe(await ref.dbsize());
    await originUnchanged(before);
  });

  it('after FLUSHDB answers from the shadow alone; in another database, from that database', async () => {
    const before = await prepare(8);
    const redis = connector();
    await applyWrites(redis, rng(8), 10);
    for (const client of [redis, ref]) {
      await client.select(2);
      await client.set('in-2', 'x');
      await client.select(0);
      await client.flushdb();
      await client.set('after', 'flush');
    }
    expect(await redis.keys('*')).toEqual(await ref.keys('*'));
    expect(await fullScan(redis, [])).toEqual(await fullScan(ref, []));
    expect(await redis.dbsize()).toBe(1);
    expect(await redis.randomkey()).toBe('after');
    for (const client of [redis, ref]) await client.select(2);
    expect(await redis.keys('*')).toEqual(['in-2']);
    expect(await redis.dbsize()).toBe(await ref.dbsize());
    await ref.select(0);
    await originUnchanged(before);
  });

  it('leaves KEYS and SCAN MATCH unprefixed under keyPrefix, as ioredis does', async () => {
    const before = await prepare(9);
    const redis = connector({ keyPrefix: 'pre:' });
    const plain = new Redis({ host: HOST, port: reference.port, keyPrefix: 'pre:' });
    clients.push(plain);
    for (const client of [redis, plain]) {
      await client.set('a', '1');
      await client.set('k:1', 'mine');
      await client.del('k:2');
    }
    expect((await redis.keys('pre:*')).sort()).toEqual((await plain.keys('pre:*')).sort());
    expect((await redis.keys('k:*')).sort()).toEqual((await plain.keys('k:*')).sort());
    expect(await fullScan(redis, ['MATCH', 'pre:*'])).toEqual(await fullScan(plain, ['MATCH', 'pre:*']));
    expect(await redis.dbsize()).toBe(await plain.dbsize());
    await originUnchanged(before);
  });
});

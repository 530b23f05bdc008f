import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// The mirror must answer like the primary. Each family's sequence of writes and reads runs through
// ShadowRedis (origin database 12) and, directly, against a reference database (13) holding the same
// data: every reply must be the same, and the origin must not change. Origin and reference are on a
// redis-server of the test's own. One suite, two shadows: another redis-server of the test's own, and
// the memory engine. A family the memory engine does not run must fail with MG_ERR_REDIS_UNSUPPORTED
// (the replies before that one still match), never answer wrong.
const ORIGIN_DB = 12;
const REFERENCE_DB = 13;
let originServer: ThrowawayRedis;
beforeAll(async () => {
  originServer = await startRedisServer();
});
afterAll(() => originServer?.kill());

const MEMORY_UNSUPPORTED = new Set(['streams', 'geo', 'hyperloglog', 'bitmaps']);

const FAMILIES: Record<string, string[][]> = {
  strings: [['GET', 'str'], ['APPEND', 'str', '!'], ['GET', 'str'], ['INCRBY', 'num', '5'], ['GETSET', 'num', '1'], ['MGET', 'str', 'num', 'none'], ['SETRANGE', 'str', '0', 'X'], ['STRLEN', 'str'], ['GETDEL', 'str'], ['EXISTS', 'str']],
  hashes: [['HSET', 'hash', 'c', '3'], ['HGETALL', 'hash'], ['HINCRBY', 'hash', 'a', '10'], ['HDEL', 'hash', 'b'], ['HLEN', 'hash'], ['HMGET', 'hash', 'a', 'b', 'c']],
  lists: [['RPUSH', 'list', 'z'], ['LRANGE', 'list', '0', '-1'], ['LPOP', 'list'], ['LINSERT', 'list', 'AFTER', 'y', 'y2'], ['LMOVE', 'list', 'list2', 'RIGHT', 'LEFT'], ['LRANGE', 'list', '0', '-1'], ['LRANGE', 'list2', '0', '-1'], ['LLEN', 'list']],
  sets: [['SADD', 'set', 'd'], ['SCARD', 'set'], ['SREM', 'set', 'a'], ['SISMEMBER', 'set', 'a'], ['SINTERSTORE', 'set3', 'set', 'set2'], ['SMEMBERS', 'set3'], ['SMOVE', 'set', 'set2', 'b'], ['SCARD', 'set2']],
  zsets: [['ZADD', 'zset', '10', 'ten'], ['ZRANGE', 'zset', '0', '-1', 'WITHSCORES'], ['ZINCRBY', 'zset', '5', 'one'], ['ZPOPMIN', 'zset'], ['ZRANGESTORE', 'zdst', 'zset', '0', '0'], ['ZRANGE', 'zdst', '0', '-1'], ['ZCARD', 'zset']],
  streams: [['XADD', 'stream', '2-1', 'f', 'w'], ['XLEN', 'stream'], ['XREADGROUP', 'GROUP', 'group', 'c1', 'COUNT', '10', 'STREAMS', 'stream', '>'], ['XACK', 'stream', 'group', '1-1'], ['XPENDING', 'stream', 'group'], ['XRANGE', 'stream', '-', '+']],
  geo: [['GEOADD', 'geo', '13.4', '52.5', 'berlin'], ['GEODIST', 'geo', 'paris', 'berlin', 'km'], ['GEOSEARCHSTORE', 'near', 'geo', 'FROMMEMBER', 'paris', 'BYRADIUS', '500', 'km', 'ASC'], ['ZRANGE', 'near', '0', '-1']],
  hyperloglog: [['PFADD', 'hll', 'x', 'y'], ['PFCOUNT', 'hll'], ['PFMERGE', 'hll2', 'hll', 'hll'], ['PFCOUNT', 'hll2']],
  bitmaps: [['SETBIT', 'bits', '3', '1'], ['GETBIT', 'bits', '3'], ['BITCOUNT', 'bits'], ['BITFIELD', 'bits', 'INCRBY', 'u8', '8', '5'], ['BITPOS', 'bits', '1']],
  sort: [
    ['SORT', 'list', 'ALPHA'], ['SORT', 'list', 'ALPHA', 'DESC', 'STORE', 'sorted'], ['LRANGE', 'sorted', '0', '-1'], ['SORT_RO', 'list', 'ALPHA', 'LIMIT', '0', '1'], ['RPUSH', 'list', 'a'], ['SORT_RO', 'list', 'ALPHA'],
    ['SORT', 'list', 'BY', 'w_*', 'GET', 'n_*', 'GET', '#'], ['SET', 'w_y', '9'], ['SORT', 'list', 'BY', 'w_*', 'DESC', 'GET', 'n_*', 'STORE', 'byweight'], ['LRANGE', 'byweight', '0', '-1'],
    ['SORT_RO', 'list', 'BY', 'nosort', 'GET', 'w_*'], ['SORT', 'set', 'ALPHA', 'STORE', 'list'],
  ],
  keys: [['EXPIRE', 'str', '1000'], ['TTL', 'str'], ['PERSIST', 'str'], ['TTL', 'str'], ['RENAME', 'num', 'num2'], ['GET', 'num'], ['GET', 'num2'], ['COPY', 'hash', 'hashcopy'], ['HGETALL', 'hashcopy'], ['TYPE', 'list'], ['DEL', 'set', 'missing'], ['EXISTS', 'set', 'hash']],
};

// Replies whose order is a hash table's iteration order, which differs between servers.
const UNORDERED = new Set(['SMEMBERS', 'SINTER', 'SUNION', 'SDIFF', 'HKEYS', 'HVALS']);
const comparable = (name: string, reply: unknown): unknown => (UNORDERED.has(name) && Array.isArray(reply) ? [...reply].sort() : reply);

async function seed(redis: Redis): Promise<void> {
  await redis.flushdb();
  await redis
    .multi()
    .set('str', 'hello')
    .set('num', '10')
    .hset('hash', { a: '1', b: '2' })
    .rpush('list', 'x', 'y')
    .sadd('set', 'a', 'b', 'c')
    .sadd('set2', 'c', 'd')
    .zadd('zset', 1, 'one', 2, 'two')
    .xadd('stream', '1-1', 'f', 'v')
    .xgroup('CREATE', 'stream', 'group', '0')
    .geoadd('geo', 2.35, 48.86, 'paris')
    .pfadd('hll', 'a', 'b')
    .set('bits', '\u0001')
    .mset({ w_x: '3', w_y: '1', n_x: 'ex', n_y: 'why' })
    .exec();
}

describe.each(['redis', 'memory'] as const)('read-your-writes with a %s shadow: the mirror answers like the primary, family by family', (shadowKind) => {
  let shadowServer: ThrowawayRedis;
  const shadow = (): string => (shadowKind === 'memory' ? 'memory' : shadowServer.shadowUrl);
  let origin: Redis;
  let reference: Redis;

  beforeAll(async () => {
    shadowServer = await startRedisServer();
    origin = new Redis(`${originServer.url}/${ORIGIN_DB}`);
    reference = new Redis(`${originServer.url}/${REFERENCE_DB}`);
  });
  afterAll(async () => {
    origin.disconnect();
    reference.disconnect();
    await shadowServer.kill();
  });

  it.each(Object.entries(FAMILIES))('%s', async (family, sequence) => {
    await seed(origin);
    await seed(reference);
    const before = await origin.dumpBuffer('hash');
    const mirror = new ShadowRedis(`${originServer.url}/${ORIGIN_DB}`, { shadow: shadow() });
    let unsupported: string | undefined;
    try {
      for (const argv of sequence) {
        const [name, ...args] = argv as [string, ...string[]];
        const expected = await reference.call(name, ...args).catch((error: Error) => `error: ${error.message}`);
        const actual = await mirror.call(name, ...args).catch((error: Error & { code?: string }) => (error.code === 'MG_ERR_REDIS_UNSUPPORTED' ? error : `error: ${error.message}`));
        if (actual instanceof Error) {
          unsupported = argv.join(' ');
          break;
        }
        expect(comparable(name, actual), argv.join(' ')).toEqual(comparable(name, expected));
      }
      expect(unsupported !== undefined, `unsupported: ${unsupported}`).toBe(shadowKind === 'memory' && MEMORY_UNSUPPORTED.has(family));
    } finally {
      await mirror.close();
    }
    expect(await origin.dumpBuffer('hash')).toEqual(before);
    expect(await origin.get('str')).toBe('hello');
  });

  it('lets SUBSCRIBE reach the origin, so the mirror hears what the primary publishes', async () => {
    const mirror = new ShadowRedis(`${originServer.url}/${ORIGIN_DB}`, { shadow: shadow() });
    const subscriber = mirror.duplicate();
    try {
      await subscriber.subscribe('news');
      const received = new Promise<string>((resolve) => subscriber.on('message', (_channel: string, message: string) => resolve(message)));
      await origin.publish('news', 'from the primary');
      expect(await received).toBe('from the primary');
      // The mirror's own PUBLISH never reaches the origin's subscribers.
      expect(await mirror.publish('news', 'from the mirror')).toBe(0);
    } finally {
      await subscriber.close();
      await mirror.close();
    }
  });
});

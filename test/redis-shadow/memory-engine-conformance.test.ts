import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRedis } from '../../packages/redis-shadow/src/memory/memory-redis.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { CASES_BY_FAMILY } from './memory-cases/all-cases.ts';

// The memory engine must answer exactly as Redis does: each case runs on a flushed database of a
// redis-server of the test's own (14, with 6 as the other database MOVE and COPY … DB reach) and on
// a memory engine, and every reply, errors included, must be the same.
const DB = 14;
const OTHER_DB = 6;

const outcome = (reply: Promise<unknown>): Promise<unknown> => reply.catch((error: Error) => `error: ${error.message}`);
const sorted = (reply: unknown): unknown => (Array.isArray(reply) ? [...reply].map(String).sort() : reply);

describe.each(Object.entries(CASES_BY_FAMILY))('the memory engine answers %s as Redis does', (_family, cases) => {
  let server: ThrowawayRedis;
  let real: Redis;
  let other: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    real = new Redis(`${server.url}/${DB}`);
    other = new Redis(`${server.url}/${OTHER_DB}`);
  });
  afterAll(async () => {
    real.disconnect();
    other.disconnect();
    await server.kill();
  });

  it.each([...cases].map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
    await real.flushdb();
    await other.flushdb();
    const memory = new MemoryRedis({ db: DB });
    try {
      for (const argv of testCase.commands) {
        const [name, ...args] = argv as [string, ...string[]];
        const expected = await outcome(real.call(name, ...args));
        const actual = await outcome(memory.call(name, ...args));
        const unordered = testCase.unordered?.includes(name.toUpperCase()) ?? false;
        expect(unordered ? sorted(actual) : actual, argv.join(' ')).toEqual(unordered ? sorted(expected) : expected);
      }
    } finally {
      memory.disconnect();
    }
  });
});

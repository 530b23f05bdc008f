import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { MemoryRedis } from '@mirrorguard/redis-shadow';
import { alternatingRounds, operationsPerSecond } from '../support/closed-loop.ts';
import { median, pairedRatio } from '../support/load.ts';
import { printTable } from '../support/table.ts';

const KEYS = 1_000;

export interface MemoryEngineResult {
  readonly mixedPerSecond: { readonly memory: number; readonly ioredisMock: number; readonly ratio: number };
  readonly bigHashPerSecond: { readonly memory: number; readonly ioredisMock: number; readonly ratio: number };
}

/** A cache-and-counters mix, as an app's unit test drives its Redis: one command per step. */
function mixed(client: Redis, n: number): Promise<unknown> {
  switch (n % 8) {
    case 0:
      return client.set(`s:${n}`, `value-${n}`);
    case 1:
      return client.get(`s:${n - 1}`);
    case 2:
      return client.incr(`c:${n % 100}`);
    case 3:
      return client.hset(`h:${n % 100}`, `f${n % 20}`, String(n));
    case 4:
      return client.hgetall(`h:${n % 100}`);
    case 5:
      return client.lpush(`l:${n % 50}`, String(n)).then(() => client.ltrim(`l:${n % 50}`, 0, 49));
    case 6:
      return client.zadd(`z:${n % 50}`, n, `m${n % 200}`);
    default:
      return client.zrange(`z:${n % 50}`, 0, 9);
  }
}

async function measure(clients: { memory: Redis; ioredisMock: Redis }, operation: (client: Redis, n: number) => Promise<unknown>, rounds: number, seconds: number) {
  const results = { memory: [] as number[], ioredisMock: [] as number[] };
  for (const client of Object.values(clients)) await operationsPerSecond((n) => operation(client, n), { seconds: 0.5, workers: 1, keys: KEYS });
  await alternatingRounds(['memory', 'ioredisMock'] as const, rounds, async (name) => {
    results[name].push(await operationsPerSecond((n) => operation(clients[name], n), { seconds, workers: 1, keys: KEYS }));
  });
  return { memory: median(results.memory), ioredisMock: median(results.ioredisMock), ratio: pairedRatio(results.ioredisMock, results.memory) };
}

/**
 * The embedded engine vs ioredis-mock, both behind ioredis' API in this process: a mixed workload
 * over strings, counters, hashes, lists and sorted sets, and HSET + HGETALL of one 1,000-field hash
 * (ioredis-mock copies a whole value on every access).
 */
export async function memoryEngineBench({ rounds = 6, seconds = 2 } = {}): Promise<MemoryEngineResult> {
  const clients = { memory: new MemoryRedis() as Redis, ioredisMock: new RedisMock() as unknown as Redis };
  const bigHash: Record<string, string> = {};
  for (let field = 0; field < 1_000; field += 1) bigHash[`field-${field}`] = `value-${field}`;
  for (const client of Object.values(clients)) await client.hset('big', bigHash);
  try {
    const mixedPerSecond = await measure(clients, mixed, rounds, seconds);
    const bigHashPerSecond = await measure(clients, (client, n) => (n % 2 === 0 ? client.hset('big', `field-${n % 1_000}`, String(n)) : client.hgetall('big')), rounds, seconds);
    printTable(
      `The memory engine vs ioredis-mock, one loop, ${rounds} alternating rounds of ${seconds} s ("ratio" is the median of per-round memory / ioredis-mock)`,
      ['workload', 'memory engine ops / s', 'ioredis-mock ops / s', 'ratio'],
      [
        ['mixed (strings, counters, hashes, lists, sorted sets)', mixedPerSecond.memory.toFixed(0), mixedPerSecond.ioredisMock.toFixed(0), `${mixedPerSecond.ratio.toFixed(2)}x`],
        ['HSET / HGETALL of a 1,000-field hash', bigHashPerSecond.memory.toFixed(0), bigHashPerSecond.ioredisMock.toFixed(0), `${bigHashPerSecond.ratio.toFixed(2)}x`],
      ],
    );
    return { mixedPerSecond, bigHashPerSecond };
  } finally {
    for (const client of Object.values(clients)) client.disconnect();
  }
}

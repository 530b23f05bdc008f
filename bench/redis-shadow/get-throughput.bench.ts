import { Redis } from 'ioredis';
import { ShadowRedis } from '@mirrorguard/redis-shadow';
import { alternatingRounds, operationsPerSecond } from '../support/closed-loop.ts';
import { median, pairedRatio } from '../support/load.ts';
import { printTable } from '../support/table.ts';
import { startRedisServer } from '../../test/support/redis-server.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB = 14;
const KEYS = 1_000;

export interface RedisGetResult {
  readonly rawPerSecond: number;
  readonly shadowPerSecond: number;
  readonly ratio: number;
}

/** GETs of untouched keys for `seconds`, from 32 concurrent loops. */
function drive(client: Redis, seconds: number): Promise<number> {
  return operationsPerSecond((n) => client.get(`bench:${n}`), { seconds, workers: 32, keys: KEYS });
}

/** Raw ioredis vs ShadowRedis (with a real shadow it never needs) on the same origin, alternating rounds. */
export async function redisGetBench({ rounds = 8, seconds = 2 } = {}): Promise<RedisGetResult> {
  const shadowServer = await startRedisServer();
  const origin = `${REDIS_URL}/${DB}`;
  const seed = new Redis(origin);
  await seed.flushdb();
  await seed.mset(Object.fromEntries(Array.from({ length: KEYS }, (_, n) => [`bench:${n}`, `value ${n}`])));
  const raw = new Redis(origin);
  const shadow = new ShadowRedis(origin, { shadow: shadowServer.shadowUrl });
  const results = { raw: [] as number[], shadow: [] as number[] };
  try {
    await drive(raw, 1);
    await drive(shadow, 1);
    await alternatingRounds(['raw', 'shadow'] as const, rounds, async (name) => {
      results[name].push(await drive(name === 'raw' ? raw : shadow, seconds));
    });
  } finally {
    raw.disconnect();
    await shadow.close();
    await seed.flushdb();
    seed.disconnect();
    await shadowServer.kill();
  }
  const result = { rawPerSecond: median(results.raw), shadowPerSecond: median(results.shadow), ratio: pairedRatio(results.raw, results.shadow) };
  printTable(
    `Redis GET of untouched keys, 32 concurrent loops, ${rounds} alternating rounds of ${seconds} s ("vs raw" is the median of per-round ratios)`,
    ['client', 'GET / s', 'vs raw'],
    [
      ['raw ioredis', result.rawPerSecond.toFixed(0), '1.000'],
      ['ShadowRedis', result.shadowPerSecond.toFixed(0), result.ratio.toFixed(3)],
    ],
  );
  return result;
}

import { Redis } from 'ioredis';
import { ShadowRedis } from '@mirrorguard/redis-shadow';
import { alternatingRounds, closedLoop, type ClosedLoopResult } from '../support/closed-loop.ts';
import { median, pairedRatio } from '../support/load.ts';
import { printTable } from '../support/table.ts';
import { startRedisServer } from '../../test/support/redis-server.ts';

const KEYS = 1_000;

export interface RedisGetResult {
  readonly rawPerSecond: number;
  readonly shadowPerSecond: number;
  readonly ratio: number;
  /** Client CPU per GET, ShadowRedis over raw (median of per-round ratios; below 1 is cheaper). */
  readonly cpuRatio: number;
}

/** GETs of untouched keys for `seconds`, from 32 concurrent loops: GETs per second and client CPU per GET. */
function drive(client: Redis, seconds: number): Promise<ClosedLoopResult> {
  return closedLoop((n) => client.get(`bench:${n}`), { seconds, workers: 32, keys: KEYS });
}

/** Raw ioredis vs ShadowRedis (with a real shadow it never needs) on the same private origin, alternating rounds. */
export async function redisGetBench({ rounds = 8, seconds = 2 } = {}): Promise<RedisGetResult> {
  const [originServer, shadowServer] = await Promise.all([startRedisServer(), startRedisServer()]);
  const origin = originServer.url;
  const seed = new Redis(origin);
  await seed.mset(Object.fromEntries(Array.from({ length: KEYS }, (_, n) => [`bench:${n}`, `value ${n}`])));
  const raw = new Redis(origin);
  const shadow = new ShadowRedis(origin, { shadow: shadowServer.shadowUrl });
  const results = { raw: [] as ClosedLoopResult[], shadow: [] as ClosedLoopResult[] };
  try {
    await drive(raw, 1);
    await drive(shadow, 1);
    await alternatingRounds(['raw', 'shadow'] as const, rounds, async (name) => {
      results[name].push(await drive(name === 'raw' ? raw : shadow, seconds));
    });
  } finally {
    raw.disconnect();
    await shadow.close();
    seed.disconnect();
    await Promise.all([originServer.kill(), shadowServer.kill()]);
  }
  const perSecond = (runs: readonly ClosedLoopResult[]): number[] => runs.map((run) => run.perSecond);
  const cpu = (runs: readonly ClosedLoopResult[]): number[] => runs.map((run) => run.cpuMicrosPerOperation);
  const result = {
    rawPerSecond: median(perSecond(results.raw)),
    shadowPerSecond: median(perSecond(results.shadow)),
    ratio: pairedRatio(perSecond(results.raw), perSecond(results.shadow)),
    cpuRatio: pairedRatio(cpu(results.raw), cpu(results.shadow)),
  };
  printTable(
    `Redis GET of untouched keys, 32 concurrent loops, ${rounds} alternating rounds of ${seconds} s ("vs raw" is the median of per-round ratios; CPU is this client process's per GET)`,
    ['client', 'GET / s', 'vs raw', 'CPU µs', 'vs raw'],
    [
      ['raw ioredis', result.rawPerSecond.toFixed(0), '1.000', median(cpu(results.raw)).toFixed(1), '1.000'],
      ['ShadowRedis', result.shadowPerSecond.toFixed(0), result.ratio.toFixed(3), median(cpu(results.shadow)).toFixed(1), result.cpuRatio.toFixed(3)],
    ],
  );
  return result;
}

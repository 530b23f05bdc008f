import { Redis } from 'ioredis';
import { ShadowRedis } from '@mirrorguard/redis-shadow';
import { alternatingRounds, operationsPerSecond } from '../support/closed-loop.ts';
import { median, pairedRatio } from '../support/load.ts';
import { printTable } from '../support/table.ts';
import { startRedisServer } from '../../test/support/redis-server.ts';

const KEYS = 1_000;

export interface OwnedWritesResult {
  readonly shadowDirectPerSecond: number;
  readonly shadowRedisPerSecond: number;
  readonly ratio: number;
  readonly firstWriteMs: Record<string, number>;
  /** A first write over the floor: the copy and the write by hand in two round trips (see the bench). */
  readonly firstWriteVsFloor: Record<string, number>;
  readonly ownedWriteMs: number;
  /** A plain SET of a key the origin holds (nothing copied) over the same SET once the key is owned, by value size. */
  readonly plainSetFirstVsOwned: Record<string, number>;
  /** The floor: the same, straight to the shadow server (a new key against one it holds). */
  readonly plainSetFloor: Record<string, number>;
}

/** SET and INCR, alternately, on keys the shadow owns, from 32 concurrent loops. */
function drive(client: Redis, seconds: number): Promise<number> {
  return operationsPerSecond((n) => (n % 2 === 0 ? client.incr(`owned:${n}`) : client.set(`owned:${n}`, String(n))), {
    seconds,
    workers: 32,
    keys: KEYS,
  });
}

/** Milliseconds to run `write` on each key in turn, one at a time. */
async function msFor(keys: readonly string[], write: (key: string) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (const key of keys) await write(key);
  return performance.now() - started;
}

/** Sets every key to `value`, in one pipeline. */
async function seedKeys(client: Redis, keys: readonly string[], value: string): Promise<void> {
  const pipeline = client.pipeline();
  for (const key of keys) pipeline.set(key, value);
  await pipeline.exec();
}

/**
 * SET/INCR on keys the shadow already owns, through ShadowRedis vs straight to the shadow server;
 * then the cost of a first write (DUMP + PEXPIRETIME from the origin, RESTORE into the shadow) by value size.
 */
export async function ownedWritesBench({ rounds = 8, seconds = 2 } = {}): Promise<OwnedWritesResult> {
  const [originServer, shadowServer] = await Promise.all([startRedisServer(), startRedisServer()]);
  const origin = originServer.url;
  const seed = new Redis(origin);
  const direct = new Redis(shadowServer.url);
  const client = new ShadowRedis(origin, { shadow: shadowServer.shadowUrl });
  const results = { direct: [] as number[], shadow: [] as number[] };
  const firstWriteMs: Record<string, number> = {};
  const firstWriteVsFloor: Record<string, number> = {};
  let ownedWriteMs = 0;
  const plainSetFirstVsOwned: Record<string, number> = {};
  const plainSetFloor: Record<string, number> = {};
  try {
    for (let n = 0; n < KEYS; n += 1) await client.set(`owned:${n}`, '0'); // the shadow owns them all
    await drive(direct, 1);
    await drive(client, 1);
    await alternatingRounds(['direct', 'shadow'] as const, rounds, async (name) => {
      results[name].push(await drive(name === 'direct' ? direct : client, seconds));
    });
    // First writes: each APPEND copies a key of the given size from the origin first. Against the
    // floor, in alternating rounds of fresh keys: the same copy and write by hand in two round trips
    // (DUMP and PEXPIRETIME in one MULTI on the origin, then RESTORE … REPLACE ABSTTL pipelined with
    // the APPEND on the shadow), which no copy before a write can beat.
    for (const size of [100, 10_000, 1_000_000]) {
      const count = size >= 1_000_000 ? 10 : 100;
      const value = 'v'.repeat(size);
      const perWrite: number[] = [];
      const overFloor: number[] = [];
      for (let round = 0; round < 4; round += 1) {
        const keys = Array.from({ length: count }, (_, n) => `big:${size}:${round}:${n}`);
        const floorKeys = keys.map((key) => `floor-${key}`);
        await seedKeys(seed, [...keys, ...floorKeys], value);
        const timeShadowRedis = (): Promise<number> => msFor(keys, (key) => client.append(key, '!'));
        const timeFloor = (): Promise<number> =>
          msFor(floorKeys, async (key) => {
            const [[, dump], [, expiresAt]] = (await seed.multi().dumpBuffer(key).pexpiretime(key).exec()) as [[null, Buffer], [null, number]];
            await direct.pipeline().restore(key, expiresAt > 0 ? expiresAt : 0, dump, 'REPLACE', 'ABSTTL').append(key, '!').exec();
          });
        let shadowMs: number;
        let floorMs: number;
        if (round % 2 === 0) {
          shadowMs = await timeShadowRedis();
          floorMs = await timeFloor();
        } else {
          floorMs = await timeFloor();
          shadowMs = await timeShadowRedis();
        }
        perWrite.push(shadowMs / count);
        overFloor.push(shadowMs / floorMs);
      }
      firstWriteMs[`${size} B`] = median(perWrite);
      firstWriteVsFloor[`${size} B`] = median(overFloor);
    }
    ownedWriteMs = (await msFor(Array.from({ length: 200 }, () => 'big:100:0:0'), (key) => client.append(key, '!'))) / 200;
    // A plain SET replaces its key whole: its first write copies nothing. Against the same SETs
    // again, the keys then owned, in alternating rounds of fresh keys.
    for (const size of [100, 10_000, 1_000_000]) {
      const count = size >= 1_000_000 ? 10 : 100;
      const value = 'w'.repeat(size);
      const ratios: number[] = [];
      const floors: number[] = [];
      for (let round = 0; round < 4; round += 1) {
        const fresh = Array.from({ length: count }, (_, n) => `floor:${size}:${round}:${n}`);
        const newKeyMs = await msFor(fresh, (key) => direct.set(key, value));
        floors.push(newKeyMs / (await msFor(fresh, (key) => direct.set(key, value))));
        const keys = Array.from({ length: count }, (_, n) => `plain:${size}:${round}:${n}`);
        await seedKeys(seed, keys, value);
        const firstMs = await msFor(keys, (key) => client.set(key, value));
        ratios.push(firstMs / (await msFor(keys, (key) => client.set(key, value))));
      }
      plainSetFirstVsOwned[`${size} B`] = median(ratios);
      plainSetFloor[`${size} B`] = median(floors);
    }
  } finally {
    direct.disconnect();
    await client.close();
    seed.disconnect();
    await Promise.all([originServer.kill(), shadowServer.kill()]);
  }
  const result = {
    shadowDirectPerSecond: median(results.direct),
    shadowRedisPerSecond: median(results.shadow),
    ratio: pairedRatio(results.direct, results.shadow),
    firstWriteMs,
    firstWriteVsFloor,
    ownedWriteMs,
    plainSetFirstVsOwned,
    plainSetFloor,
  };
  printTable(
    `Redis SET/INCR on keys the shadow owns, 32 loops, ${rounds} alternating rounds of ${seconds} s ("vs direct" is the median of per-round ratios)`,
    ['client', 'writes / s', 'vs direct'],
    [
      ['straight to the shadow (raw ioredis)', result.shadowDirectPerSecond.toFixed(0), '1.000'],
      ['ShadowRedis', result.shadowRedisPerSecond.toFixed(0), result.ratio.toFixed(3)],
    ],
  );
  printTable(
    'Redis first write of a key (APPEND: copy from the origin, then the write), one at a time, 4 alternating rounds of fresh keys (medians)',
    ['value size', 'ms per first write', 'vs the floor (DUMP, then RESTORE pipelined with the write)', 'vs a write to an owned key'],
    [
      ...Object.entries(firstWriteMs).map(([size, ms]) => [size, ms.toFixed(3), `${firstWriteVsFloor[size]!.toFixed(2)}×`, `${(ms / ownedWriteMs).toFixed(1)}×`]),
      ['(owned key, no copy)', ownedWriteMs.toFixed(3), '', '1.0×'],
    ],
  );
  printTable(
    'Redis first plain SET of a key the origin holds (replaced whole: nothing copied), one at a time, 4 rounds of fresh keys',
    ['value size', 'first SET vs the same SET on the owned key (median of rounds)', 'floor: a new key vs a held one, straight to the shadow'],
    Object.entries(plainSetFirstVsOwned).map(([size, ratio]) => [size, `${ratio.toFixed(2)}×`, `${plainSetFloor[size]!.toFixed(2)}×`]),
  );
  return result;
}

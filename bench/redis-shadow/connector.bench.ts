// The connector prototype (packages/redis-shadow/src/connector) against raw ioredis and the current
// ShadowRedis, on private servers: GET of untouched keys (vs raw ioredis on the origin) and SET of
// keys the shadow owns (vs ioredis straight to the shadow), at 1 and 32 closed loops, variants
// alternating per round; ops/s and this process's CPU µs per op, medians and paired ratios.
//
//   npm run build && node_modules/.bin/node bench/redis-shadow/connector.bench.ts [rounds] [seconds]
import { Redis } from 'ioredis';
import { ShadowRedis } from '@mirrorguard/redis-shadow';
import { ShadowRedis2 } from '../../packages/redis-shadow/src/connector/shadow-connector.ts';
import { alternatingRounds, closedLoop, type ClosedLoopResult } from '../support/closed-loop.ts';
import { median, pairedRatio } from '../support/load.ts';
import { printTable } from '../support/table.ts';
import { startRedisServer } from '../../test/support/redis-server.ts';

const KEYS = 1_000;

/** `connector`: commands of one tick coalesced into one socket write; `connector-1:1`: one socket write per ioredis write, as raw ioredis. */
type Variant = 'baseline' | 'ShadowRedis' | 'connector' | 'connector-1:1';
const VARIANTS: readonly Variant[] = ['baseline', 'ShadowRedis', 'connector', 'connector-1:1'];

export interface ConnectorBenchRow {
  readonly measure: string;
  readonly workers: number;
  readonly perSecond: Record<Variant, number>;
  readonly cpu: Record<Variant, number>;
  /** Paired per-round ratios to the baseline (throughput: higher is better; CPU: lower is better). */
  readonly ratio: Record<Variant, number>;
  readonly cpuRatio: Record<Variant, number>;
}

async function measure(
  name: string,
  clients: Record<Variant, Redis>,
  operation: (client: Redis, n: number) => Promise<unknown>,
  { rounds, seconds, workers }: { rounds: number; seconds: number; workers: number },
): Promise<ConnectorBenchRow> {
  const runs: Record<Variant, ClosedLoopResult[]> = { baseline: [], ShadowRedis: [], connector: [], 'connector-1:1': [] };
  const drive = (variant: Variant, time: number): Promise<ClosedLoopResult> => closedLoop((n) => operation(clients[variant], n), { seconds: time, workers, keys: KEYS });
  for (const variant of VARIANTS) await drive(variant, 0.5);
  await alternatingRounds(VARIANTS, rounds, async (variant) => {
    runs[variant].push(await drive(variant, seconds));
  });
  const per = (variant: Variant): number[] => runs[variant].map((run) => run.perSecond);
  const cpu = (variant: Variant): number[] => runs[variant].map((run) => run.cpuMicrosPerOperation);
  const of = <T>(fn: (variant: Variant) => T): Record<Variant, T> => Object.fromEntries(VARIANTS.map((variant) => [variant, fn(variant)])) as Record<Variant, T>;
  return {
    measure: name,
    workers,
    perSecond: of((variant) => median(per(variant))),
    cpu: of((variant) => median(cpu(variant))),
    ratio: of((variant) => pairedRatio(per('baseline'), per(variant))),
    cpuRatio: of((variant) => pairedRatio(cpu('baseline'), cpu(variant))),
  };
}

export async function connectorBench({ rounds = 6, seconds = 2 } = {}): Promise<ConnectorBenchRow[]> {
  const [originServer, shadowServer] = await Promise.all([startRedisServer(), startRedisServer()]);
  const seed = new Redis(originServer.url);
  await seed.mset(Object.fromEntries(Array.from({ length: KEYS }, (_, n) => [`bench:${n}`, `value ${n}`])));
  const shadowOptions = { host: '127.0.0.1', port: shadowServer.port, ...shadowServer.shadowUser };
  const raw = new Redis(originServer.url);
  const direct = new Redis(shadowServer.url);
  const shadowRedis = new ShadowRedis(originServer.url, { shadow: shadowServer.shadowUrl });
  const connector = new ShadowRedis2(originServer.url, { shadow: shadowOptions });
  const unbatched = new ShadowRedis2(originServer.url, { shadow: shadowOptions, coalesceWrites: false });
  // Reference only: raw ioredis with its own write batching (autopipelining), GET on the origin.
  const autopipelined = new Redis(originServer.url, { enableAutoPipelining: true });
  const rows: ConnectorBenchRow[] = [];
  try {
    for (const workers of [1, 32]) rows.push(await measure('GET untouched', { baseline: raw, ShadowRedis: shadowRedis, connector, 'connector-1:1': unbatched }, (client, n) => client.get(`bench:${n}`), { rounds, seconds, workers }));
    // Every client owns every key first (its copy made), so the loops measure owned-key writes.
    for (const client of [shadowRedis, connector, unbatched]) await Promise.all(Array.from({ length: KEYS }, (_, n) => client.set(`bench:${n}`, 'owned')));
    for (const workers of [1, 32]) rows.push(await measure('SET owned', { baseline: direct, ShadowRedis: shadowRedis, connector, 'connector-1:1': unbatched }, (client, n) => client.set(`bench:${n}`, `v${n}`), { rounds, seconds, workers }));
    const reference = await closedLoop((n) => autopipelined.get(`bench:${n}`), { seconds, workers: 32, keys: KEYS });
    console.log(`reference: raw ioredis with enableAutoPipelining, GET, 32 loops: ${reference.perSecond.toFixed(0)} ops/s, ${reference.cpuMicrosPerOperation.toFixed(2)} CPU µs/op`);
    if ((await seed.get('bench:1')) !== 'value 1') throw new Error('the origin changed: a write reached it');
  } finally {
    raw.disconnect();
    direct.disconnect();
    connector.disconnect();
    unbatched.disconnect();
    autopipelined.disconnect();
    await shadowRedis.close();
    seed.disconnect();
    await Promise.all([originServer.kill(), shadowServer.kill()]);
  }
  printTable(
    `Connector prototype: ${rounds} alternating rounds of ${seconds} s; baseline = raw ioredis on the origin (GET) / ioredis straight to the shadow (SET); ratios are medians of per-round ratios to the baseline; CPU = this process's µs per op`,
    ['measure', 'loops', 'variant', 'ops/s', 'vs baseline', 'CPU µs/op', 'CPU vs baseline'],
    rows.flatMap((row) =>
      VARIANTS.map((variant) => [row.measure, String(row.workers), variant, row.perSecond[variant].toFixed(0), row.ratio[variant].toFixed(3), row.cpu[variant].toFixed(2), row.cpuRatio[variant].toFixed(3)]),
    ),
  );
  return rows;
}

if (import.meta.main) {
  const [rounds, seconds] = process.argv.slice(2).map(Number);
  await connectorBench({ ...(rounds && { rounds }), ...(seconds && { seconds }) });
}

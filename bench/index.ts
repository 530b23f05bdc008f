// `npm run bench`: every benchmark, each against its baseline in the same run. Results are printed
// as tables and written to bench/results/latest.json. BENCH_QUICK=1 shortens every run (a smoke test).
import { mkdirSync, writeFileSync } from 'node:fs';
import { contextMiddlewareBench } from './context-middleware/context-middleware.bench.ts';
import { egressBench } from './core/egress.bench.ts';
import { classifierBench } from './db-readonly/classifier.bench.ts';
import { httpReplayBench } from './http-stub/replay.bench.ts';
import { poolThroughputBench } from './db-readonly/pool-throughput.bench.ts';
import { sqliteBench } from './db-readonly/sqlite.bench.ts';
import { redisGetBench } from './redis-shadow/get-throughput.bench.ts';
import { memoryEngineBench } from './redis-shadow/memory-engine.bench.ts';
import { ownedWritesBench } from './redis-shadow/owned-writes.bench.ts';

const quick = process.env.BENCH_QUICK === '1';
const results = {
  node: process.version,
  date: new Date().toISOString(),
  contextMiddleware: await contextMiddlewareBench(quick ? { rounds: 1, seconds: 1 } : {}),
  classifier: classifierBench(quick ? { rounds: 1 } : {}),
  poolThroughput: await poolThroughputBench(quick ? { rounds: 1, seconds: 1 } : {}),
  sqlite: await sqliteBench(quick ? { rounds: 1, selects: 20_000 } : {}),
  redisGet: await redisGetBench(quick ? { rounds: 1, seconds: 1 } : {}),
  redisOwnedWrites: await ownedWritesBench(quick ? { rounds: 1, seconds: 1 } : {}),
  redisMemoryEngine: await memoryEngineBench(quick ? { rounds: 1, seconds: 1 } : {}),
  httpReplay: await httpReplayBench(quick ? { rounds: 1, exchanges: 1_000 } : {}),
  egress: await egressBench(quick ? { rounds: 2, seconds: 0.5 } : {}),
};

const folder = new URL('./results/', import.meta.url);
mkdirSync(folder, { recursive: true });
writeFileSync(new URL('latest.json', folder), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nresults written to bench/results/latest.json`);

import mysql2Promise from 'mysql2/promise';
import { guardMysql2 } from '@mirrorguard/db-readonly';
import { alternatingRounds, operationsPerSecond } from '../support/closed-loop.ts';
import { median, pairedRatio } from '../support/load.ts';
import { printTable } from '../support/table.ts';

const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const DATABASE = 'mirrorguard_bench';
const ROWS = 1_000;

export interface PoolThroughputResult {
  readonly rawQueriesPerSecond: number;
  readonly guardedQueriesPerSecond: number;
  readonly ratio: number;
  readonly rawExecutePerSecond: number;
  readonly guardedExecutePerSecond: number;
  readonly executeRatio: number;
  /** Client CPU (user + system) per query, µs: what the guard costs the app's process, whatever the server's speed. */
  readonly rawQueryCpuMicros: number;
  readonly guardedQueryCpuMicros: number;
  readonly queryCpuRatio: number;
  readonly rawExecuteCpuMicros: number;
  readonly guardedExecuteCpuMicros: number;
  readonly executeCpuRatio: number;
}

type Pool = ReturnType<typeof mysql2Promise.createPool>;

async function prepareTable(): Promise<void> {
  const admin = await mysql2Promise.createConnection({ uri: MYSQL_URL, multipleStatements: true });
  await admin.query(`
    CREATE DATABASE IF NOT EXISTS ${DATABASE};
    USE ${DATABASE};
    DROP TABLE IF EXISTS products;
    CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, price DECIMAL(10, 2) NOT NULL, stock INT NOT NULL);
  `);
  const rows = Array.from({ length: ROWS }, (_, i) => [i + 1, `product ${i + 1}`, (i % 100) + 0.99, i % 50]);
  await admin.query('INSERT INTO products VALUES ?', [rows]);
  await admin.end();
}

const SELECT_BY_ID = 'SELECT id, name, price, stock FROM products WHERE id = ?';

/** Primary-key SELECTs for `seconds` from 16 concurrent loops: queries per second, and this process's CPU µs per query. */
async function drive(pool: Pool, method: 'query' | 'execute', seconds: number): Promise<{ perSecond: number; cpuMicros: number }> {
  const cpu = process.cpuUsage();
  const perSecond = await operationsPerSecond((n) => (method === 'query' ? pool.query(SELECT_BY_ID, [n + 1]) : pool.execute(SELECT_BY_ID, [n + 1])), {
    seconds,
    workers: 16,
    keys: ROWS,
  });
  const used = process.cpuUsage(cpu);
  return { perSecond, cpuMicros: (used.user + used.system) / (perSecond * seconds) };
}

/** Raw mysql2 pool vs the guarded pool, same server, same statements, alternating rounds. */
export async function poolThroughputBench({ rounds = 8, seconds = 2 } = {}): Promise<PoolThroughputResult> {
  await prepareTable();
  const uri = MYSQL_URL.replace(/\/[^/?]*(\?|$)/, `/${DATABASE}$1`);
  const raw = mysql2Promise.createPool({ uri, connectionLimit: 8 });
  const guarded = guardMysql2(mysql2Promise, { dialect: 'mariadb' }).createPool({ uri, connectionLimit: 8 });
  const results = { rawQuery: [] as number[], guardedQuery: [] as number[], rawExecute: [] as number[], guardedExecute: [] as number[] };
  const cpu = { rawQuery: [] as number[], guardedQuery: [] as number[], rawExecute: [] as number[], guardedExecute: [] as number[] };
  try {
    for (const pool of [raw, guarded]) await drive(pool, 'query', 1); // warm-up: connections, statement caches
    await alternatingRounds([['raw', raw], ['guarded', guarded]] as const, rounds, async ([name, pool]) => {
      for (const method of ['query', 'execute'] as const) {
        const key = `${name}${method === 'query' ? 'Query' : 'Execute'}` as const;
        const { perSecond, cpuMicros } = await drive(pool, method, seconds);
        results[key].push(perSecond);
        cpu[key].push(cpuMicros);
      }
    });
  } finally {
    await raw.end();
    await guarded.end();
  }
  const result = {
    rawQueriesPerSecond: median(results.rawQuery),
    guardedQueriesPerSecond: median(results.guardedQuery),
    ratio: pairedRatio(results.rawQuery, results.guardedQuery),
    rawExecutePerSecond: median(results.rawExecute),
    guardedExecutePerSecond: median(results.guardedExecute),
    executeRatio: pairedRatio(results.rawExecute, results.guardedExecute),
    rawQueryCpuMicros: median(cpu.rawQuery),
    guardedQueryCpuMicros: median(cpu.guardedQuery),
    queryCpuRatio: pairedRatio(cpu.rawQuery, cpu.guardedQuery),
    rawExecuteCpuMicros: median(cpu.rawExecute),
    guardedExecuteCpuMicros: median(cpu.guardedExecute),
    executeCpuRatio: pairedRatio(cpu.rawExecute, cpu.guardedExecute),
  };
  printTable(
    `MariaDB primary-key SELECT, 16 concurrent loops on a pool of 8, ${rounds} alternating rounds of ${seconds} s (medians; "vs raw" is the median of per-round ratios)`,
    ['pool', 'query() / s', 'vs raw', 'CPU µs / query()', 'vs raw', 'execute() / s', 'vs raw', 'CPU µs / execute()', 'vs raw'],
    [
      ['raw mysql2', result.rawQueriesPerSecond.toFixed(0), '1.000', result.rawQueryCpuMicros.toFixed(1), '1.000', result.rawExecutePerSecond.toFixed(0), '1.000', result.rawExecuteCpuMicros.toFixed(1), '1.000'],
      [
        'guardMysql2',
        result.guardedQueriesPerSecond.toFixed(0),
        result.ratio.toFixed(3),
        result.guardedQueryCpuMicros.toFixed(1),
        result.queryCpuRatio.toFixed(3),
        result.guardedExecutePerSecond.toFixed(0),
        result.executeRatio.toFixed(3),
        result.guardedExecuteCpuMicros.toFixed(1),
        result.executeCpuRatio.toFixed(3),
      ],
    ],
  );
  return result;
}

// Alone (after `npm run build`): node bench/db-readonly/pool-throughput.bench.ts
if (import.meta.main) {
  const quick = process.env.BENCH_QUICK === '1';
  await poolThroughputBench(quick ? { rounds: 1, seconds: 1 } : {});
}

import mysql2Promise from 'mysql2/promise';
import { guardMysql2 } from '@mirrorguard/db-readonly';
import { alternatingRounds, closedLoop, type ClosedLoopResult } from '../support/closed-loop.ts';
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
  /** Client CPU per query(), guarded over raw (median of per-round ratios; below 1 is cheaper). */
  readonly cpuPerQueryRatio: number;
  readonly cpuPerExecuteRatio: number;
  /**
   * A second raw pool over the first, measured the same way in the same rounds: the noise floor of
   * this run (1.000 on a quiet machine). A guarded ratio is only as exact as this one is close to 1.
   */
  readonly sameVsSameRatio: number;
  readonly sameVsSameExecuteRatio: number;
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

/** Primary-key SELECTs for `seconds` from 16 concurrent loops: queries per second and client CPU per query. */
function drive(pool: Pool, method: 'query' | 'execute', seconds: number): Promise<ClosedLoopResult> {
  return closedLoop((n) => (method === 'query' ? pool.query(SELECT_BY_ID, [n + 1]) : pool.execute(SELECT_BY_ID, [n + 1])), {
    seconds,
    workers: 16,
    keys: ROWS,
  });
}

/** Raw mysql2 pool vs the guarded pool, same server, same statements, alternating rounds. */
export async function poolThroughputBench({ rounds = 8, seconds = 2 } = {}): Promise<PoolThroughputResult> {
  await prepareTable();
  const uri = MYSQL_URL.replace(/\/[^/?]*(\?|$)/, `/${DATABASE}$1`);
  const raw = mysql2Promise.createPool({ uri, connectionLimit: 8 });
  const rawAgain = mysql2Promise.createPool({ uri, connectionLimit: 8 });
  const guarded = guardMysql2(mysql2Promise, { dialect: 'mariadb' }).createPool({ uri, connectionLimit: 8 });
  const results = {
    rawQuery: [] as ClosedLoopResult[],
    rawAgainQuery: [] as ClosedLoopResult[],
    guardedQuery: [] as ClosedLoopResult[],
    rawExecute: [] as ClosedLoopResult[],
    rawAgainExecute: [] as ClosedLoopResult[],
    guardedExecute: [] as ClosedLoopResult[],
  };
  try {
    for (const pool of [raw, rawAgain, guarded]) await drive(pool, 'query', 1); // warm-up: connections, statement caches
    await alternatingRounds([['raw', raw], ['rawAgain', rawAgain], ['guarded', guarded]] as const, rounds, async ([name, pool]) => {
      results[`${name}Query`].push(await drive(pool, 'query', seconds));
      results[`${name}Execute`].push(await drive(pool, 'execute', seconds));
    });
  } finally {
    await raw.end();
    await rawAgain.end();
    await guarded.end();
  }
  const perSecond = (runs: readonly ClosedLoopResult[]): number[] => runs.map((run) => run.perSecond);
  const cpu = (runs: readonly ClosedLoopResult[]): number[] => runs.map((run) => run.cpuMicrosPerOperation);
  const result = {
    rawQueriesPerSecond: median(perSecond(results.rawQuery)),
    guardedQueriesPerSecond: median(perSecond(results.guardedQuery)),
    ratio: pairedRatio(perSecond(results.rawQuery), perSecond(results.guardedQuery)),
    rawExecutePerSecond: median(perSecond(results.rawExecute)),
    guardedExecutePerSecond: median(perSecond(results.guardedExecute)),
    executeRatio: pairedRatio(perSecond(results.rawExecute), perSecond(results.guardedExecute)),
    cpuPerQueryRatio: pairedRatio(cpu(results.rawQuery), cpu(results.guardedQuery)),
    cpuPerExecuteRatio: pairedRatio(cpu(results.rawExecute), cpu(results.guardedExecute)),
    sameVsSameRatio: pairedRatio(perSecond(results.rawQuery), perSecond(results.rawAgainQuery)),
    sameVsSameExecuteRatio: pairedRatio(perSecond(results.rawExecute), perSecond(results.rawAgainExecute)),
  };
  const cpuMicros = (runs: readonly ClosedLoopResult[]): string => median(cpu(runs)).toFixed(1);
  printTable(
    `MariaDB primary-key SELECT, 16 concurrent loops on a pool of 8, ${rounds} alternating rounds of ${seconds} s (medians; "vs raw" is the median of per-round ratios; CPU is this client process's per call)`,
    ['pool', 'query() / s', 'vs raw', 'CPU µs', 'vs raw', 'execute() / s', 'vs raw', 'CPU µs', 'vs raw'],
    [
      ['raw mysql2', result.rawQueriesPerSecond.toFixed(0), '1.000', cpuMicros(results.rawQuery), '1.000', result.rawExecutePerSecond.toFixed(0), '1.000', cpuMicros(results.rawExecute), '1.000'],
      [
        'raw mysql2, a second pool (noise floor)',
        median(perSecond(results.rawAgainQuery)).toFixed(0),
        result.sameVsSameRatio.toFixed(3),
        cpuMicros(results.rawAgainQuery),
        pairedRatio(cpu(results.rawQuery), cpu(results.rawAgainQuery)).toFixed(3),
        median(perSecond(results.rawAgainExecute)).toFixed(0),
        result.sameVsSameExecuteRatio.toFixed(3),
        cpuMicros(results.rawAgainExecute),
        pairedRatio(cpu(results.rawExecute), cpu(results.rawAgainExecute)).toFixed(3),
      ],
      [
        'guardMysql2',
        result.guardedQueriesPerSecond.toFixed(0),
        result.ratio.toFixed(3),
        cpuMicros(results.guardedQuery),
        result.cpuPerQueryRatio.toFixed(3),
        result.guardedExecutePerSecond.toFixed(0),
        result.executeRatio.toFixed(3),
        cpuMicros(results.guardedExecute),
        result.cpuPerExecuteRatio.toFixed(3),
      ],
    ],
  );
  return result;
}

import NodeSqlParser from 'node-sql-parser';
import { classifyStatement } from '@mirrorguard/db-readonly';
import { READS, SESSION, TRANSACTIONS, WRITES } from '../../test/db-readonly/sql-corpus.ts';
import { median } from '../support/load.ts';
import { printTable } from '../support/table.ts';

export interface ClassifierResult {
  readonly classifierNsPerStatement: number;
  readonly parserNsPerStatement: number;
  readonly speedup: number;
}

// A realistic mix: what an ORM-backed service sends, reads first (TypeORM finds, joins, pagination,
// counts), then transaction control, session settings and some writes.
const MIX = [...READS, ...READS, ...READS, ...TRANSACTIONS, ...SESSION, ...WRITES].map((entry) => entry.sql.replaceAll('?', '1'));

// Each timed round starts on a collected heap (npm run bench passes --expose-gc), so neither side
// pays for the garbage the other left behind.
const collect = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);

function nsPerStatement(run: (sql: string) => void, iterations: number): number {
  collect();
  const start = process.hrtime.bigint();
  for (let round = 0; round < iterations; round += 1) for (const sql of MIX) run(sql);
  return Number(process.hrtime.bigint() - start) / (iterations * MIX.length);
}

/** classifyStatement vs node-sql-parser's astify on the same statements, alternating rounds, in one process. */
export function classifierBench({ rounds = 5 } = {}): ClassifierResult {
  const parser = new NodeSqlParser.Parser();
  const classify = (sql: string): void => void classifyStatement(sql, { dialect: 'mariadb' });
  const parse = (sql: string): void => {
    try {
      parser.astify(sql, { database: 'MariaDB' });
    } catch {
      // A statement the parser does not support still cost its time.
    }
  };
  nsPerStatement(classify, 200); // warm-up
  nsPerStatement(parse, 3);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    ours.push(nsPerStatement(classify, 400));
    theirs.push(nsPerStatement(parse, 5));
  }
  const result = { classifierNsPerStatement: median(ours), parserNsPerStatement: median(theirs), speedup: median(theirs) / median(ours) };
  printTable(
    `SQL classification: ${MIX.length} statements (TypeORM reads, transactions, session, writes), median of ${rounds} rounds${(globalThis as { gc?: unknown }).gc ? ', heap collected before each' : ''}`,
    ['implementation', 'µs / statement', 'statements / s', 'vs node-sql-parser'],
    [
      ['classifyStatement (@mirrorguard/db-readonly)', (result.classifierNsPerStatement / 1000).toFixed(2), (1e9 / result.classifierNsPerStatement).toFixed(0), `${result.speedup.toFixed(0)}× faster`],
      ['node-sql-parser astify (MariaDB)', (result.parserNsPerStatement / 1000).toFixed(2), (1e9 / result.parserNsPerStatement).toFixed(0), '1×'],
    ],
  );
  return result;
}

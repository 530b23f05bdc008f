import NodeSqlParser from 'node-sql-parser';
import { classifyStatement, type SqlDialect } from '@mirrorguard/db-readonly';
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

function nsPerStatement(mix: readonly string[], run: (sql: string) => void, iterations: number): number {
  collect();
  const start = process.hrtime.bigint();
  for (let round = 0; round < iterations; round += 1) for (const sql of mix) run(sql);
  return Number(process.hrtime.bigint() - start) / (iterations * mix.length);
}

export interface ClassifierComparison {
  /** The statements, as the guard sees them. */
  readonly mix: readonly string[];
  readonly dialect: SqlDialect;
  /** node-sql-parser's name for the same dialect. */
  readonly parserDatabase: string;
  /** What the statements are, for the table's title. */
  readonly describe: string;
  readonly rounds: number;
}

/** classifyStatement vs node-sql-parser's astify on the same statements, alternating rounds, in one process; prints the table. */
export function compareWithParser({ mix, dialect, parserDatabase, describe, rounds }: ClassifierComparison): ClassifierResult {
  const parser = new NodeSqlParser.Parser();
  const classify = (sql: string): void => void classifyStatement(sql, { dialect });
  const parse = (sql: string): void => {
    try {
      parser.astify(sql, { database: parserDatabase });
    } catch {
      // A statement the parser does not support still cost its time.
    }
  };
  nsPerStatement(mix, classify, 200); // warm-up
  nsPerStatement(mix, parse, 3);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    ours.push(nsPerStatement(mix, classify, 400));
    theirs.push(nsPerStatement(mix, parse, 5));
  }
  const result = { classifierNsPerStatement: median(ours), parserNsPerStatement: median(theirs), speedup: median(theirs) / median(ours) };
  printTable(
    `SQL classification, ${dialect}: ${mix.length} statements (${describe}), median of ${rounds} rounds${(globalThis as { gc?: unknown }).gc ? ', heap collected before each' : ''}`,
    ['implementation', 'µs / statement', 'statements / s', 'vs node-sql-parser'],
    [
      [`classifyStatement (dialect ${dialect})`, (result.classifierNsPerStatement / 1000).toFixed(2), (1e9 / result.classifierNsPerStatement).toFixed(0), `${result.speedup.toFixed(0)}× faster`],
      [`node-sql-parser astify (${parserDatabase})`, (result.parserNsPerStatement / 1000).toFixed(2), (1e9 / result.parserNsPerStatement).toFixed(0), '1×'],
    ],
  );
  return result;
}

/** The MariaDB dialect on the MariaDB corpus. */
export function classifierBench({ rounds = 5 } = {}): ClassifierResult {
  return compareWithParser({ mix: MIX, dialect: 'mariadb', parserDatabase: 'MariaDB', describe: 'TypeORM reads, transactions, session, writes', rounds });
}

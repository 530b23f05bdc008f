import { MirrorGuardError, type Journal } from '@mirrorguard/core';
import { lexSqlite } from '../classifier/lex-sqlite.ts';
import { ReadOnlyViolationError } from '../errors/read-only-violation-error.ts';
import { resolveGuardOptions, type StatementPolicy as PolicyName } from '../policy/guard-options.ts';
import { StatementPolicy, type SimulatedResult } from '../policy/statement-policy.ts';
import { withParameters } from './journal-text.ts';
import { NodeSqliteDatabase, type NodeSqliteDriver, type NodeSqliteOpenOptions, type NodeSqliteStatement, type SqliteRunResult } from './node-sqlite-database.ts';

export interface GuardNodeSqliteOptions {
  /** What to do with a refused write: `reject` (default) or `simulate`. */
  readonly policy?: PolicyName;
  /** Where refused and simulated statements are journaled. A journal of the `mirror` profile with no sinks by default. */
  readonly journal?: Journal;
  /** The first rowid a simulated INSERT answers with; each simulated row takes the next. 2,000,000,000 by default. */
  readonly firstSimulatedInsertId?: number;
}

// better-sqlite3 marks a statement that returns rows as a reader; a refused statement is never
// compiled, so a write that returns rows is recognised by its RETURNING clause.
const RETURNING = /\bRETURNING\b/i;

/** The rows an INSERT … VALUES (…), (…) inserts: one per parenthesised group after VALUES; 1 for any other INSERT. */
function insertedRows(sql: string): number {
  const { tokens, failure } = lexSqlite(sql);
  if (failure !== undefined) return 1;
  const values = tokens.findIndex((token) => token.depth === 0 && token.type === 'word' && token.value === 'VALUES');
  if (values === -1) return 1;
  let rows = 0;
  for (let index = values + 1; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    if (token.depth !== 0) continue;
    if (token.type === 'punctuation' && token.value === '(') rows += 1;
    else if (!(token.type === 'punctuation' && (token.value === ')' || token.value === ','))) break;
  }
  return Math.max(rows, 1);
}

/** A statement the classifier refused: never compiled; each execution is journaled and rejected or simulated. */
class RefusedStatement implements NodeSqliteStatement {
  readonly source: string;
  readonly reader: boolean;
  readonly #policy: StatementPolicy;
  #rows: number | undefined;

  constructor(source: string, policy: StatementPolicy) {
    this.source = source;
    this.reader = RETURNING.test(source);
    this.#policy = policy;
  }

  /** Journals and answers one execution: throws under `reject`, returns the simulated result under `simulate`. */
  #answer(parameters: readonly unknown[]): SqliteRunResult {
    const decision = this.#policy.decide(this.source, {
      canSimulate: true,
      operation: withParameters(this.source, parameters),
      insertedRows: (this.#rows ??= insertedRows(this.source)),
    });
    if (decision.outcome === 'reject') throw decision.error;
    // The verdict is fixed per text; should it ever differ from the one at prepare, fail closed.
    if (decision.outcome === 'pass') throw new ReadOnlyViolationError(this.source, 'unknown', 'the statement was refused when it was prepared');
    const result: SimulatedResult = decision.result;
    const rows = result.insertId === 0 ? result.affectedRows : this.#rows!;
    return { changes: rows, lastInsertRowid: result.insertId === 0 ? 0 : result.insertId + rows - 1 };
  }

  all(...parameters: unknown[]): Record<string, unknown>[] {
    this.#answer(parameters);
    return [];
  }

  get(...parameters: unknown[]): Record<string, unknown> | undefined {
    this.#answer(parameters);
    return undefined;
  }

  run(...parameters: unknown[]): SqliteRunResult {
    return this.#answer(parameters);
  }

  *iterate(...parameters: unknown[]): IterableIterator<Record<string, unknown>> {
    this.#answer(parameters);
  }
}

/**
 * The mirror's SQLite driver: a `NodeSqliteDatabase` class (pass it as TypeORM's `driver`, or
 * construct it yourself) whose databases are opened read-only with `PRAGMA query_only = ON`
 * confirmed before first use, and whose every statement — `prepare`, `exec` and `pragma` — passes
 * the classifier (SQLite dialect) before SQLite compiles it. A refused statement is never compiled:
 * each execution is journaled (`blocked` or `simulated`, with its parameters in place) and fails
 * with `ReadOnlyViolationError`, or under `simulate` a write answers as if it had run
 * (`changes`, and `lastInsertRowid` from 2,000,000,000 up for an INSERT).
 */
export function guardNodeSqlite(options: GuardNodeSqliteOptions = {}): NodeSqliteDriver {
  const policy = new StatementPolicy({ ...resolveGuardOptions(options), dialect: 'sqlite' });
  return class GuardedNodeSqliteDatabase extends NodeSqliteDatabase {
    constructor(filename: string, openOptions: NodeSqliteOpenOptions = {}) {
      super(filename, { ...openOptions, readonly: true });
      try {
        super.exec('PRAGMA query_only = ON');
        const row = super.prepare('PRAGMA query_only').get();
        if (row === undefined || Number(Object.values(row)[0]) !== 1) throw new Error('PRAGMA query_only did not read back as 1');
      } catch (error) {
        this.close();
        throw new MirrorGuardError('MG_ERR_DB_NOT_READ_ONLY', `the SQLite connection to ${filename} could not be made query-only: ${(error as Error).message}`, { cause: error });
      }
    }

    override prepare(sql: string): NodeSqliteStatement {
      return policy.classify(sql, true).allowed ? super.prepare(sql) : new RefusedStatement(sql, policy);
    }

    override exec(sql: string): this {
      const decision = policy.decide(sql, { canSimulate: true });
      if (decision.outcome === 'reject') throw decision.error;
      if (decision.outcome === 'pass') super.exec(sql);
      return this;
    }
  };
}

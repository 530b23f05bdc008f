import type { Journal } from '@mirrorguard/core';
import type { StatementClassification } from '../classifier/statement-classification.ts';
import { resolveGuardOptions } from '../policy/guard-options.ts';
import { StatementPolicy } from '../policy/statement-policy.ts';
import { withParameters } from './journal-text.ts';
import { NodeSqliteDatabase, type NodeSqliteDriver, type NodeSqliteStatement, type SqliteRunResult } from './node-sqlite-database.ts';

export interface RecordNodeSqliteOptions {
  /** Where each write is journaled as `recorded`. */
  readonly journal: Journal;
}

// Transactions and connection settings are how writes are made, not writes: only the rest is journaled.
const isRecorded = (verdict: StatementClassification): boolean => verdict.kind !== 'read' && verdict.kind !== 'transaction' && verdict.kind !== 'session';

/** A compiled statement that journals each execution, with its parameters in place, before it runs. */
class RecordingStatement implements NodeSqliteStatement {
  readonly #statement: NodeSqliteStatement;
  readonly #journal: Journal;
  readonly #reason: string;

  constructor(statement: NodeSqliteStatement, verdict: StatementClassification, journal: Journal) {
    this.#statement = statement;
    this.#journal = journal;
    this.#reason = `${verdict.keyword || verdict.kind} sent to the database`;
  }

  get source(): string {
    return this.#statement.source;
  }

  get reader(): boolean {
    return this.#statement.reader;
  }

  #record(parameters: readonly unknown[]): void {
    this.#journal.record({ dependency: 'db', action: 'recorded', operation: withParameters(this.#statement.source, parameters), reason: this.#reason });
  }

  all(...parameters: unknown[]): Record<string, unknown>[] {
    this.#record(parameters);
    return this.#statement.all(...parameters);
  }

  get(...parameters: unknown[]): Record<string, unknown> | undefined {
    this.#record(parameters);
    return this.#statement.get(...parameters);
  }

  run(...parameters: unknown[]): SqliteRunResult {
    this.#record(parameters);
    return this.#statement.run(...parameters);
  }

  iterate(...parameters: unknown[]): IterableIterator<Record<string, unknown>> {
    this.#record(parameters);
    return this.#statement.iterate(...parameters);
  }
}

/**
 * The primary's SQLite driver: `NodeSqliteDatabase`, unchanged in behaviour, that journals every
 * statement that is not a read, transaction control or a connection setting as `recorded` (with its
 * parameters in place, in the caller's request context) when it is executed, so `mirrorguard diff`
 * can set it against what the mirror blocked or simulated. Pass it as TypeORM's `driver` (the
 * provider does so in the `record` profile).
 */
export function recordNodeSqlite(options: RecordNodeSqliteOptions): NodeSqliteDriver {
  const { journal } = options;
  const classifier = new StatementPolicy({ ...resolveGuardOptions({ journal }), dialect: 'sqlite' });
  return class RecordingNodeSqliteDatabase extends NodeSqliteDatabase {
    override prepare(sql: string): NodeSqliteStatement {
      const statement = super.prepare(sql);
      const verdict = classifier.classify(sql, true);
      return isRecorded(verdict) ? new RecordingStatement(statement, verdict, journal) : statement;
    }

    override exec(sql: string): this {
      const verdict = classifier.classify(sql, true);
      if (isRecorded(verdict)) journal.record({ dependency: 'db', action: 'recorded', operation: sql, reason: `${verdict.keyword || verdict.kind} sent to the database` });
      return super.exec(sql);
    }
  };
}

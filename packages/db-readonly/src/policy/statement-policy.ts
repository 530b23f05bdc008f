import { classifyStatement, type StatementClassification } from '../classifier/classify-statement.ts';
import { ReadOnlyViolationError } from '../errors/read-only-violation-error.ts';
import type { ResolvedGuardOptions } from './guard-options.ts';

/** The OK result a simulated write is answered with: the fields of mysql2's `ResultSetHeader`. */
export interface SimulatedResult {
  readonly fieldCount: 0;
  readonly affectedRows: number;
  readonly insertId: number;
  readonly info: string;
  readonly serverStatus: number;
  readonly warningStatus: 0;
  readonly changedRows: number;
}

export type Decision =
  | { readonly outcome: 'pass' }
  | { readonly outcome: 'reject'; readonly error: ReadOnlyViolationError }
  | { readonly outcome: 'simulate'; readonly result: SimulatedResult };

const PASS: Decision = { outcome: 'pass' };
const SERVER_STATUS_AUTOCOMMIT = 2;
const CACHE_LIMIT = 1_000;

/**
 * Classifies each statement, applies the policy and journals what it refused or simulated. One per
 * guarded module; templates (prepared statements) are cached, formatted query text is not.
 */
export class StatementPolicy {
  readonly options: ResolvedGuardOptions;
  #nextInsertId: number;
  readonly #templates = new Map<string, StatementClassification>();

  constructor(options: ResolvedGuardOptions) {
    this.options = options;
    this.#nextInsertId = options.firstSimulatedInsertId;
  }

  classify(sql: string, cacheable: boolean): StatementClassification {
    if (!cacheable) return classifyStatement(sql, { dialect: this.options.dialect });
    let verdict = this.#templates.get(sql);
    if (verdict === undefined) {
      verdict = classifyStatement(sql, { dialect: this.options.dialect });
      if (this.#templates.size >= CACHE_LIMIT) this.#templates.delete(this.#templates.keys().next().value!);
      this.#templates.set(sql, verdict);
    }
    return verdict;
  }

  /** Whether the policy would simulate this statement rather than refuse or pass it. */
  simulates(verdict: StatementClassification): boolean {
    return !verdict.allowed && this.options.policy === 'simulate' && (verdict.kind === 'write' || verdict.kind === 'ddl');
  }

  /**
   * Decides, and journals a refusal or a simulation. Call it where the statement is intercepted,
   * synchronously. `canSimulate: false` where no local answer can stand in (a prepared statement).
   */
  decide(sql: string, { cacheable, canSimulate }: { cacheable: boolean; canSimulate: boolean }): Decision {
    const verdict = this.classify(sql, cacheable);
    if (verdict.allowed) return PASS;
    if (canSimulate && this.simulates(verdict)) {
      const insert = verdict.keyword === 'INSERT' || verdict.keyword === 'REPLACE';
      const result: SimulatedResult = {
        fieldCount: 0,
        affectedRows: verdict.kind === 'write' ? 1 : 0,
        insertId: insert ? this.#nextInsertId++ : 0,
        info: '',
        serverStatus: SERVER_STATUS_AUTOCOMMIT,
        warningStatus: 0,
        changedRows: verdict.keyword === 'UPDATE' ? 1 : 0,
      };
      this.options.journal.record({ dependency: 'db', action: 'simulated', operation: sql, reason: verdict.reason });
      return { outcome: 'simulate', result };
    }
    const reason = this.simulates(verdict) ? `${verdict.reason} (a prepared statement cannot be simulated)` : verdict.reason;
    this.options.journal.record({ dependency: 'db', action: 'blocked', operation: sql, reason });
    return { outcome: 'reject', error: new ReadOnlyViolationError(sql, verdict.kind, reason) };
  }
}

import { createJournal, type Journal } from '@mirrorguard/core';
import type { SqlDialect } from '../classifier/classify-statement.ts';

/**
 * - `reject` (default): a refused statement fails with a `ReadOnlyViolationError`.
 * - `simulate`: a write or DDL statement is answered with a plausible OK result instead, so request
 *   flows go on as on the primary. Locks, escapes and server side effects are refused under both.
 */
export type StatementPolicy = 'reject' | 'simulate';

export interface GuardMysql2Options {
  /** What to do with a refused write. `reject` by default. */
  readonly policy?: StatementPolicy;
  /** Passed to the classifier. `mysql` by default; both get the same fail-closed rules. */
  readonly dialect?: 'mysql' | 'mariadb';
  /** Where refused and simulated statements are journaled. A journal of the `mirror` profile with no sinks by default. */
  readonly journal?: Journal;
  /** Refuse every connection when the account can write (see `SHOW GRANTS`), instead of journaling a warning. */
  readonly requireReadOnlyAccount?: boolean;
  /** The first insert id a simulated INSERT answers with; each simulated insert takes the next. 2,000,000,000 by default. */
  readonly firstSimulatedInsertId?: number;
  /**
   * How long one mirror statement may run on the server, in ms (MariaDB `max_statement_time`,
   * MySQL `max_execution_time`, which bounds SELECTs only). 10,000 by default; 0 leaves the server's setting.
   */
  readonly maxStatementTimeMs?: number;
  /**
   * How long a mirror transaction may sit idle before the server ends the connection, in ms, rounded
   * up to whole seconds (MariaDB `idle_transaction_timeout`; MySQL has none). 10,000 by default; 0 leaves the server's setting.
   */
  readonly maxIdleTransactionMs?: number;
  /**
   * How long a mirror transaction may stay open, busy or not, in ms: the server reports each open
   * transaction, and one open longer ends with its connection (`MG_ERR_DB_TRANSACTION_TOO_LONG`).
   * 30,000 by default; 0 for no bound.
   */
  readonly maxTransactionMs?: number;
  /**
   * Read the session back after every statement the server runs, not only after those the server
   * flags as having changed it, and release any named lock the statement took, ending the
   * connection if it took one (`MG_ERR_DB_SESSION_UNSAFE`). This closes what a view or stored
   * function can do unseen (a `GET_LOCK` in a view's definition; a function that turns session
   * tracking off before it changes the session), at the cost of two more round trips per
   * statement. `false` by default.
   */
  readonly readBackEveryStatement?: boolean;
}

export interface ResolvedGuardOptions {
  readonly policy: StatementPolicy;
  readonly dialect: SqlDialect;
  readonly journal: Journal;
  readonly requireReadOnlyAccount: boolean;
  readonly firstSimulatedInsertId: number;
  readonly maxStatementTimeMs: number;
  readonly maxIdleTransactionMs: number;
  readonly maxTransactionMs: number;
  readonly readBackEveryStatement: boolean;
}

function nonNegativeMs(name: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`${name} must be a non-negative number of milliseconds, got ${ms}`);
  return ms;
}

function flag(name: string, value: boolean | undefined): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`${name} must be true or false, got ${JSON.stringify(value)}`);
  return value ?? false;
}

export function resolveGuardOptions(options: GuardMysql2Options = {}): ResolvedGuardOptions {
  const policy = options.policy ?? 'reject';
  if (policy !== 'reject' && policy !== 'simulate') throw new TypeError(`policy must be "reject" or "simulate", got ${JSON.stringify(policy)}`);
  const first = options.firstSimulatedInsertId ?? 2_000_000_000;
  if (!Number.isSafeInteger(first) || first < 1) throw new TypeError(`firstSimulatedInsertId must be a positive safe integer, got ${first}`);
  return {
    policy,
    dialect: options.dialect ?? 'mysql',
    journal: options.journal ?? createJournal({ profile: 'mirror' }),
    requireReadOnlyAccount: options.requireReadOnlyAccount ?? false,
    firstSimulatedInsertId: first,
    maxStatementTimeMs: nonNegativeMs('maxStatementTimeMs', options.maxStatementTimeMs, 10_000),
    maxIdleTransactionMs: nonNegativeMs('maxIdleTransactionMs', options.maxIdleTransactionMs, 10_000),
    maxTransactionMs: nonNegativeMs('maxTransactionMs', options.maxTransactionMs, 30_000),
    readBackEveryStatement: flag('readBackEveryStatement', options.readBackEveryStatement),
  };
}

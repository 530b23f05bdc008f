import { MirrorGuardError } from '@mirrorguard/core';
import type { StatementKind } from '../classifier/statement-classification.ts';

/** The message a read-only MySQL or MariaDB server gives for a write, so logs and handlers read alike. */
const SERVER_MESSAGE = 'Cannot execute statement in a READ ONLY transaction';

/**
 * A refused statement, shaped like the error a read-only server returns (code
 * `ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION`, errno 1792, SQLSTATE 25006), so that TypeORM wraps it
 * in `QueryFailedError` and app error handling treats it as the server's own. It is also a
 * `MirrorGuardError`; `statementKind` and `reason` say why it was refused.
 */
export class ReadOnlyViolationError extends MirrorGuardError {
  readonly errno = 1792;
  readonly sqlState = '25006';
  readonly sqlMessage: string;
  readonly sql: string;
  readonly fatal = false;
  readonly statementKind: StatementKind;
  readonly reason: string;

  constructor(sql: string, statementKind: StatementKind, reason: string) {
    const message = `${SERVER_MESSAGE} (mirrorguard refused a ${statementKind} statement: ${reason})`;
    super('ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', message);
    this.name = 'ReadOnlyViolationError';
    this.sqlMessage = message;
    this.sql = sql;
    this.statementKind = statementKind;
    this.reason = reason;
  }
}

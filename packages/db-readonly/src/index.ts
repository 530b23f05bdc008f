export { classifyStatement } from './classifier/classify-statement.ts';
export type { ClassifyOptions, SqlDialect, StatementClassification, StatementKind } from './classifier/classify-statement.ts';
export type { DbErrorCode } from './errors/db-error-codes.ts';
export { ReadOnlyViolationError } from './errors/read-only-violation-error.ts';
export { guardMysql2 } from './mysql2/guard-mysql2.ts';
export type { GuardMysql2Options, StatementPolicy } from './policy/guard-options.ts';
export type { SimulatedResult } from './policy/statement-policy.ts';
export { readAccountPrivileges } from './server/account-privileges.ts';
export type { AccountPrivileges } from './server/account-privileges.ts';

/**
 * The stable codes of the errors `@mirrorguard/db-readonly` throws, besides the mysql2-shaped
 * `ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION` of a refused statement.
 */
export type DbErrorCode =
  /** A refused statement (a `ReadOnlyViolationError`, errno 1792). */
  | 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION'
  /** A connection could not be made read-only, or the server did not confirm it; it was destroyed. */
  | 'MG_ERR_DB_NOT_READ_ONLY'
  /** The session's state cannot be pinned or followed (character set, sql_mode, isolation, time bounds); the connection was destroyed. */
  | 'MG_ERR_DB_SESSION_UNSAFE'
  /** A mirror transaction stayed open longer than `maxTransactionMs`; its connection was ended. */
  | 'MG_ERR_DB_TRANSACTION_TOO_LONG'
  /** `requireReadOnlyAccount` is set and the account can write. */
  | 'MG_ERR_DB_ACCOUNT_CAN_WRITE'
  /** A protocol command the guard does not know (binlog dump, replica registration, …). */
  | 'MG_ERR_DB_COMMAND_REFUSED'
  /** A packet written to the connection is not what the guard approved (changed after screening, never screened, another command); not sent, the connection was destroyed. */
  | 'MG_ERR_DB_WIRE_REFUSED'
  /** The mysql2 module or object passed in does not have the shape the guard relies on. */
  | 'MG_ERR_DB_UNSUPPORTED_DRIVER'
  /** A TypeORM option that writes at start-up or at read time (`cache` of type `database`) in mirror. */
  | 'MG_ERR_DB_OPTION_REFUSED';

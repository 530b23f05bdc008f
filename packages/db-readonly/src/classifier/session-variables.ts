/**
 * Session variables a driver, an ORM or a well-behaved app sets, none of which can make a read-only
 * session write, lock or reach outside the server. Anything else is refused.
 */
export const SESSION_VARIABLES: ReadonlySet<string> = new Set([
  'AUTOCOMMIT',
  'BIG_TABLES',
  'CHARACTER_SET_RESULTS',
  'CTE_MAX_RECURSION_DEPTH',
  'DEFAULT_WEEK_FORMAT',
  'DIV_PRECISION_INCREMENT',
  'EQ_RANGE_INDEX_DIVE_LIMIT',
  'FOREIGN_KEY_CHECKS',
  'GROUP_CONCAT_MAX_LEN',
  'INNODB_LOCK_WAIT_TIMEOUT',
  'INTERACTIVE_TIMEOUT',
  'JOIN_BUFFER_SIZE',
  'LC_MESSAGES',
  'LC_TIME_NAMES',
  'LOCK_WAIT_TIMEOUT',
  'MAX_HEAP_TABLE_SIZE',
  'MAX_RECURSIVE_ITERATIONS',
  'NET_READ_TIMEOUT',
  'OPTIMIZER_SWITCH',
  'PROFILING',
  'READ_BUFFER_SIZE',
  'READ_RND_BUFFER_SIZE',
  'SORT_BUFFER_SIZE',
  'SQL_AUTO_IS_NULL',
  'SQL_BIG_SELECTS',
  'SQL_NOTES',
  'SQL_QUOTE_SHOW_CREATE',
  'SQL_SAFE_UPDATES',
  'SQL_SELECT_LIMIT',
  'SQL_WARNINGS',
  'TIME_ZONE',
  'TMP_TABLE_SIZE',
  'UNIQUE_CHECKS',
  'WAIT_TIMEOUT',
]);

/** The variables that hold the session's read-only switch; they may only be set on. */
export const READ_ONLY_VARIABLES: ReadonlySet<string> = new Set(['TRANSACTION_READ_ONLY', 'TX_READ_ONLY']);

/** The variables that set how the server decodes statement bytes: the guard pins them to utf8mb4. */
export const CLIENT_CHARSET_VARIABLES: ReadonlySet<string> = new Set(['CHARACTER_SET_CLIENT', 'CHARACTER_SET_CONNECTION', 'COLLATION_CONNECTION']);

/** The variables that hold the session's isolation level; SERIALIZABLE turns plain reads into share locks. */
export const ISOLATION_VARIABLES: ReadonlySet<string> = new Set(['TRANSACTION_ISOLATION', 'TX_ISOLATION']);

/** The variables that bound a statement's or an idle transaction's time, which the guard sets itself. */
export const TIME_BOUND_VARIABLES: ReadonlySet<string> = new Set(['MAX_STATEMENT_TIME', 'MAX_EXECUTION_TIME', 'IDLE_TRANSACTION_TIMEOUT', 'NET_WRITE_TIMEOUT']);

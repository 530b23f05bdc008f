/**
 * Built-in functions whose effect reaches past the calling session: server-wide state other sessions
 * see (named locks, sequences, the UUID_SHORT counter, replication and plugin state), or the server's
 * host (files). A read-only transaction stops none of them, so the classifier refuses every call,
 * at any depth of any statement.
 *
 * The list is a class, not a sample: `test/db-readonly/server-functions.test.ts` calls every function
 * the server names (`information_schema.SQL_FUNCTIONS`, the help tables, the grammar's keyword
 * functions) with generated arguments on a scratch server and fails when a call changes anything
 * outside the session (binlog, global variables, named locks, sequences, the UUID_SHORT counter,
 * files) whose name is missing here.
 *
 * Functions that only wait (SLEEP, BENCHMARK, MASTER_POS_WAIT, …) are not listed: the statement
 * time bound ends them.
 */

export type ServerFunctionEffect = 'lock' | 'escape' | 'side-effect';

interface ServerFunction {
  readonly effect: ServerFunctionEffect;
  readonly reason: string;
}

const entries: Array<[readonly string[], ServerFunctionEffect, string]> = [
  [['GET_LOCK', 'RELEASE_LOCK', 'RELEASE_ALL_LOCKS'], 'lock', 'takes or releases a named server lock'],
  // MySQL's locking service (a plugin's loadable functions): named locks as well.
  [['SERVICE_GET_READ_LOCKS', 'SERVICE_GET_WRITE_LOCKS', 'SERVICE_RELEASE_LOCKS'], 'lock', 'takes or releases locking-service locks'],
  [['VERSION_TOKENS_LOCK_SHARED', 'VERSION_TOKENS_LOCK_EXCLUSIVE', 'VERSION_TOKENS_UNLOCK'], 'lock', 'takes or releases version-token locks'],
  [['LOAD_FILE'], 'escape', 'reads files on the server'],
  [['NEXTVAL', 'SETVAL'], 'side-effect', 'changes a sequence'],
  [['UUID_SHORT'], 'side-effect', 'advances the server-wide counter other sessions draw identifiers from'],
  // Not a function of its own: it runs the column's default expression, which the classifier never
  // sees (a UUID_SHORT() default draws from the server-wide counter, even in a read-only session).
  [['DEFAULT'], 'side-effect', 'runs a column\'s default expression, which the classifier never sees'],
  // MySQL replication and group-replication control (loadable functions).
  [
    [
      'ASYNCHRONOUS_CONNECTION_FAILOVER_ADD_SOURCE',
      'ASYNCHRONOUS_CONNECTION_FAILOVER_DELETE_SOURCE',
      'ASYNCHRONOUS_CONNECTION_FAILOVER_ADD_MANAGED',
      'ASYNCHRONOUS_CONNECTION_FAILOVER_DELETE_MANAGED',
      'ASYNCHRONOUS_CONNECTION_FAILOVER_RESET',
      'GROUP_REPLICATION_SET_AS_PRIMARY',
      'GROUP_REPLICATION_SWITCH_TO_SINGLE_PRIMARY_MODE',
      'GROUP_REPLICATION_SWITCH_TO_MULTI_PRIMARY_MODE',
      'GROUP_REPLICATION_SET_WRITE_CONCURRENCY',
      'GROUP_REPLICATION_SET_COMMUNICATION_PROTOCOL',
      'GROUP_REPLICATION_ENABLE_MEMBER_ACTION',
      'GROUP_REPLICATION_DISABLE_MEMBER_ACTION',
      'GROUP_REPLICATION_RESET_MEMBER_ACTIONS',
    ],
    'side-effect',
    'changes replication configuration',
  ],
  // MySQL plugins' loadable functions that change server-wide configuration.
  [['VERSION_TOKENS_SET', 'VERSION_TOKENS_EDIT', 'VERSION_TOKENS_DELETE'], 'side-effect', 'changes the server\'s version tokens'],
  [['KEYRING_KEY_STORE', 'KEYRING_KEY_REMOVE', 'KEYRING_KEY_GENERATE'], 'side-effect', 'changes the server\'s keyring'],
  [
    [
      'AUDIT_LOG_FILTER_SET_FILTER',
      'AUDIT_LOG_FILTER_REMOVE_FILTER',
      'AUDIT_LOG_FILTER_SET_USER',
      'AUDIT_LOG_FILTER_REMOVE_USER',
      'AUDIT_LOG_FILTER_FLUSH',
      'AUDIT_LOG_ENCRYPTION_PASSWORD_SET',
      'AUDIT_LOG_ROTATE',
    ],
    'side-effect',
    'changes the server\'s audit log',
  ],
  [
    ['SET_FIREWALL_MODE', 'SET_FIREWALL_GROUP_MODE', 'FIREWALL_GROUP_ENLIST', 'FIREWALL_GROUP_DELIST', 'MYSQL_FIREWALL_FLUSH_STATUS'],
    'side-effect',
    'changes the server\'s firewall',
  ],
  [['MASKING_DICTIONARY_TERM_ADD', 'MASKING_DICTIONARY_TERM_REMOVE', 'MASKING_DICTIONARY_REMOVE', 'GEN_DICTIONARY_LOAD', 'GEN_DICTIONARY_DROP'], 'side-effect', 'changes the server\'s masking dictionaries'],
];

/**
 * Tables whose read changes server-wide state: InnoDB's `*_RESET` compression tables zero the
 * counters the primary's monitoring reads (PROCESS, a read-only privilege, is enough).
 */
export const RESETTING_TABLE: RegExp = /^INNODB_CMP[A-Z_]*_RESET$/;

/** The built-in functions the classifier refuses, by upper-case name. */
export const SERVER_FUNCTIONS: ReadonlyMap<string, ServerFunction> = new Map(
  entries.flatMap(([names, effect, reason]) => names.map((name): [string, ServerFunction] => [name, { effect, reason: `${name}() ${reason}` }])),
);

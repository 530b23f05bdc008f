/**
 * SQLite's pragmas, sorted by what they can do to a database a mirror only reads (names lower-case).
 * A pragma on none of these lists is refused.
 */

/** Queried without an argument (`PRAGMA name` or `PRAGMA schema.name`), these only report. */
export const READ_PRAGMAS: ReadonlySet<string> = new Set([
  'application_id',
  'auto_vacuum',
  'automatic_index',
  'busy_timeout',
  'cache_size',
  'cache_spill',
  'collation_list',
  'compile_options',
  'data_version',
  'database_list',
  'defer_foreign_keys',
  'encoding',
  'foreign_key_check',
  'foreign_keys',
  'freelist_count',
  'function_list',
  'integrity_check',
  'journal_mode',
  'journal_size_limit',
  'locking_mode',
  'max_page_count',
  'mmap_size',
  'module_list',
  'page_count',
  'page_size',
  'pragma_list',
  'query_only',
  'quick_check',
  'read_uncommitted',
  'recursive_triggers',
  'schema_version',
  'secure_delete',
  'synchronous',
  'table_list',
  'temp_store',
  'user_version',
  'wal_autocheckpoint',
]);

/** With an argument in parentheses (`PRAGMA table_info("orders")`), these report on the object it names. */
export const READ_PRAGMAS_WITH_ARGUMENT: ReadonlySet<string> = new Set([
  'foreign_key_check',
  'foreign_key_list',
  'index_info',
  'index_list',
  'index_xinfo',
  'integrity_check',
  'quick_check',
  'table_info',
  'table_list',
  'table_xinfo',
]);

/**
 * Settings that last only as long as the connection and can neither write, lock nor turn read-only
 * off; TypeORM sets some of them (`foreign_keys` at connect, `read_uncommitted` for an isolation level).
 */
export const SESSION_PRAGMAS: ReadonlySet<string> = new Set(['busy_timeout', 'cache_size', 'defer_foreign_keys', 'foreign_keys', 'read_uncommitted', 'recursive_triggers']);

/** The connection's read-only switch: it may only be set on. */
export const QUERY_ONLY_PRAGMA = 'query_only';

/** Values SQLite reads as "on" for query_only (any other word, `banana` included, it reads as off). */
export const ON_VALUES: ReadonlySet<string> = new Set(['1', 'ON', 'TRUE', 'YES']);

/** Setting these is a way around read-only or out of the database. */
export const ESCAPE_PRAGMAS: ReadonlyMap<string, string> = new Map([
  ['writable_schema', 'PRAGMA writable_schema lets sqlite_schema be changed directly'],
  ['trusted_schema', 'PRAGMA trusted_schema lets schema-defined SQL run functions with side effects'],
  ['temp_store_directory', 'PRAGMA temp_store_directory points temporary files elsewhere'],
]);

/** Pragmas that act when run, with or without an argument. */
export const ACTION_PRAGMAS: ReadonlyMap<string, string> = new Map([
  ['optimize', 'PRAGMA optimize runs ANALYZE, which writes statistics tables'],
  ['wal_checkpoint', 'PRAGMA wal_checkpoint copies the write-ahead log into the database file'],
  ['incremental_vacuum', 'PRAGMA incremental_vacuum removes free pages from the database file'],
  ['shrink_memory', 'PRAGMA shrink_memory is not on the allow-list'],
]);

/** Every pragma SQLite 3.5x knows: setting one that is on no list above is a side effect. */
export const KNOWN_PRAGMAS: ReadonlySet<string> = new Set([
  ...READ_PRAGMAS,
  ...READ_PRAGMAS_WITH_ARGUMENT,
  ...ESCAPE_PRAGMAS.keys(),
  ...ACTION_PRAGMAS.keys(),
  'analysis_limit',
  'case_sensitive_like',
  'cell_size_check',
  'checkpoint_fullfsync',
  'count_changes',
  'default_cache_size',
  'empty_result_callbacks',
  'full_column_names',
  'fullfsync',
  'hard_heap_limit',
  'ignore_check_constraints',
  'legacy_alter_table',
  'reverse_unordered_selects',
  'short_column_names',
  'soft_heap_limit',
  'threads',
]);

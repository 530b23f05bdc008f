import { existsSync } from 'node:fs';
import { MirrorGuardError, type Journal } from '@mirrorguard/core';
import type { DataSourceOptions } from 'typeorm';
import { guardMysql2 } from '../mysql2/guard-mysql2.ts';
import type { GuardMysql2Options } from '../policy/guard-options.ts';
import { guardNodeSqlite } from '../sqlite/guard-node-sqlite.ts';

export interface MirrorDataSourceSettings {
  /**
   * The mysql2 module to guard (`require('mysql2')`); for `mysql` and `mariadb`, defaulting to the
   * DataSource's own `driver` option. Unused for `better-sqlite3`.
   */
  readonly mysql2?: object;
  /** Where the guard journals, and where the changed options are journaled. */
  readonly journal: Journal;
  /** Policy and simulated insert ids (and, for MySQL, the account requirement). */
  readonly guard?: Omit<GuardMysql2Options, 'journal' | 'dialect'>;
  /**
   * Top-level DataSource options mirrorguard does not know and which you have checked open no
   * connection and write nothing (a newer TypeORM's, or a framework's own keys). Any other unknown
   * option refuses the mirror's start-up with `MG_ERR_DB_OPTION_REFUSED`.
   */
  readonly allowOptions?: readonly string[];
}

/** The DataSource types the mirror guards. */
type GuardedType = 'mysql' | 'mariadb' | 'better-sqlite3';

// Every top-level option mirrorguard knows. Each is either harmless in a mirror (it names things,
// shapes results or loads app code that then runs through the guards), reaches the server only
// through the guarded driver (connection options, `extra`, `replication`), or is changed below.
// Anything else fails closed: a future TypeORM option may open a connection of its own.
const BASE_OPTIONS = [
  'type',
  'entities',
  'subscribers',
  'migrations',
  'migrationsTableName',
  'migrationsTransactionMode',
  'metadataTableName',
  'namingStrategy',
  'logging',
  'logger',
  'maxQueryExecutionTime',
  'poolSize',
  'entityPrefix',
  'entitySkipConstructor',
  'relationLoadStrategy',
  'typename',
  'isolateWhereStatements',
  'invalidWhereValuesBehavior',
  'name', // TypeORM 0.3's deprecated connection name
  // Changed or checked below.
  'driver',
  'extra',
  'cache',
  'synchronize',
  'migrationsRun',
  'dropSchema',
  'isolationLevel',
  // @nestjs/typeorm's own keys, which it keeps in the same object (read by Nest, never by TypeORM).
  'retryAttempts',
  'retryDelay',
  'toRetry',
  'autoLoadEntities',
  'keepConnectionAlive',
  'verboseRetryLog',
  'manualInitialization',
] as const;

const MYSQL_OPTIONS = [
  'url',
  'host',
  'port',
  'username',
  'password',
  'database',
  'ssl',
  'socketPath',
  'charset',
  'timezone',
  'connectTimeout',
  'acquireTimeout',
  'insecureAuth',
  'supportBigNumbers',
  'bigNumberStrings',
  'dateStrings',
  'debug',
  'trace',
  'multipleStatements', // the guarded driver never announces CLIENT_MULTI_STATEMENTS
  'flags', // the guarded driver strips MULTI_STATEMENTS and LOCAL_FILES
  'legacySpatialSupport',
  'enableQueryTimeout',
  'replication', // every pool of the cluster is made by the guarded driver's createPoolCluster
  'connectorPackage', // TypeORM 0.3: ignored once `driver` is set, and it always is
] as const;

const SQLITE_OPTIONS = ['database', 'key', 'statementCacheSize', 'prepareDatabase', 'readonly', 'fileMustExist', 'timeout', 'verbose', 'nativeBinding', 'enableWAL'] as const;

const KNOWN_OPTIONS: Record<GuardedType, ReadonlySet<string>> = {
  mysql: new Set([...BASE_OPTIONS, ...MYSQL_OPTIONS]),
  mariadb: new Set([...BASE_OPTIONS, ...MYSQL_OPTIONS]),
  'better-sqlite3': new Set([...BASE_OPTIONS, ...SQLITE_OPTIONS]),
};

// Options that make TypeORM write at start-up, and what the mirror does instead.
const START_UP_WRITES = [
  ['synchronize', 'synchronize would alter the schema (and write typeorm_metadata for views) at start-up: forced off'],
  ['migrationsRun', 'migrationsRun would create the migrations table and run migrations at start-up: forced off'],
  ['dropSchema', 'dropSchema would drop the schema at start-up: forced off'],
] as const;

/** What kind of query-result cache the option asks for, or undefined when none. */
function cacheKind(cache: unknown): string | undefined {
  if (cache === undefined || cache === null || cache === false) return undefined;
  if (typeof cache !== 'object') return 'database';
  const { type, provider } = cache as { type?: unknown; provider?: unknown };
  if (typeof provider === 'function') return 'provider';
  return typeof type === 'string' ? type : 'database';
}

function cacheReason(kind: string): string {
  if (kind === 'database') return 'a database query cache writes its cache table on reads: turned off';
  if (kind === 'provider') return 'a custom cache provider is app code with a client of its own, which no guard sees: turned off';
  if (kind === 'redis' || kind === 'ioredis' || kind === 'ioredis/cluster') {
    return `TypeORM's own ${kind} client would connect to the cache's Redis and SET a key on every cached read, past the Redis guard: turned off`;
  }
  return `an unknown cache type (${kind}) may open a connection of its own: turned off`;
}

function refused(message: string): MirrorGuardError {
  return new MirrorGuardError('MG_ERR_DB_OPTION_REFUSED', message);
}

/**
 * The mirror's rules for options TypeORM reads after construction as well (`setOptions` at run
 * time takes the same path): start-up writes and every query-result cache forced off, a locking
 * isolation level pinned, unknown options refused. Returns the options to change; journals each.
 */
export function mirrorOptionChanges(
  options: Readonly<Record<string, unknown>>,
  type: GuardedType,
  journal: Journal,
  allowOptions: readonly string[] = [],
): Record<string, unknown> {
  const known = KNOWN_OPTIONS[type];
  // An option set to undefined is as good as absent: TypeORM reads nothing from it.
  const unknown = Object.keys(options).filter((name) => options[name] !== undefined && !known.has(name) && !allowOptions.includes(name));
  if (unknown.length > 0) {
    throw refused(
      `the mirror does not know the TypeORM option${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')}, ` +
        'which might open a connection or write past the guards; remove it, or list it in allowOptions once you have checked that it does neither',
    );
  }
  const changed: Record<string, unknown> = {};
  for (const [name, reason] of START_UP_WRITES) {
    if (options[name] === true) journal.record({ dependency: 'db', action: 'blocked', operation: `TypeORM option ${name}: true`, reason });
    changed[name] = false;
  }
  const kind = cacheKind(options.cache);
  if (kind !== undefined) journal.record({ dependency: 'db', action: 'blocked', operation: `TypeORM option cache: ${kind}`, reason: cacheReason(kind) });
  changed.cache = false;
  const isolation = options.isolationLevel;
  if (type !== 'better-sqlite3' && typeof isolation === 'string' && isolation.trim().toUpperCase() === 'SERIALIZABLE') {
    journal.record({
      dependency: 'db',
      action: 'blocked',
      operation: 'TypeORM option isolationLevel: SERIALIZABLE',
      reason: 'SERIALIZABLE turns every read inside a transaction into a share lock the primary waits on: pinned to REPEATABLE READ',
    });
    changed.isolationLevel = 'REPEATABLE READ';
  }
  return changed;
}

// The options TypeORM reads again after construction (setOptions, each transaction, re-initialize).
const WATCHED_OPTIONS = ['cache', 'isolationLevel', 'synchronize', 'migrationsRun', 'dropSchema'] as const;

/**
 * Makes the mirror's rules stick to the options object itself: TypeORM's `setOptions` assigns
 * into the very object the DataSource was built from, so each watched option becomes an accessor
 * whose setter applies the same rules (a start-up write stays off, SERIALIZABLE is pinned) and
 * refuses a result cache before TypeORM would build it. A copy of the object (`{ ...options }`)
 * keeps the values, not the accessors.
 */
function holdMirrorOptions(options: Record<string, unknown>, type: GuardedType, journal: Journal): DataSourceOptions {
  for (const name of WATCHED_OPTIONS) {
    let value = options[name];
    Object.defineProperty(options, name, {
      enumerable: true,
      configurable: false,
      get: () => value,
      set: (next: unknown) => {
        const changes = mirrorOptionChanges({ [name]: next }, type, journal);
        if (name === 'cache' && cacheKind(next) !== undefined) {
          throw refused(`the mirror keeps every TypeORM query-result cache off: setOptions({ cache }) would open a client of its own or write a cache table`);
        }
        value = name in changes ? changes[name] : next;
      },
    });
  }
  return options as unknown as DataSourceOptions;
}

/** The SQLite part: read-only on the guarded node:sqlite driver, WAL left as the primary set it. */
function sqliteMirrorOptions(options: DataSourceOptions & { type: 'better-sqlite3' }, settings: MirrorDataSourceSettings, changed: Record<string, unknown>): DataSourceOptions {
  const file = options.database;
  // TypeORM creates the file's folder before it opens the file: the mirror must find both there.
  if (file !== ':memory:' && file !== '' && !existsSync(file)) {
    throw refused(`the mirror reads the primary's SQLite file, and ${file} does not exist`);
  }
  if (options.enableWAL === true) {
    settings.journal.record({
      dependency: 'db',
      action: 'blocked',
      operation: 'TypeORM option enableWAL: true',
      reason: 'PRAGMA journal_mode = WAL would change the database file: forced off (the primary sets the journal mode)',
    });
  }
  const driver = guardNodeSqlite({
    journal: settings.journal,
    ...(settings.guard?.policy !== undefined && { policy: settings.guard.policy }),
    ...(settings.guard?.firstSimulatedInsertId !== undefined && { firstSimulatedInsertId: settings.guard.firstSimulatedInsertId }),
  });
  return holdMirrorOptions({ ...options, ...changed, enableWAL: false, readonly: true, driver }, 'better-sqlite3', settings.journal);
}

/**
 * The options of a mirror DataSource: the driver is the guarded one (mysql2 for `mysql` and
 * `mariadb` — every pool, replication's master and slaves too, is made by it — node:sqlite opened
 * read-only and query-only for `better-sqlite3`); the options that write at start-up are forced off
 * (and, for SQLite, `enableWAL`); every query-result cache (database, redis, ioredis,
 * ioredis/cluster, a custom provider) is turned off; a SERIALIZABLE `isolationLevel` is pinned to
 * REPEATABLE READ; each change is journaled. Unknown options, and other DataSource types, are
 * refused with `MG_ERR_DB_OPTION_REFUSED`. The rules hold for `setOptions` at run time too, as
 * long as the DataSource is built from the returned object itself.
 */
export function mirrorDataSourceOptions(options: DataSourceOptions, settings: MirrorDataSourceSettings): DataSourceOptions {
  if (options.type !== 'mysql' && options.type !== 'mariadb' && options.type !== 'better-sqlite3') {
    throw new TypeError(`@mirrorguard/db-readonly guards mysql, mariadb and better-sqlite3 DataSources, not "${options.type}"`);
  }
  const changed = mirrorOptionChanges(options as unknown as Record<string, unknown>, options.type, settings.journal, settings.allowOptions);
  if (options.type === 'better-sqlite3') return sqliteMirrorOptions(options, settings, changed);
  const mysql2 = settings.mysql2 ?? (options.driver as object | undefined);
  if (mysql2 === undefined) throw new TypeError(`mirrorDataSourceOptions needs the mysql2 module (settings.mysql2 or the driver option) for a ${options.type} DataSource`);
  const driver = guardMysql2(mysql2, { ...settings.guard, journal: settings.journal, dialect: options.type === 'mariadb' ? 'mariadb' : 'mysql' });
  return holdMirrorOptions({ ...options, ...changed, driver }, options.type, settings.journal);
}

import { existsSync } from 'node:fs';
import { MirrorGuardError, type Journal } from '@mirrorguard/core';
import type { DataSourceOptions } from 'typeorm';
import { guardMysql2 } from '../mysql2/guard-mysql2.ts';
import type { GuardMysql2Options } from '../policy/guard-options.ts';
import { guardNodeSqlite } from '../sqlite/guard-node-sqlite.ts';

export interface MirrorDataSourceSettings {
  /** The mysql2 module to guard (`require('mysql2')`); required for `mysql` and `mariadb`, unused for `better-sqlite3`. */
  readonly mysql2?: object;
  /** Where the guard journals, and where the changed options are journaled. */
  readonly journal: Journal;
  /** Policy and simulated insert ids (and, for MySQL, the account requirement). */
  readonly guard?: Omit<GuardMysql2Options, 'journal' | 'dialect'>;
}

// Options that make TypeORM write at start-up, and what the mirror does instead.
const START_UP_WRITES = [
  ['synchronize', 'synchronize would alter the schema at start-up: forced off'],
  ['migrationsRun', 'migrationsRun would run migrations at start-up: forced off'],
  ['dropSchema', 'dropSchema would drop the schema at start-up: forced off'],
] as const;

function usesDatabaseCache(cache: unknown): boolean {
  if (cache === true) return true;
  if (typeof cache !== 'object' || cache === null) return false;
  const { type, provider } = cache as { type?: unknown; provider?: unknown };
  return provider === undefined && (type === undefined || type === 'database');
}

/** The SQLite part: read-only on the guarded node:sqlite driver, WAL left as the primary set it. */
function sqliteMirrorOptions(options: DataSourceOptions & { type: 'better-sqlite3' }, settings: MirrorDataSourceSettings, changed: Record<string, unknown>): DataSourceOptions {
  const file = options.database;
  // TypeORM creates the file's folder before it opens the file: the mirror must find both there.
  if (file !== ':memory:' && file !== '' && !existsSync(file)) {
    throw new MirrorGuardError('MG_ERR_DB_OPTION_REFUSED', `the mirror reads the primary's SQLite file, and ${file} does not exist`);
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
  return { ...options, ...changed, enableWAL: false, readonly: true, driver } as DataSourceOptions;
}

/**
 * The options of a mirror DataSource: the driver is the guarded one (mysql2 for `mysql` and
 * `mariadb`, node:sqlite opened read-only and query-only for `better-sqlite3`), the options that
 * write at start-up are forced off (and, for SQLite, `enableWAL`), and a database-backed query
 * cache (which inserts and updates a cache table on reads) is turned off; each change is journaled.
 * Other DataSource types are refused.
 */
export function mirrorDataSourceOptions(options: DataSourceOptions, settings: MirrorDataSourceSettings): DataSourceOptions {
  if (options.type !== 'mysql' && options.type !== 'mariadb' && options.type !== 'better-sqlite3') {
    throw new TypeError(`@mirrorguard/db-readonly guards mysql, mariadb and better-sqlite3 DataSources, not "${options.type}"`);
  }
  const changed: Record<string, unknown> = {};
  for (const [name, reason] of START_UP_WRITES) {
    if ((options as unknown as Record<string, unknown>)[name] === true) {
      settings.journal.record({ dependency: 'db', action: 'blocked', operation: `TypeORM option ${name}: true`, reason });
    }
    changed[name] = false;
  }
  if (usesDatabaseCache(options.cache)) {
    settings.journal.record({
      dependency: 'db',
      action: 'blocked',
      operation: 'TypeORM option cache: database',
      reason: 'a database query cache writes its cache table on reads: turned off',
    });
    changed.cache = false;
  }
  if (options.type === 'better-sqlite3') return sqliteMirrorOptions(options, settings, changed);
  if (settings.mysql2 === undefined) throw new TypeError(`mirrorDataSourceOptions needs the mysql2 module (settings.mysql2) for a ${options.type} DataSource`);
  const driver = guardMysql2(settings.mysql2, { ...settings.guard, journal: settings.journal, dialect: options.type === 'mariadb' ? 'mariadb' : 'mysql' });
  return { ...options, ...changed, driver } as DataSourceOptions;
}

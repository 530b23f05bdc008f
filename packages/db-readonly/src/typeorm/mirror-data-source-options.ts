import type { Journal } from '@mirrorguard/core';
import type { DataSourceOptions } from 'typeorm';
import { guardMysql2 } from '../mysql2/guard-mysql2.ts';
import type { GuardMysql2Options } from '../policy/guard-options.ts';

export interface MirrorDataSourceSettings {
  /** The mysql2 module to guard (`require('mysql2')`). */
  readonly mysql2: object;
  /** Where the guard journals, and where the changed options are journaled. */
  readonly journal: Journal;
  /** Policy, account requirement and simulated insert ids. */
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

/**
 * The options of a mirror DataSource: the driver is the guarded mysql2, the options that write at
 * start-up are forced off, and a database-backed query cache (which inserts and updates a cache
 * table on reads) is turned off; each change is journaled. Only `mysql` and `mariadb` are accepted.
 */
export function mirrorDataSourceOptions(options: DataSourceOptions, settings: MirrorDataSourceSettings): DataSourceOptions {
  if (options.type !== 'mysql' && options.type !== 'mariadb') {
    throw new TypeError(`@mirrorguard/db-readonly guards mysql and mariadb DataSources, not "${options.type}"`);
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
  const driver = guardMysql2(settings.mysql2, { ...settings.guard, journal: settings.journal, dialect: options.type === 'mariadb' ? 'mariadb' : 'mysql' });
  return { ...options, ...changed, driver } as DataSourceOptions;
}

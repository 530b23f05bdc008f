import { defineProvider, MirrorGuardError, type Journal, type Provider, type ProviderContext } from '@mirrorguard/core';
import type { DataSource, DataSourceOptions } from 'typeorm';
import type { GuardMysql2Options } from '../policy/guard-options.ts';
import { recordMysql2 } from '../mysql2/record-mysql2.ts';
import { NodeSqliteDatabase } from '../sqlite/node-sqlite-database.ts';
import { recordNodeSqlite } from '../sqlite/record-node-sqlite.ts';
import { dataSourceDestinations } from './data-source-destinations.ts';
import { mirrorDataSourceOptions, mirrorOptionChanges } from './mirror-data-source-options.ts';

export interface TypeOrmProviderOptions {
  /**
   * The options of the app's DataSource, the same in every profile: type `mysql` or `mariadb`, or
   * `better-sqlite3` with `database` a file path (it runs on node:sqlite; no `driver` needed).
   */
  readonly dataSource: DataSourceOptions;
  /** Mirror only: policy, simulated insert ids (and for MySQL the account requirement). The journal is the guards'. */
  readonly guard?: Omit<GuardMysql2Options, 'journal' | 'dialect'>;
  /** The mysql2 module; the DataSource's `driver` option, else `import('mysql2')`, when omitted. Unused for SQLite. */
  readonly mysql2?: object;
  /** Mirror only: unknown DataSource options you have checked are harmless (see `mirrorDataSourceOptions`). */
  readonly allowOptions?: readonly string[];
}

async function loadMysql2(given: object | undefined): Promise<object> {
  if (given !== undefined) return given;
  const loaded = (await import('mysql2')) as { default?: object };
  return loaded.default ?? loaded;
}

async function initialize(options: DataSourceOptions): Promise<DataSource> {
  const { DataSource } = await import('typeorm');
  return new DataSource(options).initialize();
}

/**
 * The mirror's DataSource, checked before it connects: TypeORM must drive the guarded module it
 * was given (not one it loaded itself, from another path), and `setOptions` at run time goes
 * through the mirror's rules, so a cache, a start-up write or SERIALIZABLE cannot come back later.
 */
async function initializeMirror(options: DataSourceOptions, journal: Journal, allowOptions: readonly string[] | undefined): Promise<DataSource> {
  const { DataSource } = await import('typeorm');
  const dataSource = new DataSource(options);
  const driver = dataSource.driver as unknown as { mysql?: unknown; sqlite?: unknown };
  const used = options.type === 'better-sqlite3' ? driver.sqlite : driver.mysql;
  if (used !== (options as { driver?: unknown }).driver) {
    throw new MirrorGuardError('MG_ERR_DB_OPTION_REFUSED', `TypeORM did not take the guarded driver from the driver option (its ${options.type} driver uses another module): the mirror will not connect`);
  }
  const setOptions = dataSource.setOptions.bind(dataSource);
  const type = options.type as 'mysql' | 'mariadb' | 'better-sqlite3';
  dataSource.setOptions = (next) => {
    if ('driver' in next || 'type' in next) throw new MirrorGuardError('MG_ERR_DB_OPTION_REFUSED', 'a mirror DataSource keeps its type and its guarded driver: setOptions cannot change them');
    const changes = mirrorOptionChanges(next as Record<string, unknown>, type, journal, allowOptions);
    return setOptions({ ...next, ...changes } as Partial<DataSourceOptions>);
  };
  return dataSource.initialize();
}

/**
 * A `createGuards` provider of a TypeORM DataSource:
 * - `live`: the plain DataSource, no wrapper at all;
 * - `record`: the plain DataSource, whose writes are journaled as `recorded` (for `mirrorguard diff`);
 * - `mirror`: the DataSource on the guarded driver, start-up writes forced off (see
 *   `mirrorDataSourceOptions`), failing at start-up when the server, the account or the file says no;
 * - `test`: the plain DataSource, for tests that wrap each case in `startTestTransaction`.
 * A `better-sqlite3` DataSource runs on node:sqlite (`NodeSqliteDatabase`) in every profile: plain
 * in live and test, recording in record, read-only and guarded in mirror.
 * Closing destroys the DataSource.
 */
export function typeormProvider(options: TypeOrmProviderOptions): Provider<DataSource> {
  const dataSource = options.dataSource;
  const ownDriver = (dataSource as { driver?: object }).driver;
  const mirror = async ({ journal, strict, allowDestination }: ProviderContext): Promise<DataSource> => {
    // The egress lockdown lets the mirror reach its database servers, and nothing else.
    for (const destination of dataSourceDestinations(dataSource)) allowDestination(destination, 'the database');
    return initializeMirror(
      mirrorDataSourceOptions(dataSource, {
        journal,
        ...(dataSource.type !== 'better-sqlite3' && { mysql2: await loadMysql2(options.mysql2 ?? ownDriver) }),
        // strict: an account that can write refuses start-up (the DataSource connects while it is built).
        ...((options.guard !== undefined || strict) && { guard: { ...options.guard, ...(strict && { requireReadOnlyAccount: true }) } }),
        ...(options.allowOptions && { allowOptions: options.allowOptions }),
      }),
      journal,
      options.allowOptions,
    );
  };
  const close = async (instance: DataSource): Promise<void> => {
    if (instance.isInitialized) await instance.destroy();
  };

  if (dataSource.type === 'better-sqlite3') {
    const plain = (): Promise<DataSource> => initialize({ ...dataSource, driver: dataSource.driver ?? NodeSqliteDatabase });
    return defineProvider<DataSource>({
      live: plain,
      record: ({ journal }: ProviderContext) => initialize({ ...dataSource, driver: recordNodeSqlite({ journal }) }),
      test: plain,
      mirror,
      close,
    });
  }

  const plain = (): Promise<DataSource> => initialize(dataSource);
  return defineProvider<DataSource>({
    live: plain,
    record: async ({ journal }: ProviderContext) =>
      initialize({ ...dataSource, driver: recordMysql2(await loadMysql2(options.mysql2 ?? ownDriver), { journal, dialect: dataSource.type === 'mariadb' ? 'mariadb' : 'mysql' }) } as DataSourceOptions),
    test: plain,
    mirror,
    close,
  });
}

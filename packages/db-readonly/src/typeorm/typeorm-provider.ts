import { defineProvider, type Provider, type ProviderContext } from '@mirrorguard/core';
import type { DataSource, DataSourceOptions } from 'typeorm';
import type { GuardMysql2Options } from '../policy/guard-options.ts';
import { recordMysql2 } from '../mysql2/record-mysql2.ts';
import { NodeSqliteDatabase } from '../sqlite/node-sqlite-database.ts';
import { recordNodeSqlite } from '../sqlite/record-node-sqlite.ts';
import { mirrorDataSourceOptions } from './mirror-data-source-options.ts';

export interface TypeOrmProviderOptions {
  /**
   * The options of the app's DataSource, the same in every profile: type `mysql` or `mariadb`, or
   * `better-sqlite3` with `database` a file path (it runs on node:sqlite; no `driver` needed).
   */
  readonly dataSource: DataSourceOptions;
  /** Mirror only: policy, simulated insert ids (and for MySQL the account requirement). The journal is the guards'. */
  readonly guard?: Omit<GuardMysql2Options, 'journal' | 'dialect'>;
  /** The mysql2 module; `mysql2` is imported when omitted. Unused for SQLite. */
  readonly mysql2?: object;
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
  const mirror = async ({ journal }: ProviderContext): Promise<DataSource> =>
    initialize(
      mirrorDataSourceOptions(dataSource, {
        journal,
        ...(dataSource.type !== 'better-sqlite3' && { mysql2: await loadMysql2(options.mysql2) }),
        ...(options.guard && { guard: options.guard }),
      }),
    );
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
      initialize({ ...dataSource, driver: recordMysql2(await loadMysql2(options.mysql2), { journal, dialect: dataSource.type === 'mariadb' ? 'mariadb' : 'mysql' }) } as DataSourceOptions),
    test: plain,
    mirror,
    close,
  });
}

import { defineProvider, type Provider, type ProviderContext } from '@mirrorguard/core';
import type { DataSource, DataSourceOptions } from 'typeorm';
import type { GuardMysql2Options } from '../policy/guard-options.ts';
import { recordMysql2 } from '../mysql2/record-mysql2.ts';
import { mirrorDataSourceOptions } from './mirror-data-source-options.ts';

export interface TypeOrmProviderOptions {
  /** The options of the app's DataSource (type `mysql` or `mariadb`), the same in every profile. */
  readonly dataSource: DataSourceOptions;
  /** Mirror only: policy, account requirement, simulated insert ids. The journal is the guards'. */
  readonly guard?: Omit<GuardMysql2Options, 'journal' | 'dialect'>;
  /** The mysql2 module; `mysql2` is imported when omitted. */
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
 * - `mirror`: the DataSource on the guarded mysql2 driver, start-up writes forced off (see
 *   `mirrorDataSourceOptions`), failing at start-up when the server or the account says no;
 * - `test`: the plain DataSource, for tests that wrap each case in `startTestTransaction`.
 * Closing destroys the DataSource.
 */
export function typeormProvider(options: TypeOrmProviderOptions): Provider<DataSource> {
  const plain = (): Promise<DataSource> => initialize(options.dataSource);
  return defineProvider<DataSource>({
    live: plain,
    record: async ({ journal }: ProviderContext) =>
      initialize({ ...options.dataSource, driver: recordMysql2(await loadMysql2(options.mysql2), { journal, dialect: options.dataSource.type === 'mariadb' ? 'mariadb' : 'mysql' }) } as DataSourceOptions),
    test: plain,
    mirror: async ({ journal }: ProviderContext) =>
      initialize(mirrorDataSourceOptions(options.dataSource, { mysql2: await loadMysql2(options.mysql2), journal, ...(options.guard && { guard: options.guard }) })),
    close: async (dataSource) => {
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  });
}

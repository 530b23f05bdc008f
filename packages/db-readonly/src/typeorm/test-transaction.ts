import type { DataSource, QueryRunner } from 'typeorm';

export interface TestTransaction {
  /** The one query runner every query of the DataSource uses until `rollback`. */
  readonly queryRunner: QueryRunner;
  /** Rolls back everything since `startTestTransaction` and restores the DataSource. */
  rollback(): Promise<void>;
}

/**
 * The transactional-test pattern: until `rollback()`, every query of `dataSource` (repositories,
 * the query builder, `query()`, and `transaction()`, which becomes a savepoint) runs on one
 * connection inside one transaction, which `rollback()` undoes. Use it in `beforeEach`/`afterEach`;
 * tests can write freely and leave nothing behind.
 */
export async function startTestTransaction(dataSource: DataSource): Promise<TestTransaction> {
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  await queryRunner.startTransaction();
  // TypeORM releases the runner after each operation; it must stay for the whole test.
  const release = queryRunner.release.bind(queryRunner);
  queryRunner.release = () => Promise.resolve();
  const own = Object.getOwnPropertyDescriptor(dataSource, 'createQueryRunner');
  Object.defineProperty(dataSource, 'createQueryRunner', { value: () => queryRunner, configurable: true, writable: true });

  let rolledBack = false;
  return {
    queryRunner,
    async rollback() {
      if (rolledBack) return;
      rolledBack = true;
      if (own === undefined) delete (dataSource as { createQueryRunner?: unknown }).createQueryRunner;
      else Object.defineProperty(dataSource, 'createQueryRunner', own);
      try {
        if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction();
      } finally {
        queryRunner.release = release;
        await release();
      }
    },
  };
}

import { MirrorGuardError } from '@mirrorguard/core';
import { resolveGuardOptions, type GuardMysql2Options } from '../policy/guard-options.ts';
import { StatementPolicy } from '../policy/statement-policy.ts';
import { withoutUnsafeOptions } from './client-flags.ts';
import { guardPool, guardPoolCluster, guardStandaloneConnection } from './guard-pool.ts';
import type { Mysql2Connection, Mysql2Pool, Mysql2PoolCluster } from './mysql2-shapes.ts';

type Factory = (...args: unknown[]) => unknown;

const unsupported = (message: string): Error => new MirrorGuardError('MG_ERR_DB_UNSUPPORTED_DRIVER', message);

/**
 * Returns the mysql2 module (`mysql2` or `mysql2/promise`) with the same surface, whose connections,
 * pools and pool clusters are read-only: every statement sent through `query`, `execute` or
 * `prepare` (callback or promise, plain or streamed, SQL or options object) passes the classifier
 * first; every connection runs `SET SESSION TRANSACTION READ ONLY` and has it confirmed before the
 * app's first statement; multiple statements and LOCAL INFILE are off. Pass it where a library takes
 * the driver: TypeORM's `driver` option, Kysely's `MysqlDialect({ pool })`, Drizzle's `drizzle(pool)`.
 */
export function guardMysql2<M extends object>(mysql2: M, options?: GuardMysql2Options): M {
  const module = mysql2 as unknown as Record<string, unknown>;
  if (typeof module?.createPool !== 'function' || typeof module.createConnection !== 'function') {
    throw unsupported('guardMysql2 expects the mysql2 module (require("mysql2") or require("mysql2/promise"))');
  }
  const policy = new StatementPolicy(resolveGuardOptions(options));
  const original = (name: string): Factory => module[name] as Factory;
  const safe = (args: unknown[]): unknown[] => [withoutUnsafeOptions(args[0]), ...args.slice(1)];

  // Each factory makes the same object as mysql2's, guarded before the caller sees it. `pick`
  // reaches the core object inside a promise wrapper.
  const pooled = (name: string, pick: (made: never) => Mysql2Pool): Factory => (...args) => {
    const made = original(name)(...safe(args));
    guardPool(pick(made as never), policy);
    return made;
  };
  const clustered = (name: string, pick: (made: never) => Mysql2PoolCluster): Factory => (...args) => {
    const made = original(name)(...args);
    guardPoolCluster(pick(made as never), policy);
    return made;
  };
  const connected = (name: string): Factory => (...args) => {
    const connection = original(name)(...safe(args)) as Mysql2Connection;
    guardStandaloneConnection(connection, policy);
    return connection;
  };
  // A promise connection is handed over only once its session is confirmed read-only.
  const promiseConnected = (name: string): Factory => async (...args) => {
    const made = (await original(name)(...safe(args))) as { connection: Mysql2Connection };
    const guard = guardStandaloneConnection(made.connection, policy);
    await new Promise<void>((resolve, reject) => guard.whenReadOnly((failure) => (failure ? reject(failure) : resolve())));
    return made;
  };
  const self = (made: never): never => made;
  const wrapped = (made: { pool: Mysql2Pool }): Mysql2Pool => made.pool;
  const wrappedCluster = (made: { poolCluster: Mysql2PoolCluster }): Mysql2PoolCluster => made.poolCluster;

  const overrides: Record<string, Factory> =
    typeof module.PromisePool === 'function'
      ? {
          createConnection: promiseConnected('createConnection'),
          createPool: pooled('createPool', wrapped),
          createPoolCluster: clustered('createPoolCluster', wrappedCluster),
        }
      : {
          createConnection: connected('createConnection'),
          connect: connected('createConnection'),
          createPool: pooled('createPool', self),
          createPoolCluster: clustered('createPoolCluster', self),
          // The promise factories of the callback module make core objects too.
          createConnectionPromise: promiseConnected('createConnectionPromise'),
          createPoolPromise: pooled('createPoolPromise', wrapped),
          createPoolClusterPromise: clustered('createPoolClusterPromise', wrappedCluster),
        };

  return new Proxy(mysql2, {
    get(target, key, receiver) {
      return typeof key === 'string' && Object.hasOwn(overrides, key) ? overrides[key] : Reflect.get(target, key, receiver);
    },
  });
}

import { MirrorGuardError } from '@mirrorguard/core';
import { resolveGuardOptions, type GuardMysql2Options } from '../policy/guard-options.ts';
import { StatementPolicy } from '../policy/statement-policy.ts';
import { withoutUnsafeOptions } from './client-flags.ts';
import { guardPool, guardPoolCluster, guardStandaloneConnection } from './guard-pool.ts';
import type { Mysql2Connection, Mysql2Pool, Mysql2PoolCluster } from './mysql2-shapes.ts';

type AnyFunction = (...args: never[]) => unknown;
type ModuleShape = Record<string, unknown> & { createPool: AnyFunction; createConnection: AnyFunction };

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
  const module = mysql2 as unknown as ModuleShape;
  if (typeof module?.createPool !== 'function' || typeof module.createConnection !== 'function') {
    throw unsupported('guardMysql2 expects the mysql2 module (require("mysql2") or require("mysql2/promise"))');
  }
  const policy = new StatementPolicy(resolveGuardOptions(options));
  const isPromiseModule = typeof module.PromisePool === 'function';
  const call = (name: string, args: unknown[]): unknown => (module[name] as (...values: unknown[]) => unknown)(...args);
  const safeArgs = (args: unknown[]): unknown[] => [withoutUnsafeOptions(args[0]), ...args.slice(1)];

  const guardConnection = (connection: unknown): unknown => {
    guardStandaloneConnection(connection as Mysql2Connection, policy);
    return connection;
  };
  const overrides: Record<string, unknown> = isPromiseModule
    ? {
        async createConnection(...args: unknown[]) {
          const promiseConnection = (await call('createConnection', safeArgs(args))) as { connection: Mysql2Connection; end(): Promise<void> };
          const guard = guardStandaloneConnection(promiseConnection.connection, policy);
          await new Promise<void>((resolve, reject) => guard.whenReadOnly((failure) => (failure ? reject(failure) : resolve())));
          return promiseConnection;
        },
        createPool(...args: unknown[]) {
          const promisePool = call('createPool', safeArgs(args)) as { pool: Mysql2Pool };
          guardPool(promisePool.pool, policy);
          return promisePool;
        },
        createPoolCluster(...args: unknown[]) {
          const promiseCluster = call('createPoolCluster', args) as { poolCluster: Mysql2PoolCluster };
          guardPoolCluster(promiseCluster.poolCluster, policy);
          return promiseCluster;
        },
      }
    : {
        createConnection: (...args: unknown[]) => guardConnection(call('createConnection', safeArgs(args))),
        connect: (...args: unknown[]) => guardConnection(call('createConnection', safeArgs(args))),
        createPool(...args: unknown[]) {
          const pool = call('createPool', safeArgs(args)) as Mysql2Pool;
          guardPool(pool, policy);
          return pool;
        },
        createPoolCluster(...args: unknown[]) {
          const cluster = call('createPoolCluster', args) as Mysql2PoolCluster;
          guardPoolCluster(cluster, policy);
          return cluster;
        },
        // The promise factories of the callback module make core objects too.
        createConnectionPromise: (...args: unknown[]) => guardMysql2Promise(module, policy, 'createConnection', args),
        createPoolPromise(...args: unknown[]) {
          const promisePool = call('createPoolPromise', safeArgs(args)) as { pool: Mysql2Pool };
          guardPool(promisePool.pool, policy);
          return promisePool;
        },
        createPoolClusterPromise(...args: unknown[]) {
          const promiseCluster = call('createPoolClusterPromise', args) as { poolCluster: Mysql2PoolCluster };
          guardPoolCluster(promiseCluster.poolCluster, policy);
          return promiseCluster;
        },
      };

  return new Proxy(mysql2, {
    get(target, key, receiver) {
      return typeof key === 'string' && Object.hasOwn(overrides, key) ? overrides[key] : Reflect.get(target, key, receiver);
    },
  });
}

async function guardMysql2Promise(module: ModuleShape, policy: StatementPolicy, name: string, args: unknown[]): Promise<unknown> {
  const promiseConnection = (await (module[`${name}Promise`] as (...values: unknown[]) => Promise<{ connection: Mysql2Connection }>)(
    withoutUnsafeOptions(args[0]),
  )) as { connection: Mysql2Connection };
  const guard = guardStandaloneConnection(promiseConnection.connection, policy);
  await new Promise<void>((resolve, reject) => guard.whenReadOnly((failure) => (failure ? reject(failure) : resolve())));
  return promiseConnection;
}

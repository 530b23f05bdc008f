import { MirrorGuardError } from '@mirrorguard/core';
import { resolveGuardOptions, type GuardMysql2Options } from '../policy/guard-options.ts';
import { StatementPolicy } from '../policy/statement-policy.ts';
import { CharsetPin } from './charset-pin.ts';
import { withoutUnsafeOptions } from './client-flags.ts';
import type { ConnectionRules } from './guard-connection.ts';
import { guardPool, guardPoolCluster, guardStandaloneConnection } from './guard-pool.ts';
import type { Mysql2Connection, Mysql2Pool, Mysql2PoolCluster } from './mysql2-shapes.ts';

type Factory = (...args: unknown[]) => unknown;

const unsupported = (message: string): Error => new MirrorGuardError('MG_ERR_DB_UNSUPPORTED_DRIVER', message);

/**
 * Exports of mysql2 and mysql2/promise that make no connection and pass through unchanged. Every
 * other function or class the module exports is either guarded below or refused when called: a
 * mysql2 release that adds an entry point gets no unguarded way in.
 */
export const PASS_THROUGH_EXPORTS: ReadonlySet<string> = new Set([
  'escape',
  'escapeId',
  'format',
  'raw',
  'Types',
  'TypedParameter',
  'Charsets',
  'CharsetToEncoding',
  'setMaxParserCache',
  'clearParserCache',
  'authPlugins',
  'ConnectionConfig',
  // A command object; it reaches a server only through a guarded connection's queue.
  'createQuery',
]);

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
  const resolved = resolveGuardOptions(options);
  const policy = new StatementPolicy(resolved);
  const rules: ConnectionRules = { policy, charset: new CharsetPin(module.Charsets as Record<string, number> | undefined, resolved.journal) };
  const original = (name: string): Factory => module[name] as Factory;
  const safe = (args: unknown[]): unknown[] => [withoutUnsafeOptions(args[0]), ...args.slice(1)];

  // Each factory makes the same object as mysql2's, guarded before the caller sees it. `pick`
  // reaches the core object inside a promise wrapper.
  const pooled = (name: string, pick: (made: never) => Mysql2Pool): Factory => (...args) => {
    const made = original(name)(...safe(args));
    guardPool(pick(made as never), rules);
    return made;
  };
  const clustered = (name: string, pick: (made: never) => Mysql2PoolCluster): Factory => (...args) => {
    const made = original(name)(...args);
    guardPoolCluster(pick(made as never), rules);
    return made;
  };
  const connected = (name: string): Factory => (...args) => {
    const connection = original(name)(...safe(args)) as Mysql2Connection;
    guardStandaloneConnection(connection, rules);
    return connection;
  };
  // A promise connection is handed over only once its session is confirmed read-only.
  const promiseConnected = (name: string): Factory => async (...args) => {
    const made = (await original(name)(...safe(args))) as { connection: Mysql2Connection };
    const guard = guardStandaloneConnection(made.connection, rules);
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

  // The exported classes: an object made with `new` is guarded as the factories guard theirs. The
  // promise wrappers guard the core object they wrap.
  const constructed = (guard: (made: Record<string, unknown>) => void) => (Class: Factory): Factory =>
    new Proxy(Class, {
      construct(target, args, newTarget) {
        const made = Reflect.construct(target, args, newTarget) as Record<string, unknown>;
        guard(made);
        return made;
      },
    });
  const classes: Record<string, (Class: Factory) => Factory> = {
    Connection: constructed((made) => void guardStandaloneConnection(made as never, rules)),
    PoolConnection: constructed((made) => void guardStandaloneConnection(made as never, rules)),
    Pool: constructed((made) => guardPool(made as never, rules)),
    PoolCluster: constructed((made) => guardPoolCluster(made as never, rules)),
    PromiseConnection: constructed((made) => void guardStandaloneConnection(made.connection as never, rules)),
    PromisePoolConnection: constructed((made) => void guardStandaloneConnection(made.connection as never, rules)),
    PromisePool: constructed((made) => guardPool(made.pool as never, rules)),
  };
  const refused = (name: string): Factory => {
    const refuse = (): never => {
      throw unsupported(`mysql2.${name} is not guarded by @mirrorguard/db-readonly: use createConnection, createPool or createPoolCluster`);
    };
    return new Proxy(function refusedExport() {}, { apply: refuse, construct: refuse });
  };
  const cache = new Map<string, unknown>();

  return new Proxy(mysql2, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return value;
      if (Object.hasOwn(overrides, key)) return overrides[key];
      if (typeof value !== 'function' || PASS_THROUGH_EXPORTS.has(key)) return value;
      let replaced = cache.get(key);
      if (replaced === undefined) {
        replaced = Object.hasOwn(classes, key) ? classes[key]!(value as Factory) : refused(key);
        cache.set(key, replaced);
      }
      return replaced;
    },
  });
}

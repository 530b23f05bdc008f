import { bindRequestContext, MirrorGuardError } from '@mirrorguard/core';
import type { StatementPolicy } from '../policy/statement-policy.ts';
import { AccountCheck } from '../server/account-check.ts';
import { clearUnsafeFlags, withoutUnsafeOptions } from './client-flags.ts';
import { ConnectionGuard } from './guard-connection.ts';
import { assertShape, type Mysql2Connection, type Mysql2Pool, type Mysql2PoolCluster } from './mysql2-shapes.ts';

const unsupported = (message: string): Error => new MirrorGuardError('MG_ERR_DB_UNSUPPORTED_DRIVER', message);
const GUARDED = new WeakSet<object>();

/**
 * Guards a core mysql2 pool: every connection it hands out (to the app, and to its own query and
 * execute) is guarded and confirmed read-only first. The callback is bound to the caller's request
 * context: a pool may hand a freed connection to a waiter from inside another request's release.
 */
export function guardPool(pool: Mysql2Pool, policy: StatementPolicy): void {
  if (GUARDED.has(pool)) return;
  assertShape(
    typeof pool?.getConnection === 'function' && typeof pool.config?.connectionConfig?.clientFlags === 'number',
    'the pool',
    unsupported,
  );
  GUARDED.add(pool);
  clearUnsafeFlags(pool.config.connectionConfig);
  const account = new AccountCheck(policy.options);
  const getConnection = pool.getConnection;
  pool.getConnection = function guardedGetConnection(this: Mysql2Pool, callback) {
    const resume = bindRequestContext(callback);
    return getConnection.call(this, (error: unknown, connection?: Mysql2Connection) => {
      if (error || connection === undefined) return resume(error);
      ConnectionGuard.of(connection, policy, account).whenReadOnly((failure) => (failure ? resume(failure) : resume(null, connection)));
    });
  };
}

/**
 * Guards a core pool cluster: each pool it holds, including those added later. Every acquisition —
 * getConnection, a namespace's query or execute, the promise wrapper (whose `add` calls the
 * prototype, past any wrapper on the instance) — passes `_getConnection`, where the node's pool is
 * guarded before its first connection is made.
 */
export function guardPoolCluster(cluster: Mysql2PoolCluster, policy: StatementPolicy): void {
  if (GUARDED.has(cluster)) return;
  assertShape(
    typeof cluster?.add === 'function' && typeof cluster._getConnection === 'function' && typeof cluster._nodes === 'object',
    'the pool cluster',
    unsupported,
  );
  GUARDED.add(cluster);
  const getConnection = cluster._getConnection;
  cluster._getConnection = function guardedGetConnection(this: Mysql2PoolCluster, node, callback) {
    guardPool(node.pool, policy);
    return getConnection.call(this, node, callback);
  };
  const add = cluster.add;
  cluster.add = function guardedAdd(this: Mysql2PoolCluster, ...args: unknown[]) {
    // add(config) or add(id, config)
    const safe = args.length >= 2 ? [args[0], withoutUnsafeOptions(args[1])] : [withoutUnsafeOptions(args[0])];
    const result = add.apply(this, safe);
    for (const node of Object.values(this._nodes ?? {})) guardPool(node.pool, policy);
    return result;
  };
  for (const node of Object.values(cluster._nodes ?? {})) guardPool(node.pool, policy);
}

/** Guards a connection made on its own (not from a pool). */
export function guardStandaloneConnection(connection: Mysql2Connection, policy: StatementPolicy): ConnectionGuard {
  assertShape(
    typeof connection?.addCommand === 'function' && typeof connection.config?.clientFlags === 'number',
    'the connection',
    unsupported,
  );
  return ConnectionGuard.of(connection, policy, new AccountCheck(policy.options));
}

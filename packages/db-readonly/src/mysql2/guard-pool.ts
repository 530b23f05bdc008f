import { bindRequestContext, MirrorGuardError } from '@mirrorguard/core';
import { AccountCheck } from '../server/account-check.ts';
import { clearUnsafeFlags, withoutUnsafeOptions } from './client-flags.ts';
import { ConnectionGuard, type ConnectionRules } from './guard-connection.ts';
import { assertShape, type Mysql2Connection, type Mysql2Pool, type Mysql2PoolCluster } from './mysql2-shapes.ts';

const unsupported = (message: string): Error => new MirrorGuardError('MG_ERR_DB_UNSUPPORTED_DRIVER', message);
const GUARDED = new WeakSet<object>();

// Pool events that hand a listener a connection: 'connection' and 'acquire' carry one, and so may
// any event a later mysql2 adds; each is guarded before any listener sees it.
const isConnection = (value: unknown): value is Mysql2Connection =>
  typeof value === 'object' && value !== null && typeof (value as Mysql2Connection).addCommand === 'function';

/**
 * Guards a core mysql2 pool: every connection it makes is guarded the moment it is made (before
 * its handshake, before any 'connection' or 'acquire' listener or callback sees it), and handed to
 * a getConnection callback only once confirmed read-only. The callback is bound to the caller's
 * request context: a pool may hand a freed connection to a waiter from inside another request's release.
 */
export function guardPool(pool: Mysql2Pool, rules: ConnectionRules): void {
  if (GUARDED.has(pool)) return;
  assertShape(
    typeof pool?.getConnection === 'function' &&
      typeof pool.config?.connectionConfig?.clientFlags === 'number' &&
      typeof pool._allConnections?.push === 'function',
    'the pool',
    unsupported,
  );
  GUARDED.add(pool);
  clearUnsafeFlags(pool.config.connectionConfig);
  rules.charset.pin(pool.config.connectionConfig);
  const account = new AccountCheck(rules.policy.options);
  const guard = (connection: Mysql2Connection): ConnectionGuard => ConnectionGuard.of(connection, rules, account);
  // Every connection the pool makes is pushed here right after it is constructed.
  const all = pool._allConnections;
  const push = all.push;
  all.push = function guardedPush(this: unknown, ...connections: unknown[]) {
    for (const connection of connections) if (isConnection(connection)) guard(connection);
    return push.apply(this, connections);
  };
  for (const connection of all.toArray?.() ?? []) if (isConnection(connection)) guard(connection);
  const emit = pool.emit;
  pool.emit = function guardedEmit(this: Mysql2Pool, event: string | symbol, ...args: unknown[]) {
    for (const arg of args) if (isConnection(arg)) guard(arg);
    return emit.call(this, event, ...args);
  };
  const getConnection = pool.getConnection;
  pool.getConnection = function guardedGetConnection(this: Mysql2Pool, callback) {
    const resume = bindRequestContext(callback);
    return getConnection.call(this, (error: unknown, connection?: Mysql2Connection) => {
      if (error || connection === undefined) return resume(error);
      guard(connection).whenReadOnly((failure) => (failure ? resume(failure) : resume(null, connection)));
    });
  };
}

/**
 * Guards a core pool cluster: each pool it holds, including those added later. Every acquisition —
 * getConnection, a namespace's query or execute, the promise wrapper (whose `add` calls the
 * prototype, past any wrapper on the instance) — passes `_getConnection`, where the node's pool is
 * guarded before its first connection is made.
 */
export function guardPoolCluster(cluster: Mysql2PoolCluster, rules: ConnectionRules): void {
  if (GUARDED.has(cluster)) return;
  assertShape(
    typeof cluster?.add === 'function' && typeof cluster._getConnection === 'function' && typeof cluster._nodes === 'object',
    'the pool cluster',
    unsupported,
  );
  GUARDED.add(cluster);
  const getConnection = cluster._getConnection;
  cluster._getConnection = function guardedGetConnection(this: Mysql2PoolCluster, node, callback) {
    guardPool(node.pool, rules);
    return getConnection.call(this, node, callback);
  };
  const add = cluster.add;
  cluster.add = function guardedAdd(this: Mysql2PoolCluster, ...args: unknown[]) {
    // add(config) or add(id, config)
    const safe = args.length >= 2 ? [args[0], withoutUnsafeOptions(args[1])] : [withoutUnsafeOptions(args[0])];
    const result = add.apply(this, safe);
    for (const node of Object.values(this._nodes ?? {})) guardPool(node.pool, rules);
    return result;
  };
  for (const node of Object.values(cluster._nodes ?? {})) guardPool(node.pool, rules);
}

/** Guards a connection made on its own (not from a pool). */
export function guardStandaloneConnection(connection: Mysql2Connection, rules: ConnectionRules): ConnectionGuard {
  assertShape(
    typeof connection?.addCommand === 'function' && typeof connection.config?.clientFlags === 'number',
    'the connection',
    unsupported,
  );
  return ConnectionGuard.of(connection, rules, new AccountCheck(rules.policy.options));
}

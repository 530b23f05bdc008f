import { bindRequestContext, type Journal } from '@mirrorguard/core';
import { classifyStatement } from '../classifier/classify-statement.ts';
import type { Mysql2Command, Mysql2Connection, Mysql2Pool } from './mysql2-shapes.ts';

export interface RecordMysql2Options {
  /** Where each write is journaled as `recorded`. */
  readonly journal: Journal;
  readonly dialect?: 'mysql' | 'mariadb';
}

type Factory = (...args: unknown[]) => unknown;
const OBSERVED = new WeakSet<object>();

/** Journals each statement a connection sends that is not a read, in the caller's request context, as it is queued. */
function observe(connection: Mysql2Connection, options: RecordMysql2Options): void {
  if (OBSERVED.has(connection) || typeof connection?.addCommand !== 'function') return;
  OBSERVED.add(connection);
  const addCommand = connection.addCommand.bind(connection);
  connection.addCommand = (command: Mysql2Command) => {
    const sql = command.sql;
    if (typeof sql === 'string') {
      const verdict = classifyStatement(sql, { dialect: options.dialect ?? 'mysql' });
      // Transactions and session settings are how writes are made, not writes: only the rest is journaled.
      if (verdict.kind !== 'read' && verdict.kind !== 'transaction' && verdict.kind !== 'session') {
        options.journal.record({ dependency: 'db', action: 'recorded', operation: sql, reason: `${verdict.keyword || verdict.kind} sent to the database` });
      }
    }
    return addCommand(command);
  };
}

function observePool(pool: Mysql2Pool, options: RecordMysql2Options): void {
  if (OBSERVED.has(pool) || typeof pool?.getConnection !== 'function') return;
  OBSERVED.add(pool);
  const getConnection = pool.getConnection;
  pool.getConnection = function observedGetConnection(this: Mysql2Pool, callback) {
    const resume = bindRequestContext(callback);
    return getConnection.call(this, (error: unknown, connection?: Mysql2Connection) => {
      if (connection !== undefined) observe(connection, options);
      resume(error, connection);
    });
  };
}

/**
 * The primary's side of the side-effect diff: the mysql2 module (callback or promise), unchanged in
 * behaviour, whose connections and pools journal every statement that is not a read (`recorded`,
 * the SQL exactly as sent), so `mirrorguard diff` can set it against what the mirror blocked or
 * simulated. Pass it as TypeORM's `driver` (the provider does so in the `record` profile).
 */
export function recordMysql2<M extends object>(mysql2: M, options: RecordMysql2Options): M {
  const module = mysql2 as unknown as Record<string, Factory>;
  const promise = typeof (mysql2 as { PromisePool?: unknown }).PromisePool === 'function';
  const overrides: Record<string, Factory> = {
    createPool: (...args) => {
      const made = module.createPool!(...args) as Mysql2Pool & { pool?: Mysql2Pool };
      observePool(promise ? made.pool! : made, options);
      return made;
    },
    createConnection: promise
      ? async (...args) => {
          const made = (await module.createConnection!(...args)) as { connection: Mysql2Connection };
          observe(made.connection, options);
          return made;
        }
      : (...args) => {
          const made = module.createConnection!(...args) as Mysql2Connection;
          observe(made, options);
          return made;
        },
  };
  return new Proxy(mysql2, {
    get(target, key, receiver) {
      return typeof key === 'string' && Object.hasOwn(overrides, key) ? overrides[key] : Reflect.get(target, key, receiver);
    },
  });
}

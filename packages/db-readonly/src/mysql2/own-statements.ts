import { MirrorGuardError } from '@mirrorguard/core';
import { assertShape, type Callback, type Mysql2Command, type Mysql2Connection } from './mysql2-shapes.ts';

// The guard's own statements (its pins, read-backs and checks) decide whether the session is safe,
// so nothing app code can reach may stand between the guard and mysql2's queue. They are not sent
// through the connection's query(), format(), addCommand() or config, which app code can replace on
// the instance at any time: the Query command is made by mysql2's own static createQuery, taken from
// the connection's class when the guard is installed (before app code holds the connection), and
// handed to the guard's queue directly; its timeout is the connectTimeout of that moment.

/** mysql2's `Connection.createQuery(options, callback, undefined, config)`: a Query command, not queued. */
type CreateQuery = (options: object, callback: Callback, unused: undefined, config: object) => Mysql2Command;

/** Makes one of the guard's own statements, as a Query command ready for the guard's queue. */
export type MakeOwnStatement = (sql: string, callback: Callback) => Mysql2Command;

/** What mysql2's createQuery reads from a config: nothing the guard's statements use. */
const NO_CONFIG: object = Object.freeze({});

const unsupported = (message: string): Error => new MirrorGuardError('MG_ERR_DB_UNSUPPORTED_DRIVER', message);

/** Takes what the guard's own statements need from `connection` as it is now. */
export function ownStatements(connection: Mysql2Connection): MakeOwnStatement {
  const Class = (Object.getPrototypeOf(connection) as { constructor?: { createQuery?: unknown } } | null)?.constructor;
  const createQuery = Class?.createQuery;
  assertShape(typeof createQuery === 'function', 'the connection\'s class (no static createQuery)', unsupported);
  const make = createQuery as CreateQuery;
  // Bounded like a handshake: a server that stops answering the guard's own statements fails them.
  const timeout = (connection.config as { connectTimeout?: number }).connectTimeout || 10_000;
  return (sql, callback) => make.call(Class, { sql, rowsAsArray: true, typeCast: true, nestTables: false, timeout }, callback, undefined, NO_CONFIG);
}

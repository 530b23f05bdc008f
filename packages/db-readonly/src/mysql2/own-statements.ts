import { MirrorGuardError } from '@mirrorguard/core';
import { assertShape, type Callback, type Mysql2Command, type Mysql2Connection } from './mysql2-shapes.ts';
import type { OwnReply } from './wire-check.ts';

// The guard's own statements (its pins, read-backs and checks) decide whether the session is safe,
// so nothing app code can reach may stand between the guard and mysql2's queue. They are not sent
// through the connection's query(), format(), addCommand() or config, which app code can replace on
// the instance at any time: the Query command is made by mysql2's own static createQuery, taken from
// the connection's class when the guard is installed (before app code holds the connection), and
// handed to the guard's queue directly; its timeout is the connectTimeout of that moment.
//
// What mysql2 makes of the reply is not trusted either: a typeCast, dateStrings or
// supportBigNumbers in the connection's config (which mysql2 applies to any query whose own
// typeCast is not a function), a wrapped onResult, packets handed to mysql2 from its
// _paused_packets: the guard judges the reply the wire check read from the bytes that arrived
// (WireCheck.replyTo), and mysql2's answer must agree with it (ownReplyDisagreement).

/** mysql2's `Connection.createQuery(options, callback, undefined, config)`: a Query command, not queued. */
type CreateQuery = (options: object, callback: Callback, unused: undefined, config: object) => Mysql2Command;

/** Makes one of the guard's own statements, as a Query command ready for the guard's queue. */
export type MakeOwnStatement = (sql: string, callback: Callback) => Mysql2Command;

/**
 * Each value as the text the server sent (null for NULL): a function of the query's own, so that a
 * config-wide typeCast, dateStrings or supportBigNumbers never applies to the guard's statements.
 */
function asText(field: { string(): unknown }): unknown {
  return field.string();
}

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
  return (sql, callback) => make.call(Class, { sql, rowsAsArray: true, typeCast: asText, nestTables: false, timeout }, callback, undefined, NO_CONFIG);
}

/**
 * Why mysql2's answer to one of the guard's own statements (its callback's error and rows) is not
 * the reply that arrived on the socket; undefined when they agree. Nothing arrived: the statement
 * was never written, or its callback was called before its reply came.
 */
export function ownReplyDisagreement(reply: OwnReply | undefined, error: unknown, rows: unknown): string | undefined {
  if (reply === undefined) return 'an answer to one of the guard\'s own statements with no reply from the server (never written to the socket, or answered before its reply arrived)';
  switch (reply.kind) {
    case 'unreadable':
      return `the reply to one of the guard's own statements could not be read from the socket: ${reply.reason}`;
    case 'error':
      if (error !== null && typeof error === 'object' && (error as { errno?: unknown }).errno === reply.errno) return undefined;
      return `the server answered one of the guard's own statements with error ${reply.errno}, and mysql2 handed back another answer`;
    case 'ok':
      if ((error === null || error === undefined) && !Array.isArray(rows)) return undefined;
      return 'the server answered one of the guard\'s own statements with OK, and mysql2 handed back another answer';
    case 'rows': {
      const sent = reply.rows;
      const same =
        (error === null || error === undefined) &&
        Array.isArray(rows) &&
        rows.length === sent.length &&
        rows.every((row, index) => {
          const values = sent[index]!;
          return Array.isArray(row) && row.length === values.length && row.every((value, column) => (value === null ? values[column] === null : values[column] !== null && String(value) === values[column]));
        });
      return same ? undefined : 'mysql2 handed back rows for one of the guard\'s own statements that are not the rows the server sent';
    }
  }
}

/** The error the server sent in reply to one of the guard's own statements. */
export function ownReplyError(reply: { readonly errno: number; readonly message: string }): Error {
  return Object.assign(new Error(reply.message), { errno: reply.errno, sqlMessage: reply.message });
}

import { MirrorGuardError } from '@mirrorguard/core';
import type { StatementPolicy } from '../policy/statement-policy.ts';
import { AccountCheck } from '../server/account-check.ts';
import { SHOW_GRANTS } from '../server/account-privileges.ts';
import { confirmsReadOnly, SET_READ_ONLY, VERIFY_READ_ONLY } from '../server/read-only-session.ts';
import { clearUnsafeFlags } from './client-flags.ts';
import { answerWithError, answerWithResult, failDetached } from './local-answer.ts';
import type { Mysql2Command, Mysql2Connection } from './mysql2-shapes.ts';

// Commands without SQL text that a read-only client may send. Execute runs a statement that passed
// the classifier when it was prepared; the handshake is queued before the guard is installed.
const COMMANDS_WITHOUT_SQL = new Set(['Execute', 'CloseStatement', 'Ping', 'Quit', 'ResetConnection', 'ChangeUser', 'ClientHandshake']);

interface Queued {
  readonly command: Mysql2Command;
  /** The read-only check: nothing queued after it is sent until it confirms. */
  readonly barrier: boolean;
  /**
   * Answered locally: handed to mysql2 on a later tick, as a server reply would come, so that
   * listeners attached after query() returns (pool.query's release on 'end') see it finish.
   */
  deferred: boolean;
}

const GUARDS = new WeakMap<Mysql2Connection, ConnectionGuard>();

/**
 * Guards one mysql2 connection: every command passes the statement policy at the moment it is
 * queued (synchronously, in the caller's request context), and the session is made read-only
 * before the app's first statement, again after every reset and change of user. Until the server
 * confirms read-only, the app's commands wait in order; a connection that cannot be confirmed is
 * destroyed and its commands fail.
 */
export class ConnectionGuard {
  readonly #connection: Mysql2Connection;
  readonly #policy: StatementPolicy;
  #account: AccountCheck;
  readonly #send: (command: Mysql2Command) => Mysql2Command;
  readonly #queue: Queued[] = [];
  #awaitingConfirmation = false;
  #failure: Error | undefined;
  #waiters: Array<(failure?: Error) => void> = [];
  #nextIsInternal: { barrier: boolean } | undefined;
  #tickScheduled = false;

  private constructor(connection: Mysql2Connection, policy: StatementPolicy, account: AccountCheck) {
    this.#connection = connection;
    this.#policy = policy;
    this.#account = account;
    this.#send = connection.addCommand.bind(connection);
    clearUnsafeFlags(connection.config);
    connection.addCommand = (command) => this.#intercept(command);
    this.#wrapSessionResets();
    this.#routeSimulatedExecutes();
    this.#makeReadOnly();
  }

  /** The guard of `connection`, installed on first use. */
  static of(connection: Mysql2Connection, policy: StatementPolicy, account: AccountCheck): ConnectionGuard {
    let guard = GUARDS.get(connection);
    if (guard === undefined) {
      guard = new ConnectionGuard(connection, policy, account);
      GUARDS.set(connection, guard);
    }
    return guard;
  }

  /** Calls back once the session is confirmed read-only, or with the reason it cannot be. */
  whenReadOnly(callback: (failure?: Error) => void): void {
    if (this.#failure !== undefined) process.nextTick(callback, this.#failure);
    else if (!this.#awaitingConfirmation) callback();
    else this.#waiters.push(callback);
  }

  #intercept(command: Mysql2Command): Mysql2Command {
    const internal = this.#nextIsInternal;
    this.#nextIsInternal = undefined;
    const answeredLocally = internal === undefined && this.#screen(command);
    if (this.#failure !== undefined) {
      failDetached(command, this.#failure);
      return command;
    }
    // The common case: nothing waiting, nothing to defer.
    if (!answeredLocally && !this.#awaitingConfirmation && this.#queue.length === 0) {
      if (internal?.barrier) this.#awaitingConfirmation = true;
      return this.#send(command);
    }
    this.#queue.push({ command, barrier: internal?.barrier ?? false, deferred: answeredLocally });
    this.#pump();
    return command;
  }

  /** Classifies, journals, and answers locally what must not reach the server; true when it did. */
  #screen(command: Mysql2Command): boolean {
    const type = command.constructor.name;
    const sql = type === 'Query' ? command.sql : type === 'Prepare' ? command.query : undefined;
    if (sql === undefined) {
      if (COMMANDS_WITHOUT_SQL.has(type)) return false;
      const error = new MirrorGuardError('MG_ERR_DB_COMMAND_REFUSED', `the ${type} protocol command is not allowed on a read-only connection`);
      this.#policy.options.journal.record({ dependency: 'db', action: 'blocked', operation: `(${type} command)`, reason: error.message });
      answerWithError(command, error);
      return true;
    }
    // A prepared statement's later executions cannot be answered locally, so a Prepare never simulates.
    const decision =
      type === 'Query'
        ? this.#policy.decide(this.#asIntercepted(command, sql), { canSimulate: true })
        : this.#policy.decide(sql, { canSimulate: false });
    if (decision.outcome === 'reject') answerWithError(command, decision.error);
    else if (decision.outcome === 'simulate') answerWithResult(command, decision.result);
    return decision.outcome !== 'pass';
  }

  /** The query with its template and values, when mysql2 filled it in the default way (no custom format, no named placeholders). */
  #asIntercepted(command: Mysql2Command, sql: string): { sql: string; template?: unknown; values?: unknown } {
    const query = command as Mysql2Command & { _queryOptions?: { sql?: unknown }; values?: unknown; namedPlaceholders?: unknown };
    const config = this.#connection.config as { queryFormat?: unknown; namedPlaceholders?: unknown };
    if (typeof config.queryFormat === 'function' || query.namedPlaceholders || config.namedPlaceholders) return { sql };
    return { sql, template: query._queryOptions?.sql, values: query.values };
  }

  #pump(): void {
    while (!this.#awaitingConfirmation && this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (next.deferred) {
        if (!this.#tickScheduled) {
          this.#tickScheduled = true;
          process.nextTick(() => {
            this.#tickScheduled = false;
            next.deferred = false;
            this.#pump();
          });
        }
        return;
      }
      this.#queue.shift();
      if (next.barrier) this.#awaitingConfirmation = true;
      this.#send(next.command);
    }
  }

  #internal(sql: string, barrier: boolean, callback: (error: unknown, rows: unknown) => void): void {
    this.#nextIsInternal = { barrier };
    this.#connection.query({ sql, rowsAsArray: true, typeCast: true, nestTables: false }, callback);
  }

  #makeReadOnly(): void {
    const account = this.#account;
    if (account.needed) {
      this.#internal(SHOW_GRANTS, false, (error, rows) => {
        if (error === null) account.record(rows);
      });
    }
    this.#internal(SET_READ_ONLY, false, () => {});
    this.#internal(VERIFY_READ_ONLY, true, (error, rows) => {
      if (error !== null) return this.#fail(`the server did not confirm read-only: ${(error as Error).message}`, error);
      if (!confirmsReadOnly(rows)) return this.#fail(`the server reports the session is not read-only (${JSON.stringify(rows)})`);
      const refused = account.failure();
      if (refused !== undefined) return this.#fail(refused.message, undefined, refused);
      this.#awaitingConfirmation = false;
      for (const waiter of this.#waiters.splice(0)) waiter();
      this.#pump();
    });
  }

  #fail(message: string, cause?: unknown, error: Error = new MirrorGuardError('MG_ERR_DB_NOT_READ_ONLY', `connection destroyed: ${message}`, { cause })): void {
    this.#failure = error;
    for (const { command } of this.#queue.splice(0)) failDetached(command, error);
    for (const waiter of this.#waiters.splice(0)) waiter(error);
    this.#connection.destroy();
  }

  // execute() prepares before it runs, and a prepared write cannot be simulated. Under the simulate
  // policy a write sent through execute() takes the query path instead (same arguments, same
  // callbacks, promise and stream), where it is answered locally.
  #routeSimulatedExecutes(): void {
    if (this.#policy.options.policy !== 'simulate') return;
    const connection = this.#connection;
    const execute = connection.execute;
    connection.execute = (...args: unknown[]) => {
      const first = args[0];
      const sql = typeof first === 'string' ? first : (first as { sql?: unknown } | undefined)?.sql;
      if (typeof sql === 'string' && this.#policy.simulates(this.#policy.classify(sql, true))) {
        return connection.query(...(args as [object, never]));
      }
      return execute.apply(connection, args);
    };
  }

  // COM_RESET_CONNECTION and COM_CHANGE_USER both reset the session, read-only included: queue the
  // check again right behind them, before anything the app sends next.
  #wrapSessionResets(): void {
    const connection = this.#connection;
    const reset = connection.reset;
    if (typeof reset === 'function') {
      connection.reset = (...args: unknown[]) => {
        const result = reset.apply(connection, args as [never]);
        this.#makeReadOnly();
        return result;
      };
    }
    const changeUser = connection.changeUser;
    connection.changeUser = (...args: unknown[]) => {
      const result = changeUser.apply(connection, args);
      this.#account = new AccountCheck(this.#policy.options);
      this.#makeReadOnly();
      return result;
    };
  }
}

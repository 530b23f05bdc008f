import { bindRequestContext, MirrorGuardError } from '@mirrorguard/core';
import type { LexOptions } from '../classifier/lex-sql.ts';
import type { StatementPolicy } from '../policy/statement-policy.ts';
import { AccountCheck } from '../server/account-check.ts';
import { SHOW_GRANTS, SHOW_PUBLIC_GRANTS } from '../server/account-privileges.ts';
import { SET_READ_ONLY } from '../server/read-only-session.ts';
import { boundStatements, judgeSession, CHECK_AFTER_STATEMENT, judgeAfterStatement, READ_SESSION_STATE, TRACK_SESSION_CHANGES } from '../server/session-state.ts';
import type { CharsetPin } from './charset-pin.ts';
import { clearQueuedHandshakeFlags, clearUnsafeFlags } from './client-flags.ts';
import { answerWithError, answerWithResult, failDetached } from './local-answer.ts';
import { IN_TRANSACTION, SESSION_STATE_CHANGED, watchReplyStatus } from './reply-status-watch.ts';
import type { Mysql2Command, Mysql2Connection } from './mysql2-shapes.ts';
import { ownReplyDisagreement, ownReplyError, ownStatements, type MakeOwnStatement } from './own-statements.ts';
import { WireCheck } from './wire-check.ts';

// Commands without SQL text that a read-only client may send. Execute runs a statement that passed
// the classifier when it was prepared; the handshake is queued before the guard is installed.
const COMMANDS_WITHOUT_SQL = new Set(['Execute', 'CloseStatement', 'Ping', 'Quit', 'ResetConnection', 'ChangeUser', 'ClientHandshake']);

/** What screening decided for one command. */
interface Screened {
  /** Answered locally (refused or simulated): it must not reach the server. */
  readonly local: boolean;
  /** It may change the session's state (a SET): the state is read back before anything else is sent. */
  readonly changesSession: boolean;
  /** A statement the server runs, under readBackEveryStatement: checked (CHECK_AFTER_STATEMENT) before anything else is sent. */
  readonly checked: boolean;
}

const PASSED: Screened = { local: false, changesSession: false, checked: false };
const ANSWERED_LOCALLY: Screened = { local: true, changesSession: false, checked: false };
const CHANGES_SESSION: Screened = { local: false, changesSession: true, checked: false };
const CHECKED: Screened = { local: false, changesSession: false, checked: true };

interface Queued {
  readonly command: Mysql2Command;
  /** A read-back of the session: nothing queued after it is sent until it is judged. */
  readonly barrier: boolean;
  /** An app command not screened yet: screened when its turn comes, in the session state then in force, in its caller's request context. */
  screen: (() => Screened) | undefined;
  /**
   * Answered locally: handed to mysql2 on a later tick, as a server reply would come, so that
   * listeners attached after query() returns (pool.query's release on 'end') see it finish.
   */
  deferred: boolean;
  changesSession: boolean;
  checked: boolean;
}

interface Internal {
  readonly barrier: boolean;
  /** Sent at once, ahead of the app's waiting commands (a read-back's follow-up). */
  readonly direct: boolean;
}

const GUARDS = new WeakMap<Mysql2Connection, ConnectionGuard>();
const HELD_TIMERS = new WeakMap<Mysql2Command, ReturnType<typeof setTimeout>>();

/** What a guard enforces besides the statement policy. */
export interface ConnectionRules {
  readonly policy: StatementPolicy;
  readonly charset: CharsetPin;
}

/**
 * Guards one mysql2 connection. The session is made read-only, pinned to utf8mb4 and bounded in
 * time before the app's first statement, and read back (`READ_SESSION_STATE`) until the server
 * confirms all of it; again after every reset and change of user. Every app command passes the
 * statement policy, lexed as the session's sql_mode reads it; after every SET the session is read
 * back again, and the app's next commands wait, unscreened, until it is judged: a mode the
 * classifier can follow is followed, any other drift destroys the connection.
 */
export class ConnectionGuard {
  readonly #connection: Mysql2Connection;
  readonly #policy: StatementPolicy;
  readonly #rules: ConnectionRules;
  #account: AccountCheck;
  readonly #send: (command: Mysql2Command) => Mysql2Command;
  /** Makes the guard's own statements, past anything on the instance app code can replace. */
  readonly #makeOwn: MakeOwnStatement;
  /** mysql2's own ways to end the connection, taken at install. */
  readonly #destroy: () => void;
  readonly #handleFatalError: ((error: Error) => void) | undefined;
  readonly #queue: Queued[] = [];
  /** Read-backs sent and not yet judged: while any is, the app's commands wait in this guard's queue. */
  #barriers = 0;
  /** Commands already followed by a read-back of their own (the app's SETs, the guard's own statements). */
  readonly #followed = new WeakSet<object>();
  /** Commands taken out of mysql2's queue until a read-back the server's session tracking asked for is judged. */
  readonly #held: Mysql2Command[] = [];
  #confirmedOnce = false;
  #failure: Error | undefined;
  #waiters: Array<(failure?: Error) => void> = [];
  /** Set while the guard's reset() or changeUser() queues its command: the one command that may reset the session. */
  #sessionResetNext = false;
  /** The second layer: what reaches the socket is what this guard approved. */
  readonly #wire: WireCheck;
  #tickScheduled = false;
  /** Ends a transaction that outlives maxTransactionMs; set while the server reports one open. */
  #transactionTimer: ReturnType<typeof setTimeout> | undefined;
  /** How the session lexes statements; unknown (every reading must be harmless) until first read back. */
  #lexing: LexOptions | undefined;

  private constructor(connection: Mysql2Connection, rules: ConnectionRules, account: AccountCheck) {
    this.#connection = connection;
    this.#policy = rules.policy;
    this.#rules = rules;
    this.#account = account;
    this.#send = connection.addCommand.bind(connection);
    this.#makeOwn = ownStatements(connection);
    this.#destroy = connection.destroy.bind(connection);
    const handleFatalError = (connection as { _handleFatalError?: unknown })._handleFatalError;
    this.#handleFatalError = typeof handleFatalError === 'function' ? (handleFatalError.bind(connection) as (error: Error) => void) : undefined;
    clearUnsafeFlags(connection.config);
    clearQueuedHandshakeFlags(connection);
    rules.charset.pin(connection.config);
    this.#wire = WireCheck.install(connection, { journal: rules.policy.options.journal, refuse: (error) => this.#failWith(error) });
    // Set from the config when the connection was made, before the pin.
    (connection as { clientEncoding?: string }).clientEncoding = 'utf8';
    connection.addCommand = (command) => this.#intercept(command);
    watchReplyStatus(
      connection,
      (status, command) => {
        if ((status & SESSION_STATE_CHANGED) !== 0) this.#sessionChanged(command);
        this.#boundTransaction((status & IN_TRANSACTION) !== 0);
      },
      (command) => this.#sessionChanged(command),
    );
    this.#wrapSessionResets();
    this.#routeSimulatedExecutes();
    this.#returnHeldOnFatalError();
    this.#makeReadOnlyWhenConnected();
  }

  /** The guard of `connection`, installed on first use. */
  static of(connection: Mysql2Connection, rules: ConnectionRules, account: AccountCheck): ConnectionGuard {
    let guard = GUARDS.get(connection);
    if (guard === undefined) {
      guard = new ConnectionGuard(connection, rules, account);
      GUARDS.set(connection, guard);
    }
    return guard;
  }

  /** Calls back once the session is confirmed read-only, or with the reason it cannot be. */
  whenReadOnly(callback: (failure?: Error) => void): void {
    if (this.#failure !== undefined) process.nextTick(callback, this.#failure);
    // Once confirmed, the app's commands queue behind any later read-back: handing the connection out is safe.
    else if (this.#confirmedOnce) callback();
    else this.#waiters.push(callback);
  }

  /** Every command queued on the connection; `internal` (with its SQL) only for the guard's own, which never pass the instance. */
  #intercept(command: Mysql2Command, internal?: Internal, internalSql = ''): Mysql2Command {
    if (this.#sessionResetNext) {
      this.#sessionResetNext = false;
      this.#wire.allowSessionReset(command);
    }
    if (this.#failure !== undefined) {
      failDetached(command, this.#failure);
      return command;
    }
    if (internal !== undefined) {
      this.#followed.add(command);
      this.#wire.approveInternal(command, internalSql);
    }
    if (internal?.direct) {
      if (internal.barrier) this.#barriers += 1;
      return this.#send(command);
    }
    // The common case: nothing waiting, so the command is screened now, in the session state in force.
    if (this.#barriers === 0 && this.#queue.length === 0) {
      const screened = internal === undefined ? this.#screen(command) : PASSED;
      if (!screened.local) {
        if (internal?.barrier) this.#barriers += 1;
        this.#send(command);
        this.#followUp(screened);
        return command;
      }
      this.#queue.push({ command, barrier: false, screen: undefined, deferred: true, changesSession: false, checked: false });
      this.#pump();
      return command;
    }
    const screen = internal === undefined ? bindRequestContext(() => this.#screen(command)) : undefined;
    const entry: Queued = { command, barrier: internal?.barrier ?? false, screen, deferred: false, changesSession: false, checked: false };
    this.#queue.push(entry);
    if (internal === undefined) this.#startTimeoutWhileHeld(entry);
    this.#pump();
    return command;
  }

  /** Classifies, journals, and answers locally what must not reach the server. */
  #screen(command: Mysql2Command): Screened {
    const type = command.constructor.name;
    const sql = type === 'Query' ? command.sql : type === 'Prepare' ? command.query : undefined;
    if (sql === undefined) {
      if (type === 'ChangeUser' && !this.#rules.charset.allows((command as { charsetNumber?: unknown }).charsetNumber)) {
        return this.#refuseCommand(command, '(ChangeUser command)', 'changeUser() with a character set other than utf8mb4: a guarded connection speaks utf8mb4');
      }
      if (COMMANDS_WITHOUT_SQL.has(type)) {
        this.#wire.approveCommand(command, type);
        return type === 'Execute' ? this.#passStatement() : PASSED;
      }
      return this.#refuseCommand(command, `(${type} command)`, `the ${type} protocol command is not allowed on a read-only connection`);
    }
    // A prepared statement's later executions cannot be answered locally, so a Prepare never simulates.
    const lexing = this.#lexing;
    const decision =
      type === 'Query'
        ? this.#policy.decide(this.#asIntercepted(command, sql), { canSimulate: true, lexing })
        : this.#policy.decide(sql, { canSimulate: false, prepared: true, lexing });
    if (decision.outcome === 'pass') this.#wire.approveStatement(command, type === 'Query', sql);
    if (decision.outcome === 'reject') answerWithError(command, decision.error);
    else if (decision.outcome === 'simulate') answerWithResult(command, decision.result);
    else if (!decision.changesSession) return type === 'Query' ? this.#passStatement() : PASSED;
    else {
      this.#followed.add(command);
      return CHANGES_SESSION;
    }
    return ANSWERED_LOCALLY;
  }

  /** A statement the server will run: with readBackEveryStatement, it is checked after it runs. */
  #passStatement(): Screened {
    return this.#policy.options.readBackEveryStatement ? CHECKED : PASSED;
  }

  #refuseCommand(command: Mysql2Command, operation: string, reason: string): Screened {
    const error = new MirrorGuardError('MG_ERR_DB_COMMAND_REFUSED', reason);
    this.#policy.options.journal.record({ dependency: 'db', action: 'blocked', operation, reason });
    answerWithError(command, error);
    return ANSWERED_LOCALLY;
  }

  /** The query with its template and values, when mysql2 filled it in the default way (no custom format, no named placeholders). */
  #asIntercepted(command: Mysql2Command, sql: string): { sql: string; template?: unknown; values?: unknown } {
    const query = command as Mysql2Command & { _queryOptions?: { sql?: unknown }; values?: unknown; namedPlaceholders?: unknown };
    const config = this.#connection.config as { queryFormat?: unknown; namedPlaceholders?: unknown };
    if (typeof config.queryFormat === 'function' || query.namedPlaceholders || config.namedPlaceholders) return { sql };
    return { sql, template: query._queryOptions?.sql, values: query.values };
  }

  #pump(): void {
    while (this.#barriers === 0 && this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (next.screen !== undefined) {
        const screened = next.screen();
        next.screen = undefined;
        next.deferred = screened.local;
        next.changesSession = screened.changesSession;
        next.checked = screened.checked;
      }
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
      clearTimeout(HELD_TIMERS.get(next.command));
      if (next.barrier) this.#barriers += 1;
      this.#send(next.command);
      this.#followUp(next);
    }
  }

  /** What must follow a command just handed to mysql2, before anything else is sent. */
  #followUp(screened: { readonly changesSession: boolean; readonly checked: boolean }): void {
    if (screened.changesSession) this.#readBack();
    else if (screened.checked) this.#checkAfterStatement();
  }

  /**
   * mysql2 starts a query's own `timeout` when it sends the query; one this guard holds (behind a
   * read-back) is timed from when the app queued it, and times out as mysql2 would time it out.
   */
  #startTimeoutWhileHeld(entry: Queued): void {
    const command = entry.command as Mysql2Command & { timeout?: number; _handleTimeoutError?: () => void };
    if (!(typeof command.timeout === 'number' && command.timeout > 0) || typeof command._handleTimeoutError !== 'function') return;
    const timer = setTimeout(() => {
      const at = this.#queue.indexOf(entry);
      if (at === -1) return;
      this.#queue.splice(at, 1);
      command._handleTimeoutError!();
      // As a timed-out query does once its turn would have come: a pool releases its connection on 'end'.
      command.emit('end');
    }, command.timeout);
    HELD_TIMERS.set(command, timer);
  }

  /**
   * Queues one of the guard's own statements. What it judges is the reply the wire check read from
   * the bytes that arrived on the socket after the statement's packet was written, never what
   * mysql2 hands its callback (a config's typeCast, a wrapped onResult, packets fed to mysql2 could
   * change that): mysql2's answer only says when, and must agree with the bytes, or the connection
   * fails. `callback` gets the server's error, or its rows as text (arrays of string or null).
   */
  #internal(sql: string, internal: Internal, callback: (error: unknown, rows: unknown) => void): Mysql2Command {
    const command = this.#makeOwn(sql, (error, rows) => {
      // Once the connection has failed, its commands are answered locally, with the failure.
      if (this.#failure !== undefined) return callback(error, rows);
      const reply = this.#wire.replyTo(command);
      // A server that stopped answering: mysql2's own timeout of the statement, and nothing arrived.
      if (reply === undefined && (error as { code?: unknown } | null)?.code === 'PROTOCOL_SEQUENCE_TIMEOUT' && this.#wire.wasSent(command)) {
        return this.#fail(`the server did not answer the guard's own statement: ${(error as Error).message}`, error);
      }
      const disagreement = ownReplyDisagreement(reply, error, rows);
      if (disagreement !== undefined) {
        this.#policy.options.journal.record({ dependency: 'db', action: 'blocked', operation: '(guard statement)', reason: disagreement });
        return this.#failWith(new MirrorGuardError('MG_ERR_DB_WIRE_REFUSED', `connection destroyed: ${disagreement}`));
      }
      if (reply!.kind === 'error') return callback(ownReplyError(reply!), undefined);
      callback(null, reply!.kind === 'rows' ? reply!.rows : []);
    });
    return this.#intercept(command, internal, sql);
  }

  /**
   * After a statement, under readBackEveryStatement: the named locks it took are released and
   * counted, and session tracking must still be on (or what it changed would go unflagged), before
   * anything else is sent. A reply the server flags is read back in full as well (#sessionChanged).
   */
  #checkAfterStatement(): void {
    this.#internal(CHECK_AFTER_STATEMENT, { barrier: true, direct: true }, (error, rows) => {
      this.#barriers -= 1;
      const unsafe = error !== null ? `the session could not be checked: ${(error as Error).message}` : judgeAfterStatement(rows);
      if (unsafe !== undefined) {
        this.#policy.options.journal.record({ dependency: 'db', action: 'blocked', operation: '(after statement)', reason: unsafe });
        return this.#fail(unsafe, error ?? undefined, 'MG_ERR_DB_SESSION_UNSAFE');
      }
      if (this.#barriers === 0) for (const held of this.#held.splice(0)) this.#send(held);
      this.#pump();
    });
  }

  /**
   * After a SET: the session is read back before anything else is sent, and judged. Under
   * readBackEveryStatement the SET is checked first too (it may call a stored function).
   */
  #readBack(): Mysql2Command {
    if (this.#policy.options.readBackEveryStatement) this.#checkAfterStatement();
    return this.#internal(READ_SESSION_STATE, { barrier: true, direct: true }, (error, rows) => {
      this.#barriers -= 1;
      if (error !== null) return this.#fail(`the session could not be read back: ${(error as Error).message}`, error);
      const judgement = judgeSession(rows, this.#policy.options);
      if (judgement.verdict !== 'safe') {
        const reason = judgement.verdict === 'unsafe' ? judgement.reason : judgement.reasons.join('; ');
        return this.#fail(`the session changed behind the guard: ${reason}`, undefined, 'MG_ERR_DB_SESSION_UNSAFE');
      }
      this.#lexing = judgement.lexing;
      for (const held of this.#held.splice(0)) this.#send(held);
      this.#pump();
    });
  }

  /**
   * The server flagged a statement's reply as having changed the session (a stored function that
   * set the isolation level, say). Commands already in mysql2's queue are held back, the read-back
   * goes next, and they follow only once it is judged safe: none runs in a state the guard has not seen.
   */
  #sessionChanged(command: unknown): void {
    if (this.#failure !== undefined || this.#followed.has(command as object)) return;
    const commands = (this.#connection as unknown as { _commands: { length: number; shift(): Mysql2Command | undefined } })._commands;
    while (commands.length > 0) this.#held.push(commands.shift()!);
    this.#readBack();
  }

  /**
   * A transaction holds metadata locks the primary's DDL waits on, however busy it keeps its
   * connection: one the server reports open longer than maxTransactionMs ends with its connection
   * (the server rolls it back and releases its locks).
   */
  #boundTransaction(open: boolean): void {
    const limit = this.#policy.options.maxTransactionMs;
    if (!open || limit === 0) {
      clearTimeout(this.#transactionTimer);
      this.#transactionTimer = undefined;
      return;
    }
    if (this.#transactionTimer !== undefined) return;
    this.#transactionTimer = setTimeout(() => {
      const reason = `a mirror transaction was open longer than maxTransactionMs (${limit} ms)`;
      this.#policy.options.journal.record({ dependency: 'db', action: 'blocked', operation: '(transaction)', reason });
      this.#failWith(new MirrorGuardError('MG_ERR_DB_TRANSACTION_TOO_LONG', `connection destroyed: ${reason}`));
    }, limit);
    this.#transactionTimer.unref();
  }

  /**
   * Queues the statements that make a fresh session read-only and pinned, and the read-back that
   * judges them. `direct`: sent at once (on a new connection, once its handshake is done); else they
   * take their place in this guard's queue, behind what the app sent before (a reset, a change of user).
   */
  #makeReadOnly(direct: boolean): void {
    const account = this.#account;
    const internal: Internal = { barrier: false, direct };
    if (account.needed) {
      // The account's own grants and those to PUBLIC, which apply to it too; answered in this order.
      let publicGrants: unknown[] = [];
      this.#internal(SHOW_PUBLIC_GRANTS, internal, (error, rows) => {
        if (error === null && Array.isArray(rows)) publicGrants = rows;
      });
      this.#internal(SHOW_GRANTS, internal, (error, rows) => {
        if (error === null && Array.isArray(rows)) account.record([...rows, ...publicGrants]);
      });
    }
    this.#internal(SET_READ_ONLY, internal, () => {});
    this.#internal(TRACK_SESSION_CHANGES, internal, () => {});
    // One of these fails on each server kind (MariaDB or MySQL); the read-back judges the outcome.
    for (const bound of boundStatements(this.#policy.options)) this.#internal(bound, internal, () => {});
    this.#internal(READ_SESSION_STATE, { barrier: true, direct }, (error, rows) => this.#judgeFresh(error, rows, true));
  }

  /**
   * A new connection is made read-only once its handshake is done. Until then nothing of the guard's
   * is queued in mysql2, which routes a failed handshake's error by what is queued there: the app
   * and the pool must see it exactly as without the guard.
   */
  #makeReadOnlyWhenConnected(): void {
    const connection = this.#connection as Mysql2Connection & { _handshakePacket?: unknown };
    if (connection._handshakePacket !== undefined && connection._handshakePacket !== null) return this.#makeReadOnly(false);
    this.#barriers += 1;
    connection.once('connect', () => {
      this.#barriers -= 1;
      if (this.#failure === undefined) this.#makeReadOnly(true);
    });
  }

  /**
   * A fatal error (the server gone, a handshake that failed) reaches every command as mysql2 would
   * deliver it: the commands this guard holds go back into mysql2's queue, in order, first.
   */
  #returnHeldOnFatalError(): void {
    const connection = this.#connection as unknown as { _notifyError(error: Error): void; _commands: { push(command: Mysql2Command): void } };
    const notifyError = connection._notifyError;
    connection._notifyError = (error: Error) => {
      const waiting = [...this.#held.splice(0), ...this.#queue.splice(0).map((entry) => entry.command)];
      for (const command of waiting) {
        clearTimeout(HELD_TIMERS.get(command));
        connection._commands.push(command);
      }
      if (this.#failure === undefined && (error as { fatal?: boolean }).fatal) this.#failure = error;
      for (const waiter of this.#waiters.splice(0)) waiter(error);
      return notifyError.call(connection, error);
    };
  }

  /** Judges a fresh (new, reset or re-authenticated) session; what drifted from the pins is fixed once, then must hold. */
  #judgeFresh(error: unknown, rows: unknown, mayFix: boolean): void {
    this.#barriers -= 1;
    if (error !== null) return this.#fail(`the server did not confirm read-only: ${(error as Error).message}`, error);
    const judgement = judgeSession(rows, this.#policy.options);
    if (judgement.verdict === 'fixable' && mayFix) {
      this.#policy.options.journal.record({ dependency: 'db', action: 'warned', operation: judgement.fixes.join('; '), reason: `pinned on a new session: ${judgement.reasons.join('; ')}` });
      for (const fix of judgement.fixes) this.#internal(fix, { barrier: false, direct: true }, () => {});
      this.#internal(READ_SESSION_STATE, { barrier: true, direct: true }, (again, rowsAgain) => this.#judgeFresh(again, rowsAgain, false));
      return;
    }
    if (judgement.verdict === 'unsafe') return this.#fail(judgement.reason, undefined, judgement.code);
    if (judgement.verdict === 'fixable') return this.#fail(`the session could not be pinned: ${judgement.reasons.join('; ')}`, undefined, 'MG_ERR_DB_SESSION_UNSAFE');
    const refused = this.#account.failure();
    if (refused !== undefined) return this.#failWith(refused);
    this.#lexing = judgement.lexing;
    this.#wire.confirmSession();
    this.#confirmedOnce = true;
    for (const waiter of this.#waiters.splice(0)) waiter();
    this.#pump();
  }

  #fail(message: string, cause?: unknown, code = 'MG_ERR_DB_NOT_READ_ONLY'): void {
    this.#failWith(new MirrorGuardError(code, `connection destroyed: ${message}`, { cause }));
  }

  #failWith(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    clearTimeout(this.#transactionTimer);
    for (const command of this.#held.splice(0)) failDetached(command, error);
    for (const { command } of this.#queue.splice(0)) {
      clearTimeout(HELD_TIMERS.get(command));
      failDetached(command, error);
    }
    for (const waiter of this.#waiters.splice(0)) waiter(error);
    // Not from inside mysql2's own error handling, which may still be delivering an error. mysql2's
    // fatal-error path hands this error to the command in flight and everything queued, closes the
    // connection and takes it out of its pool, as a lost connection would.
    // With nothing in flight there is no one to tell (mysql2 would emit it as an 'error' event): the
    // connection is just closed.
    process.nextTick(() => {
      const connection = this.#connection as Mysql2Connection & { _fatalError?: unknown; _command?: unknown };
      if (connection._fatalError) return;
      if (connection._command && this.#handleFatalError !== undefined) this.#handleFatalError(error);
      else this.#destroy();
    });
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
      if (typeof sql === 'string' && this.#policy.simulates(this.#policy.classify(sql, true, this.#lexing))) {
        return connection.query(...(args as [object, never]));
      }
      return execute.apply(connection, args);
    };
  }

  /** Runs mysql2's reset() or changeUser(): the command it queues is the one the wire check lets reset the session. */
  #resettingSession<T>(queue: () => T): T {
    this.#sessionResetNext = true;
    try {
      return queue();
    } finally {
      this.#sessionResetNext = false;
    }
  }

  // COM_RESET_CONNECTION and COM_CHANGE_USER both reset the session, read-only included: queue the
  // check again right behind them, before anything the app sends next.
  #wrapSessionResets(): void {
    const connection = this.#connection;
    const reset = connection.reset;
    if (typeof reset === 'function') {
      connection.reset = (...args: unknown[]) => {
        const result = this.#resettingSession(() => reset.apply(connection, args as [never]));
        this.#makeReadOnly(false);
        return result;
      };
    }
    const changeUser = connection.changeUser;
    connection.changeUser = (...args: unknown[]) => {
      const result = this.#resettingSession(() => changeUser.apply(connection, args));
      this.#account = new AccountCheck(this.#policy.options);
      this.#makeReadOnly(false);
      return result;
    };
  }
}

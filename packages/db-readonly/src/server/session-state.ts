import type { LexOptions } from '../classifier/lex-sql.ts';
import { readSqlMode } from '../classifier/sql-mode.ts';

/**
 * The session state the guard pins or follows, read back in one statement on every server: MySQL 8
 * lacks tx_* and max_statement_time, MariaDB lacks max_execution_time; absent rows are skipped.
 */
export const READ_SESSION_STATE: string =
  "SHOW SESSION VARIABLES WHERE Variable_name IN ('transaction_read_only', 'tx_read_only', 'sql_mode', 'character_set_client', " +
  "'character_set_connection', 'transaction_isolation', 'tx_isolation', 'max_statement_time', 'max_execution_time', 'idle_transaction_timeout', 'session_track_state_change', 'net_write_timeout')";

/**
 * Asked after every statement with readBackEveryStatement: releases every named lock (`GET_LOCK`)
 * the session holds, answering how many there were, and whether session tracking is still on. A
 * mirror session takes no named lock itself, so any is one a view or stored function took. Tracking
 * still on means nothing changed the session unflagged: a change made while a function had it off
 * is flagged when the function turns it back on. MySQL 5.7 and MariaDB 10.5 and later.
 */
export const CHECK_AFTER_STATEMENT = 'SELECT RELEASE_ALL_LOCKS(), @@session.session_track_state_change';

/** Why the answer to CHECK_AFTER_STATEMENT (one row of two values) shows the session unsafe; undefined when it is safe. */
export function judgeAfterStatement(rows: unknown): string | undefined {
  const row = Array.isArray(rows) && Array.isArray(rows[0]) ? (rows[0] as unknown[]) : [];
  const locks = Number(row[0] ?? Number.NaN);
  const tracking = String(row[1]);
  if (!Number.isInteger(locks)) return `the server did not say which named locks the session held (${JSON.stringify(rows)})`;
  if (locks > 0) return `a statement took ${locks} named lock(s) (GET_LOCK in a view or stored function); released`;
  if (!isOn(tracking)) return 'a statement turned session_track_state_change off (a stored function or view): later changes would go unseen';
  return undefined;
}

/** Makes the server flag every reply whose statement changed the session's state (see watchReplyStatus). */
export const TRACK_SESSION_CHANGES = 'SET SESSION session_track_state_change = ON';

/** How long a mirror statement, and an idle transaction, may hold the server. 0 leaves the server's setting. */
export interface SessionBounds {
  readonly maxStatementTimeMs: number;
  readonly maxIdleTransactionMs: number;
}

/**
 * Statements that set the bounds, one per server kind; the one the server does not know fails,
 * harmlessly, and the read-back judges the outcome.
 */
export function boundStatements(bounds: SessionBounds): string[] {
  const statements: string[] = [];
  const mariadb: string[] = [];
  if (bounds.maxStatementTimeMs > 0) {
    mariadb.push(`SESSION max_statement_time = ${bounds.maxStatementTimeMs / 1000}`);
    statements.push(`SET SESSION max_execution_time = ${Math.ceil(bounds.maxStatementTimeMs)}`);
  }
  if (bounds.maxIdleTransactionMs > 0) mariadb.push(`SESSION idle_transaction_timeout = ${idleTransactionTimeout(bounds)}`);
  if (mariadb.length > 0) statements.unshift(`SET ${mariadb.join(', ')}`);
  // A result the client does not read blocks the server in its write, past max_statement_time,
  // holding the statement's locks: net_write_timeout ends that wait (both servers know it).
  if (bounds.maxStatementTimeMs > 0) statements.push(`SET SESSION net_write_timeout = ${netWriteTimeout(bounds)}`);
  return statements;
}

/** Seconds a blocked write to the client may last: the statement time bound, whole seconds. */
const netWriteTimeout = (bounds: SessionBounds): number => Math.max(1, Math.ceil(bounds.maxStatementTimeMs / 1000));
/** Seconds a transaction may sit idle: the bound, rounded up to whole seconds (the variable's unit). */
const idleTransactionTimeout = (bounds: SessionBounds): number => Math.ceil(bounds.maxIdleTransactionMs / 1000);

export type SessionJudgement =
  /** The session is as pinned; statements are lexed with `lexing`. */
  | { readonly verdict: 'safe'; readonly lexing: LexOptions }
  /** Statements that would pin what drifted (only on a fresh session), and why they are needed. */
  | { readonly verdict: 'fixable'; readonly fixes: readonly string[]; readonly reasons: readonly string[] }
  | { readonly verdict: 'unsafe'; readonly code: 'MG_ERR_DB_NOT_READ_ONLY' | 'MG_ERR_DB_SESSION_UNSAFE'; readonly reason: string };

const unsafe = (reason: string): SessionJudgement => ({ verdict: 'unsafe', code: 'MG_ERR_DB_SESSION_UNSAFE', reason });

const isOn = (value: string): boolean => value.toUpperCase() === 'ON' || value === '1';

/** Judges the rows of READ_SESSION_STATE (as arrays of name and value) against the pins. */
export function judgeSession(rows: unknown, bounds: SessionBounds): SessionJudgement {
  const variables = new Map<string, string>();
  if (Array.isArray(rows)) for (const row of rows) if (Array.isArray(row)) variables.set(String(row[0]).toLowerCase(), String(row[1]));
  const readOnly = ['transaction_read_only', 'tx_read_only'].filter((name) => variables.has(name));
  if (readOnly.length === 0 || !readOnly.every((name) => isOn(variables.get(name)!))) {
    return { verdict: 'unsafe', code: 'MG_ERR_DB_NOT_READ_ONLY', reason: `the server reports the session is not read-only (${JSON.stringify(rows)})` };
  }
  const sqlMode = variables.get('sql_mode');
  if (sqlMode === undefined) return unsafe('the server did not report sql_mode');
  const reading = readSqlMode(sqlMode);
  if ('refused' in reading) return unsafe(`${reading.refused}; the guard cannot read statements as this session would`);

  const fixes: string[] = [];
  const reasons: string[] = [];
  const tracking = variables.get('session_track_state_change');
  if (tracking === undefined) return unsafe('the server cannot report session state changes (session_track_state_change: MySQL 5.7 or MariaDB 10.2 and later)');
  if (!isOn(tracking)) {
    reasons.push('session_track_state_change is off');
    fixes.push(TRACK_SESSION_CHANGES);
  }
  for (const name of ['character_set_client', 'character_set_connection']) {
    const value = variables.get(name);
    if (value?.toLowerCase() !== 'utf8mb4') {
      reasons.push(`${name} is ${value ?? 'not reported'}, not utf8mb4`);
      if (!fixes.includes('SET NAMES utf8mb4')) fixes.push('SET NAMES utf8mb4');
    }
  }
  const isolation = variables.get('transaction_isolation') ?? variables.get('tx_isolation');
  if (isolation?.toUpperCase() === 'SERIALIZABLE') {
    reasons.push('the isolation level is SERIALIZABLE, which turns plain reads into share locks');
    fixes.push('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  }
  // The time bounds drift together or not at all: the statements that set them are sent again, all of them.
  const boundReasons: string[] = [];
  if (bounds.maxStatementTimeMs > 0) {
    const statementTime = variables.get('max_statement_time');
    const executionTime = variables.get('max_execution_time');
    const inForce = statementTime !== undefined ? Number(statementTime) * 1000 : executionTime !== undefined ? Number(executionTime) : undefined;
    if (inForce === undefined || Math.abs(inForce - bounds.maxStatementTimeMs) > 1) {
      boundReasons.push(`the statement time bound is ${inForce ?? 'not reported'} ms, not ${bounds.maxStatementTimeMs} ms`);
    }
    const netWrite = variables.get('net_write_timeout');
    if (netWrite !== undefined && Number(netWrite) !== netWriteTimeout(bounds)) boundReasons.push(`net_write_timeout is ${netWrite} s, not ${netWriteTimeout(bounds)} s`);
  }
  const idle = variables.get('idle_transaction_timeout');
  if (bounds.maxIdleTransactionMs > 0 && idle !== undefined && Number(idle) !== idleTransactionTimeout(bounds)) {
    boundReasons.push(`idle_transaction_timeout is ${idle} s, not ${idleTransactionTimeout(bounds)} s`);
  }
  if (boundReasons.length > 0) {
    reasons.push(...boundReasons);
    fixes.push(...boundStatements(bounds));
  }
  if (fixes.length > 0) return { verdict: 'fixable', fixes, reasons };
  return { verdict: 'safe', lexing: reading.lexing };
}

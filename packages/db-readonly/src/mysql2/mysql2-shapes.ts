import type { EventEmitter } from 'node:events';

// The parts of mysql2's objects the guard touches, typed structurally so that the guard works with
// any mysql2 3.x without importing it. Checked at run time by assertShape.

/** A queued protocol command (Query, Prepare, Execute, Ping, …). */
export interface Mysql2Command extends EventEmitter {
  /** Query: the formatted SQL text, exactly as it will be sent. Execute: the template. */
  sql?: string;
  /** Prepare: the statement text. */
  query?: string;
  onResult?: ((error: unknown, result?: unknown, fields?: unknown) => void) | undefined;
  start: (packet: unknown, connection: unknown) => unknown;
}

export type Callback = (error: unknown, ...results: unknown[]) => void;

export interface Mysql2Config {
  clientFlags: number;
  /** The compressed protocol; negotiated in the handshake when true. */
  compress?: unknown;
}

/** A core (callback) connection or pool connection. */
export interface Mysql2Connection extends EventEmitter {
  config: Mysql2Config;
  addCommand(command: Mysql2Command): Mysql2Command;
  query(options: object, callback: Callback): Mysql2Command;
  execute(...args: unknown[]): Mysql2Command;
  reset?(callback?: Callback): unknown;
  changeUser(...args: unknown[]): unknown;
  destroy(): void;
}

export interface Mysql2Pool extends EventEmitter {
  config: { connectionConfig: Mysql2Config };
  /** Every connection the pool made (a double-ended queue); each is pushed right after it is constructed. */
  _allConnections: { push(...connections: unknown[]): unknown; toArray?(): unknown[] };
  getConnection(callback: (error: unknown, connection?: Mysql2Connection) => void): unknown;
}

export interface Mysql2PoolCluster extends EventEmitter {
  add(...args: unknown[]): unknown;
  _nodes?: Record<string, { pool: Mysql2Pool }>;
  /** Where every acquisition passes, from getConnection, namespaces and the promise wrapper alike. */
  _getConnection(node: { pool: Mysql2Pool }, callback: (...args: unknown[]) => void): unknown;
}

export function assertShape(condition: boolean, what: string, fail: (message: string) => Error): asserts condition {
  if (!condition) throw fail(`${what} does not have the shape @mirrorguard/db-readonly relies on (mysql2 >= 3 expected)`);
}

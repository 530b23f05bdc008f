import { existsSync } from 'node:fs';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';

/** The options TypeORM's `better-sqlite3` driver opens a database with (better-sqlite3's own). */
export interface NodeSqliteOpenOptions {
  /** Open read-only. `false` by default. */
  readonly readonly?: boolean;
  /** Fail when the file does not exist instead of creating it (read-only and in-memory databases never create one). */
  readonly fileMustExist?: boolean;
  /** How long a statement waits for a lock another connection holds, in milliseconds. 5000 by default. */
  readonly timeout?: number;
  /** Called with each statement's SQL as it is prepared or executed. */
  readonly verbose?: ((sql: string) => void) | null;
  /** better-sqlite3's path to its native addon; ignored. */
  readonly nativeBinding?: unknown;
}

/** What `run()` returns: the rows the statement changed and the rowid of the last row inserted. */
export interface SqliteRunResult {
  readonly changes: number | bigint;
  readonly lastInsertRowid: number | bigint;
}

/** A prepared statement with the part of better-sqlite3's `Statement` surface TypeORM and most apps use. */
export interface NodeSqliteStatement {
  /** The SQL it was prepared from. */
  readonly source: string;
  /** Whether it returns rows (run it with `all`, `get` or `iterate`) or not (run it with `run`). */
  readonly reader: boolean;
  all(...parameters: unknown[]): Record<string, unknown>[];
  get(...parameters: unknown[]): Record<string, unknown> | undefined;
  run(...parameters: unknown[]): SqliteRunResult;
  iterate(...parameters: unknown[]): IterableIterator<Record<string, unknown>>;
}

type NodeSqlite = typeof import('node:sqlite');
let nodeSqlite: NodeSqlite | undefined;

// Loaded on first use: importing this package must not load node:sqlite (an experimental warning
// on some Node versions, an error on those that still hide it behind a flag) for a MySQL user.
function loadNodeSqlite(): NodeSqlite {
  nodeSqlite ??= process.getBuiltinModule('node:sqlite') as NodeSqlite | undefined;
  if (nodeSqlite === undefined) throw new Error('node:sqlite is not available in this Node.js (it needs Node.js 22.16 or later)');
  return nodeSqlite;
}

type Parameters = [] | [Record<string, SQLInputValue>, ...SQLInputValue[]] | SQLInputValue[];

// better-sqlite3 spreads arrays among the parameters; node:sqlite takes a first plain object as named ones.
function bind(parameters: readonly unknown[]): Parameters {
  for (const parameter of parameters) if (Array.isArray(parameter)) return parameters.flat(1) as Parameters;
  return parameters as Parameters;
}

const asBuffer = (value: Uint8Array): Buffer => Buffer.from(value.buffer, value.byteOffset, value.byteLength);

/** The row as better-sqlite3 gives it: a plain object, blobs as Buffers (node:sqlite: a null-prototype object, Uint8Arrays). */
function plainRow(row: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    const value = row[key];
    copy[key] = value instanceof Uint8Array ? asBuffer(value) : value;
  }
  return copy;
}

function plainRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  if (rows.length === 0) return rows;
  const keys = Object.keys(rows[0]!);
  const copies = new Array<Record<string, unknown>>(rows.length);
  for (let index = 0; index < rows.length; index += 1) copies[index] = plainRow(rows[index]!, keys);
  return copies;
}

class PreparedStatement implements NodeSqliteStatement {
  readonly source: string;
  readonly reader: boolean;
  readonly #statement: StatementSync;

  constructor(statement: StatementSync, source: string) {
    this.#statement = statement;
    this.source = source;
    this.reader = statement.columns().length > 0;
  }

  all(...parameters: unknown[]): Record<string, unknown>[] {
    return plainRows(this.#statement.all(...(bind(parameters) as SQLInputValue[])) as Record<string, unknown>[]);
  }

  get(...parameters: unknown[]): Record<string, unknown> | undefined {
    const row = this.#statement.get(...(bind(parameters) as SQLInputValue[])) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : plainRow(row, Object.keys(row));
  }

  run(...parameters: unknown[]): SqliteRunResult {
    const { changes, lastInsertRowid } = this.#statement.run(...(bind(parameters) as SQLInputValue[]));
    return { changes, lastInsertRowid };
  }

  *iterate(...parameters: unknown[]): IterableIterator<Record<string, unknown>> {
    for (const row of this.#statement.iterate(...(bind(parameters) as SQLInputValue[]))) {
      yield plainRow(row as Record<string, unknown>, Object.keys(row as object));
    }
  }
}

/**
 * A SQLite database on Node's built-in `node:sqlite`, with the surface of better-sqlite3's
 * `Database` that TypeORM's `better-sqlite3` driver uses (`new Database(file, { readonly,
 * fileMustExist, timeout })`, `prepare`, `exec`, `pragma`, `close`), so it can stand in as that
 * driver's `driver` option with no native addon: `{ type: 'better-sqlite3', driver: NodeSqliteDatabase }`.
 * Rows come back as plain objects and blobs as Buffers, as from better-sqlite3; errors are
 * node:sqlite's (`code: 'ERR_SQLITE_ERROR'`, `errcode`, `errstr`).
 */
export class NodeSqliteDatabase {
  /** The file name it was opened with. */
  readonly name: string;
  readonly readonly: boolean;
  readonly memory: boolean;
  readonly #database: DatabaseSync;
  readonly #verbose: ((sql: string) => void) | undefined;

  constructor(filename: string, options: NodeSqliteOpenOptions = {}) {
    this.name = filename;
    this.readonly = options.readonly === true;
    this.memory = filename === ':memory:' || filename === '';
    if (options.fileMustExist === true && !this.readonly && !this.memory && !existsSync(filename)) {
      throw Object.assign(new Error(`unable to open database file: ${filename} does not exist (fileMustExist)`), { code: 'SQLITE_CANTOPEN' });
    }
    const { DatabaseSync } = loadNodeSqlite();
    this.#database = new DatabaseSync(filename, { readOnly: this.readonly, timeout: options.timeout ?? 5000 });
    this.#verbose = typeof options.verbose === 'function' ? options.verbose : undefined;
  }

  get open(): boolean {
    return this.#database.isOpen;
  }

  get inTransaction(): boolean {
    return this.#database.isTransaction;
  }

  /** Compiles one statement (text after the first statement is ignored, as by SQLite). */
  prepare(sql: string): NodeSqliteStatement {
    this.#verbose?.(sql);
    return new PreparedStatement(this.#database.prepare(sql), sql);
  }

  /** Runs SQL text, any number of statements, without parameters. */
  exec(sql: string): this {
    this.#verbose?.(sql);
    this.#database.exec(sql);
    return this;
  }

  /**
   * Runs `PRAGMA <source>` and returns its rows, or with `{ simple: true }` the first column of the
   * first row, as better-sqlite3's `pragma()` does.
   */
  pragma(source: string, options: { readonly simple?: boolean } = {}): unknown {
    const statement = this.prepare(`PRAGMA ${source}`);
    if (options.simple === true) {
      const row = statement.get();
      return row === undefined ? undefined : Object.values(row)[0];
    }
    if (statement.reader) return statement.all();
    statement.run();
    return [];
  }

  close(): this {
    if (this.#database.isOpen) this.#database.close();
    return this;
  }
}

/** A class TypeORM's `better-sqlite3` driver can take as its `driver` option. */
export type NodeSqliteDriver = new (filename: string, options?: NodeSqliteOpenOptions) => NodeSqliteDatabase;

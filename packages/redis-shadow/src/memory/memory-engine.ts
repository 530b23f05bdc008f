import { MirrorGuardError } from '@mirrorguard/core';
import { bundledCommandTable, type CommandSpec, type CommandTable } from '../commands/command-table.ts';
import { findKeys } from '../commands/find-keys.ts';
import { keyId } from './key-id.ts';
import { Keyspace } from './keyspace.ts';
import { CommandFailed, errors, type ErrorReply, type Reply } from './replies.ts';
import { ReplyError } from 'ioredis';

/** What a command handler is given: its arguments (the name left out) and the database it runs in. */
export interface CommandCall {
  /** `get`, `object|encoding`, … as COMMAND names it. */
  readonly name: string;
  readonly args: readonly Buffer[];
  readonly db: Keyspace;
  readonly engine: MemoryEngine;
}

/** A command as the engine takes it: its name as the client spells it, then its arguments. */
export type CommandArgv = readonly [name: string, ...args: Buffer[]];

/** Runs one command and returns its reply; `fail(…)` answers with an error reply. */
export type CommandHandler = (call: CommandCall) => Reply;

/** The handlers of one command family, by the names COMMAND gives them. */
export type CommandFamily = Readonly<Record<string, CommandHandler>>;

/** How often expired keys are swept. */
const SWEEP_EVERY_MS = 100;

/** Databases a memory engine has, as a default Redis has. */
export const DATABASES = 16;

/**
 * The embedded engine: an in-process Redis for the `test` profile and for a mirror without a second
 * Redis. Commands are checked as the server checks them — known to COMMAND, arity — and run by the
 * handlers of the families it was given. A command Redis knows and no handler runs fails with
 * MG_ERR_REDIS_UNSUPPORTED, never with a made-up answer. Every command runs to completion before
 * the next one starts, as on a single-threaded server.
 */
export class MemoryEngine {
  readonly #databases: Keyspace[] = [];
  readonly #handlers = new Map<string, CommandHandler>();
  readonly table: CommandTable = bundledCommandTable();
  #now: () => number = Date.now;

  constructor(families: readonly CommandFamily[]) {
    for (const family of families) for (const [name, handler] of Object.entries(family)) this.#handlers.set(name, handler);
    // Active expiry: keys past their time that nobody looks at again are removed (unref'd: it never keeps a process alive).
    // The timer holds the engine weakly: an engine nobody uses any more is collected, and its timer stops.
    const engine = new WeakRef(this);
    const timer = setInterval(() => {
      const alive = engine.deref();
      if (alive === undefined) clearInterval(timer);
      else for (const db of alive.databases) db.sweepExpired();
    }, SWEEP_EVERY_MS).unref();
  }

  /** The clock expiries are judged by (Unix milliseconds); tests may move it. */
  set clock(now: () => number) {
    this.#now = now;
    for (const db of this.#databases) db.now = now;
  }

  database(index: number): Keyspace {
    let db = this.#databases[index];
    if (db === undefined) {
      db = new Keyspace();
      db.now = this.#now;
      this.#databases[index] = db;
    }
    return db;
  }

  /** Every database created so far (FLUSHALL, SWAPDB). */
  get databases(): readonly Keyspace[] {
    return this.#databases.filter((db) => db !== undefined);
  }

  /** Whether a handler runs this command (`get`, `object|encoding`). */
  supports(name: string): boolean {
    return this.#handlers.has(name);
  }

  /** The commands the engine runs, for documentation and tests. */
  get commandNames(): readonly string[] {
    return [...this.#handlers.keys()].sort();
  }

  /**
   * Checks a command as the server would before running it: the error reply it would get (unknown
   * command, wrong arity), or its spec. Throws MG_ERR_REDIS_UNSUPPORTED for a known command without a
   * handler.
   */
  check(argv: CommandArgv): CommandSpec | ErrorReply {
    const spec = this.table.resolve(argv);
    if (spec === undefined) {
      const name = argv[0].toLowerCase();
      const container = this.table.get(name);
      if (container !== undefined && container.subcommands.size > 0 && argv.length > 1) {
        return errors.custom(`ERR unknown subcommand '${String(argv[1])}'. Try ${name.toUpperCase()} HELP.`);
      }
      if (container !== undefined) return errors.arity(name);
      const start = argv.slice(1).map((arg) => `'${String(arg)}' `).join('');
      return errors.custom(`ERR unknown command '${String(argv[0])}', with args beginning with: ${start}`);
    }
    if (spec.arity > 0 ? argv.length !== spec.arity : argv.length < -spec.arity) return errors.arity(spec.name);
    if (!this.#handlers.has(spec.name)) {
      throw new MirrorGuardError('MG_ERR_REDIS_UNSUPPORTED', `the memory engine does not run ${spec.name.toUpperCase().replace('|', ' ')}; use a real Redis as the shadow for it`);
    }
    return spec;
  }

  /** Runs one command (no transaction logic: see MemoryConnection) in database `dbIndex`. */
  run(dbIndex: number, argv: CommandArgv): Reply {
    const spec = this.check(argv);
    if (spec instanceof ReplyError) return spec;
    const db = this.database(dbIndex);
    let reply: Reply;
    try {
      reply = this.#handlers.get(spec.name)!({ name: spec.name, args: argv.slice(1) as Buffer[], db, engine: this });
    } catch (error) {
      if (error instanceof CommandFailed) return error.reply;
      throw error;
    }
    if (spec.flags.has('write')) {
      for (const ref of findKeys(spec, argv) ?? []) {
        const key = keyId(argv[ref.index] as Buffer);
        db.touch(key);
        db.dropIfEmpty(key);
      }
    }
    return reply;
  }
}

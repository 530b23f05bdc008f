import { ReplyError } from 'ioredis';
import { keyId } from './key-id.ts';
import { DATABASES, type CommandArgv, type MemoryEngine } from './memory-engine.ts';
import { errors, NULL_ARRAY, OK, QUEUED, status, type Reply } from './replies.ts';

/**
 * One client's connection to the memory engine: its selected database and its transaction
 * (MULTI … EXEC, WATCH), as a Redis server keeps them per connection.
 */
export class MemoryConnection {
  readonly engine: MemoryEngine;
  #db: number;
  /** Commands queued since MULTI; undefined outside a transaction. */
  #queued: CommandArgv[] | undefined;
  /** A command was refused while queueing: EXEC will abort. */
  #aborted = false;
  /** Watched keys, each with its version when watched. */
  #watched: Array<{ readonly db: number; readonly key: string; readonly version: string }> = [];

  constructor(engine: MemoryEngine, db = 0) {
    this.engine = engine;
    this.#db = db;
  }

  get db(): number {
    return this.#db;
  }

  /** Runs one command of this connection; throws MG_ERR_REDIS_UNSUPPORTED for a command the engine does not run. */
  execute(argv: CommandArgv): Reply {
    const name = argv[0].toLowerCase();
    if (this.#queued !== undefined && !['exec', 'discard', 'multi', 'watch', 'quit', 'reset'].includes(name)) {
      // The connection's own commands are queued like any other (the engine has no handler for them).
      return ['select', 'unwatch'].includes(name) ? this.#queueOwn(argv) : this.#queue(argv);
    }
    switch (name) {
      case 'multi':
        if (argv.length !== 1) return errors.arity('multi');
        if (this.#queued !== undefined) return errors.custom('ERR MULTI calls can not be nested');
        this.#queued = [];
        return OK;
      case 'exec':
        return this.#exec();
      case 'discard':
        if (this.#queued === undefined) return errors.custom('ERR DISCARD without MULTI');
        this.#endTransaction();
        return OK;
      case 'watch':
        if (this.#queued !== undefined) return errors.custom('ERR WATCH inside MULTI is not allowed');
        if (argv.length < 2) return errors.arity('watch');
        for (const key of argv.slice(1) as Buffer[]) {
          const db = this.engine.database(this.#db);
          db.watch(keyId(key));
          this.#watched.push({ db: this.#db, key: keyId(key), version: db.version(keyId(key)) });
        }
        return OK;
      case 'unwatch':
        this.#unwatchAll();
        return OK;
      case 'select': {
        if (argv.length !== 2) return errors.arity('select');
        const index = Number(String(argv[1]));
        if (!/^(?:0|-?[1-9][0-9]*)$/.test(String(argv[1])) || !Number.isSafeInteger(index) || Math.abs(index) > 2 ** 31) return errors.notInteger();
        if (index < 0 || index >= DATABASES) return errors.custom('ERR DB index is out of range');
        this.#db = index;
        return OK;
      }
      case 'quit':
      case 'reset':
        this.#endTransaction();
        this.#db = 0;
        return name === 'reset' ? status('RESET') : OK;
      default:
        return this.engine.run(this.#db, argv);
    }
  }

  #queue(argv: CommandArgv): Reply {
    let checked;
    try {
      checked = this.engine.check(argv);
    } catch (error) {
      this.#aborted = true;
      throw error;
    }
    if (checked instanceof ReplyError) {
      this.#aborted = true;
      return checked;
    }
    this.#queued!.push(argv);
    return QUEUED;
  }

  #queueOwn(argv: CommandArgv): Reply {
    const spec = this.engine.table.resolve(argv);
    if (spec !== undefined && (spec.arity > 0 ? argv.length !== spec.arity : argv.length < -spec.arity)) {
      this.#aborted = true;
      return errors.arity(spec.name);
    }
    this.#queued!.push(argv);
    return QUEUED;
  }

  #exec(): Reply {
    const queued = this.#queued;
    if (queued === undefined) return errors.custom('ERR EXEC without MULTI');
    const aborted = this.#aborted;
    const changed = this.#watched.some(({ db, key, version }) => this.engine.database(db).version(key) !== version);
    this.#endTransaction();
    if (aborted) return errors.custom('EXECABORT Transaction discarded because of previous errors.');
    if (changed) return NULL_ARRAY;
    return queued.map((argv) => this.execute(argv));
  }

  #endTransaction(): void {
    this.#queued = undefined;
    this.#aborted = false;
    this.#unwatchAll();
  }

  #unwatchAll(): void {
    for (const { db, key } of this.#watched) this.engine.database(db).unwatch(key);
    this.#watched = [];
  }
}

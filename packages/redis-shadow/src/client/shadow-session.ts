import type { Journal } from '@mirrorguard/core';
import { Redis, type RedisOptions } from 'ioredis';
import { bundledCommandTable, loadCommandTable, type CommandTable } from '../commands/command-table.ts';
import { KeyState } from '../shadow/key-state.ts';
import { Materializer, originReader, shadowWriter } from '../shadow/materialize-key.ts';
import { memoryWriter, originValueReader } from '../shadow/copy-by-value.ts';
import type { MemoryEngine } from '../memory/memory-engine.ts';
import { MemoryRedis } from '../memory/memory-redis.ts';
import { warnIfOriginUserCanWrite } from './origin-user-check.ts';
import { whenReady } from './when-ready.ts';
import type { KeyToOwn } from '../routing/route-command.ts';

/** Where the writes land: a real Redis, or a database of an in-process memory engine. */
export type ShadowTarget =
  | { readonly kind: 'redis'; readonly options: RedisOptions }
  | { readonly kind: 'memory'; readonly engine: MemoryEngine; readonly db: number };

/**
 * What a ShadowRedis and its duplicates share: the command table, which keys the shadow owns, the
 * copier (with its own origin-reading and shadow-writing connections) and the journal. Each client
 * keeps its own origin and shadow connections, as ordering and transactions belong to a connection.
 * Counted: the last client to close closes the shared connections.
 */
export class ShadowSession {
  /** The bundled snapshot until the origin's own COMMAND reply has been read (once, at connect). */
  table: CommandTable = bundledCommandTable();
  /** Settles once the origin's table is in use, or the snapshot stays (the origin did not answer COMMAND). */
  readonly originTable: Promise<void>;
  /** Settles once the origin user's write permission has been checked (and a warning journaled if it can write). */
  readonly userChecked: Promise<void>;
  readonly state: KeyState = new KeyState();
  readonly journal: Journal;
  readonly shadow: ShadowTarget;
  readonly materializer: Pick<Materializer<unknown>, 'ensureOwned'>;
  readonly #reader: Redis;
  /** The connection copies are written over (a real shadow only: the memory engine is written directly). */
  readonly #copies: Redis | undefined;
  #clients = 0;

  constructor(originOptions: RedisOptions, shadow: ShadowTarget, journal: Journal) {
    this.journal = journal;
    this.shadow = shadow;
    // Copies read the origin over a connection of their own, so nothing the app sends interleaves,
    // and write the shadow over another, so a RESTORE never lands inside an app's open MULTI.
    const readerOptions: RedisOptions = { ...originOptions, enableAutoPipelining: false };
    delete readerOptions.keyPrefix;
    this.#reader = new Redis(readerOptions);
    if (shadow.kind === 'redis') {
      this.#copies = new Redis(shadow.options);
      this.materializer = new Materializer(originReader(this.#reader), shadowWriter(this.#copies), this.state);
    } else {
      this.materializer = new Materializer(originValueReader(this.#reader), memoryWriter(shadow.engine, shadow.db), this.state);
    }
    this.originTable = loadCommandTable(this.#reader).then(
      (table) => {
        this.table = table;
      },
      () => undefined,
    );
    this.userChecked = warnIfOriginUserCanWrite(this.#reader, journal);
  }

  /** The origin-reading connection: copies, and the origin's side of keyspace-wide reads. */
  get origin(): Redis {
    return this.#reader;
  }

  /** The shared connections, for error reporting. */
  get connections(): readonly Redis[] {
    return this.#copies === undefined ? [this.#reader] : [this.#reader, this.#copies];
  }

  /** The keys of `argv` and whether each must be copied, as the origin names them (COMMAND GETKEYSANDFLAGS executes nothing). */
  async keysFromOrigin(argv: readonly unknown[]): Promise<KeyToOwn[]> {
    await whenReady(this.#reader);
    const reply = (await this.#reader.callBuffer('COMMAND', 'GETKEYSANDFLAGS', ...argv.map((arg) => (Buffer.isBuffer(arg) ? arg : String(arg))))) as Array<[Buffer, Buffer[]]>;
    return reply.map(([key, flags]) => ({ key, copy: !flags.some((flag) => flag.toString('latin1').toUpperCase() === 'OW') }));
  }

  /** A client's own connection to the shadow. */
  openShadow(): Redis {
    return this.shadow.kind === 'redis' ? new Redis(this.shadow.options) : new MemoryRedis({ engine: this.shadow.engine, db: this.shadow.db });
  }

  retain(): void {
    this.#clients += 1;
  }

  /** Called by each client as it closes; the last one closes the shared connections. */
  async release(mode: 'quit' | 'disconnect'): Promise<void> {
    this.#clients -= 1;
    if (this.#clients > 0) return;
    if (mode === 'disconnect') for (const connection of this.connections) connection.disconnect();
    else await Promise.allSettled(this.connections.map((connection) => connection.quit()));
  }
}

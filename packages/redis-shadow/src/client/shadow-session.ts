import type { Journal } from '@mirrorguard/core';
import { Redis, type RedisOptions } from 'ioredis';
import { bundledCommandTable, loadCommandTable, type CommandTable } from '../commands/command-table.ts';
import { KeyState } from '../shadow/key-state.ts';
import { Materializer, originReader, shadowWriter } from '../shadow/materialize-key.ts';
import { warnIfOriginUserCanWrite } from './origin-user-check.ts';

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
  readonly shadowOptions: RedisOptions;
  readonly materializer: Materializer;
  readonly #reader: Redis;
  readonly #copies: Redis;
  #clients = 0;

  constructor(originOptions: RedisOptions, shadowOptions: RedisOptions, journal: Journal) {
    this.journal = journal;
    this.shadowOptions = shadowOptions;
    // Copies read the origin over a connection of their own, so nothing the app sends interleaves,
    // and write the shadow over another, so a RESTORE never lands inside an app's open MULTI.
    const readerOptions: RedisOptions = { ...originOptions, enableAutoPipelining: false };
    delete readerOptions.keyPrefix;
    this.#reader = new Redis(readerOptions);
    this.#copies = new Redis(shadowOptions);
    this.materializer = new Materializer(originReader(this.#reader), shadowWriter(this.#copies), this.state);
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
    return [this.#reader, this.#copies];
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

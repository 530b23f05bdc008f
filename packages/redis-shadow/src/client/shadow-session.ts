import { MirrorGuardError, type Journal } from '@mirrorguard/core';
import { Redis, type RedisOptions } from 'ioredis';
import { bundledCommandTable, loadCommandTable, type CommandTable } from '../commands/command-table.ts';
import type { MemoryEngine } from '../memory/memory-engine.ts';
import { DATABASES } from '../memory/memory-engine.ts';
import { MemoryRedis } from '../memory/memory-redis.ts';
import { isHarmlessRead, mayReachOrigin } from '../routing/origin-allow-list.ts';
import type { KeyToOwn } from '../routing/route.ts';
import { memoryWriter, originValueReader } from '../shadow/copy-by-value.ts';
import { KeyState } from '../shadow/key-state.ts';
import { Materializer, originReader, shadowWriter } from '../shadow/materialize-key.ts';
import { copyFunctions } from '../shadow/copy-functions.ts';
import { ScriptWriteTracker } from '../shadow/script-writes.ts';
import type { KeyId } from '../memory/key-id.ts';
import { warnIfOriginUserCanWrite } from './origin-user-check.ts';
import { AUTHENTICATING, credentialsOf, reauthenticationRefusal, type Credentials } from './reauthentication.ts';
import { assertShadowSandboxed, type UnsandboxedShadow } from './shadow-user-check.ts';
import { SideConnection } from '../connection/side-connection.ts';
import { whenReady } from '../connection/when-ready.ts';

/** Where the writes land: a real Redis, or an in-process memory engine. */
export type ShadowTarget =
  | { readonly kind: 'redis'; readonly options: RedisOptions; readonly unsandboxed?: UnsandboxedShadow }
  | { readonly kind: 'memory'; readonly engine: MemoryEngine };

/** One database of the origin, as the mirror sees it: which keys the shadow owns, and the copier that makes it own them. */
export interface DatabaseShadow {
  readonly state: KeyState;
  readonly materializer: Pick<Materializer<unknown>, 'ensureOwned' | 'isBusy' | 'whenIdle' | 'ownOnceWritten' | 'readForCopy'>;
  /** A connection reading this database of the origin: copies, and the origin's side of keyspace-wide reads. */
  readonly origin: Redis;
  /** The shadow's database index for it. */
  readonly shadowDb: number;
  /** The connections a copy into this database waits on (origin reader, shadow writer): they bound the app's calls that wait on it. */
  readonly connections: readonly SideConnection[];
}

/**
 * What a ShadowRedis and its duplicates share: the command table, which keys the shadow owns (per
 * database), the copiers (with their own origin-reading and shadow-writing connections) and the
 * journal. Each client keeps its own origin and shadow connections, as ordering and transactions
 * belong to a connection. Counted: the last client to close closes the shared connections.
 *
 * Database n of the origin maps to database (n − origin's db + shadow's db) mod 16 of a shadow
 * Redis — the client's own database to the shadow's, the others one to one — and to database n of
 * the memory engine.
 */
export class ShadowSession {
  #table: CommandTable = bundledCommandTable();
  /** Command names (as ioredis sends them) known to be plain reads: see isPlainRead. */
  readonly #plainReads = new Map<string, boolean>();
  /** Command names (as ioredis sends them) the origin's gate has judged: see mayReachOrigin. */
  readonly #originAllowed = new Map<string, boolean>();
  /** Settles once the origin's table is in use, or the snapshot stays (the origin did not answer COMMAND). */
  readonly originTable: Promise<void>;
  /** Settles once the origin user's write permission has been checked (and a warning journaled if it can write). */
  /** Settles once the origin's user was checked: with what it could do beyond the allow-list, or undefined. */
  readonly userChecked: Promise<string | undefined>;
  /** The shadow check has passed: commands may go to the shadow at once. */
  shadowVerified = false;
  #shadowCheck: Promise<void> | undefined;
  readonly journal: Journal;
  readonly shadow: ShadowTarget;
  /** The origin's user, as the options name it: the user checked, and the only one AUTH or HELLO may name. */
  readonly credentials: Credentials;
  readonly #originOptions: RedisOptions;
  readonly #originDb: number;
  readonly #databases = new Map<number, DatabaseShadow>();
  readonly #connections: Redis[] = [];
  /** FLUSHALL ran: every database's origin is hidden, also of databases first used later. */
  #allHidden = false;
  #clients = 0;
  #scriptWrites: ScriptWriteTracker | undefined;
  /** The problems with the shadow's user already warned about (unsandboxedShadow: 'warn'). */
  readonly #warned = new Set<string>();
  readonly #admission = (connection: SideConnection): Promise<void> => this.#admit(connection);

  constructor(originOptions: RedisOptions, shadow: ShadowTarget, journal: Journal) {
    this.journal = journal;
    this.shadow = shadow;
    this.credentials = credentialsOf(originOptions);
    // Copies read the origin over connections of their own, so nothing the app sends interleaves,
    // and write the shadow over others, so a RESTORE never lands inside an app's open MULTI.
    this.#originOptions = { ...originOptions, enableAutoPipelining: false, lazyConnect: false };
    delete this.#originOptions.keyPrefix;
    this.#originDb = originOptions.db ?? 0;
    const first = this.database(this.#originDb);
    this.originTable = loadCommandTable(first.origin).then(
      (table) => {
        this.table = table;
      },
      () => undefined,
    );
    this.userChecked = warnIfOriginUserCanWrite(first.origin, journal, async () => {
      await this.originTable;
      return this.table;
    });
    void this.shadowChecked().catch(() => undefined);
  }

  /**
   * Resolves once origin and shadow are known to be two servers (their INFO run_id differ) and the
   * shadow's user is known to be confined to the shadow (ACL DRYRUN: see shadow-user-check.ts);
   * rejects with MG_ERR_REDIS_SHADOW_IS_ORIGIN or MG_ERR_REDIS_SHADOW_NOT_SANDBOXED, for good. A
   * check that could not be made (a server down) is made again by the next caller. Nothing is sent
   * to a real shadow before it resolves.
   */
  shadowChecked(): Promise<void> {
    this.#shadowCheck ??= this.#checkShadowIsNotOrigin().then(
      () => {
        this.shadowVerified = true;
      },
      (error: unknown) => {
        if (!(error instanceof MirrorGuardError)) this.#shadowCheck = undefined;
        throw error;
      },
    );
    return this.#shadowCheck;
  }

  async #checkShadowIsNotOrigin(): Promise<void> {
    if (this.shadow.kind === 'memory') return;
    const probe = new Redis({ ...this.shadow.options, lazyConnect: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await this.#assertConfined(probe);
      await copyFunctions(this.database(this.#originDb).origin, probe);
    } finally {
      probe.disconnect();
    }
  }

  /** The server `shadow` reaches is not the origin's (their run_id differ), and its user is confined (shadow-user-check.ts). */
  async #assertConfined(shadow: { call(command: string, ...args: string[]): Promise<unknown> }): Promise<void> {
    if (this.shadow.kind === 'memory') return;
    const runId = async (client: { call(command: string, ...args: string[]): Promise<unknown> }): Promise<string> => /run_id:(\w+)/.exec(String(await client.call('INFO', 'server')))?.[1] ?? '';
    const [originId, shadowId] = await Promise.all([runId(this.database(this.#originDb).origin), runId(shadow)]);
    if (originId !== '' && originId === shadowId) {
      throw new MirrorGuardError('MG_ERR_REDIS_SHADOW_IS_ORIGIN', `the shadow is the origin's own server (the same run_id ${originId}, under another name); nothing is sent to it`);
    }
    await assertShadowSandboxed(shadow, this.shadow.unsandboxed ?? 'refuse', this.journal, this.#warned);
  }

  /**
   * Admits a shadow connection each time it is ready (every connect and reconnect), before anything
   * is written on it (see SideConnection): the session's first check has passed, and this
   * connection, on the server it reaches now, is not the origin's and its user is still confined —
   * an ACL loosened, or a name now pointing elsewhere, between two connects is caught. A refusal
   * is for good: every later write fails with it, as at start-up.
   */
  async #admit(connection: SideConnection): Promise<void> {
    await this.shadowChecked();
    try {
      await this.#assertConfined({ call: (command, ...args) => connection.callUnheld(command, ...args) });
    } catch (error) {
      if (error instanceof MirrorGuardError) {
        this.shadowVerified = false;
        this.#shadowCheck = Promise.reject(error);
        this.#shadowCheck.catch(() => undefined);
      }
      throw error;
    }
  }

  /** The bundled snapshot until the origin's own COMMAND reply has been read (once, at connect). */
  get table(): CommandTable {
    return this.#table;
  }

  set table(table: CommandTable) {
    this.#table = table;
    this.#plainReads.clear();
    this.#originAllowed.clear();
  }

  /**
   * Whether a command of this name is a plain read — no subcommands, on the origin's allow-list of
   * harmless reads (not a script, nothing it rewrites) — so that while the shadow owns nothing it
   * goes to the origin with no further look. Answers are cached per name; only names the table
   * knows are cached.
   */
  isPlainRead(name: string): boolean {
    const cached = this.#plainReads.get(name);
    if (cached !== undefined) return cached;
    const spec = this.#table.get(name);
    if (spec === undefined) return false;
    const plain = spec.subcommands.size === 0 && isHarmlessRead(spec);
    this.#plainReads.set(name, plain);
    return plain;
  }

  /**
   * Whether `name args…` is on the origin's allow-list (see mayReachOrigin): the origin's gate,
   * decided apart from routing (and from isPlainRead), cached per name for commands without
   * subcommands. AUTH and HELLO are judged by their arguments, each time: only as the configured
   * user (see reauthentication.ts).
   */
  mayReachOrigin(name: unknown, args: readonly unknown[]): boolean {
    const cached = typeof name === 'string' ? this.#originAllowed.get(name) : undefined;
    if (cached !== undefined) return cached;
    const spec = this.#table.resolve([name, ...args]);
    if (spec !== undefined && AUTHENTICATING.has(spec.name)) return reauthenticationRefusal(spec.name, args, this.credentials) === undefined;
    const allowed = mayReachOrigin(spec);
    if (typeof name === 'string' && spec !== undefined && spec.subcommands.size === 0 && this.#table.get(name) === spec) this.#originAllowed.set(name, allowed);
    return allowed;
  }

  /** What scripts write on a real shadow (undefined for the memory engine, which runs none); its connections open on the first script. */
  get scriptWrites(): ScriptWriteTracker | undefined {
    if (this.shadow.kind === 'memory') return undefined;
    this.#scriptWrites ??= new ScriptWriteTracker(this.shadow.options);
    return this.#scriptWrites;
  }

  /** Whether a database other than `database` owns the key, or has a write to it on its way (a server's invalidations do not name the database). */
  ownedElsewhere(key: KeyId, database: DatabaseShadow): boolean {
    return [...this.#databases.values()].some((other) => other !== database && other.state.routesToShadow(key));
  }

  /** The shadow's database index for the origin's database `db`. */
  shadowDb(db: number): number {
    if (!Number.isInteger(db) || db < 0 || db >= DATABASES) {
      throw new MirrorGuardError('MG_ERR_REDIS_UNSUPPORTED', `database ${db} of the origin is beyond the ${DATABASES} databases the shadow maps`);
    }
    if (this.shadow.kind === 'memory') return db;
    // A rotation: one-to-one over the 16 databases, the origin's own mapping to the shadow's own.
    return (db - this.#originDb + (this.shadow.options.db ?? 0) + DATABASES) % DATABASES;
  }

  /** The mirror's view of the origin's database `db`, created on first use. */
  database(db: number): DatabaseShadow {
    let database = this.#databases.get(db);
    if (database !== undefined) return database;
    const shadowDb = this.shadowDb(db);
    const origin = this.#connect(new SideConnection({ ...this.#originOptions, db }, 'origin'));
    const writer = this.shadow.kind === 'redis' ? this.#connect(new SideConnection({ ...this.shadow.options, db: shadowDb }, 'shadow', this.#admission)) : undefined;
    const state = new KeyState();
    if (this.#allHidden) state.hideOrigin();
    const materializer =
      this.shadow.kind === 'redis'
        ? new Materializer(originReader(origin), shadowWriter(writer!), state)
        : new Materializer(originValueReader(origin), memoryWriter(this.shadow.engine, shadowDb), state);
    database = { state, materializer, origin, shadowDb, connections: writer === undefined ? [origin] : [origin, writer] };
    this.#databases.set(db, database);
    return database;
  }

  /** After FLUSHALL: the origin is hidden in every database, now and later. */
  hideAllOrigins(): void {
    this.#allHidden = true;
    for (const { state } of this.#databases.values()) state.hideOrigin();
  }

  /**
   * The shared connections' errors are not the app's events: the app hears of the origin through its
   * own connection and of the shadow through its client's shadow connection, once each, as a plain
   * client would. Their failures reach the calls that wait on them.
   */
  #connect(connection: SideConnection): SideConnection {
    connection.on('error', () => undefined);
    this.#connections.push(connection);
    return connection;
  }

  /** The keys of `argv`, as the origin names them (COMMAND GETKEYSANDFLAGS executes nothing). */
  async keysFromOrigin(argv: readonly unknown[]): Promise<KeyToOwn[]> {
    const { origin } = this.database(this.#originDb);
    await whenReady(origin);
    const reply = (await origin.callBuffer('COMMAND', 'GETKEYSANDFLAGS', ...argv.map((arg) => (Buffer.isBuffer(arg) ? arg : String(arg))))) as Array<[Buffer, Buffer[]]>;
    return reply.map(([key]) => ({ key }));
  }

  /** A client's own connection to the shadow, on the shadow's database for the origin's `db`. */
  openShadow(db: number): Redis {
    const shadowDb = this.shadowDb(db);
    return this.shadow.kind === 'redis' ? new SideConnection({ ...this.shadow.options, db: shadowDb }, 'shadow', this.#admission) : new MemoryRedis({ engine: this.shadow.engine, db: shadowDb });
  }

  retain(): void {
    this.#clients += 1;
  }

  /** Called by each client as it closes; the last one closes the shared connections. */
  async release(mode: 'quit' | 'disconnect'): Promise<void> {
    this.#clients -= 1;
    if (this.#clients > 0) return;
    this.#scriptWrites?.close();
    if (mode === 'disconnect') for (const connection of this.#connections) connection.disconnect();
    else await Promise.allSettled(this.#connections.map((connection) => connection.quit()));
  }
}

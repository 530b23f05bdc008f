import { createJournal, MirrorGuardError, type Journal } from '@mirrorguard/core';
import { Command, Redis, ReplyError, type RedisOptions } from 'ioredis';
import { classifyCommand } from '../commands/classify-command.ts';
import { mergedKeyspaceRead } from '../routing/keyspace-reads.ts';
import { sortOverBoth } from '../routing/sort-over-both.ts';
import { KEYSPACE_READS } from '../routing/allowed-commands.ts';
import { routeCommand } from '../routing/route-command.ts';
import type { KeyToOwn, Route } from '../routing/route.ts';
import { keyId } from '../memory/key-id.ts';
import { otherDatabase, routeToOtherDatabase } from '../routing/route-databases.ts';
import { ShadowSession, type DatabaseShadow, type ShadowTarget } from './shadow-session.ts';
import { createMemoryEngine } from '../memory/families.ts';
import { whenReady } from '../connection/when-ready.ts';
import { appBounds, failedSide, SideConnection } from '../connection/side-connection.ts';
import { boundCall, isSettled, trackSettled } from './settle-bound.ts';
import { replacesWholeKey } from '../routing/whole-key-writes.ts';
import { describe } from './describe-command.ts';
import { blockedBehind, failUnlessCopied, mayBlock, sendCopies } from './copy-with-write.ts';
import type { UnsandboxedShadow } from './shadow-user-check.ts';
import { originRefusal } from '../routing/origin-allow-list.ts';
import { pinForShadow, pinWritten, runnerFor, type PinnedWriter, sameBytes, snapshotArgv, WRITTEN_AS_SENT } from '../connection/judged-command.ts';
import { AUTHENTICATING, credentialsOf, reauthenticationRefusal, sameCredentials } from './reauthentication.ts';

type PipelineStream = Parameters<Redis['sendCommand']>[1];

export interface ShadowRedisOptions {
  /**
   * Where every write lands: a real Redis (a URL or ioredis options; not the origin's own server and
   * database), or `'memory'`, an in-process engine (see the README for the commands it runs).
   */
  readonly shadow: string | RedisOptions;
  /** Where shadowed writes and refusals are journaled; a `mirror` journal with no sinks by default. */
  readonly journal?: Journal;
  /**
   * A real shadow whose ACL user could reach beyond it (MIGRATE, REPLICAOF, CONFIG SET, … — from a
   * script too): `'refuse'` (the default) fails every write with MG_ERR_REDIS_SHADOW_NOT_SANDBOXED;
   * `'warn'` journals a `warned` event, emits a process warning and goes on.
   */
  readonly unsandboxedShadow?: UnsandboxedShadow;
}

// How duplicate() hands its session to the new client, without a public option for it.
const SESSION = Symbol('mirrorguard.shadowSession');
type InternalOptions = ShadowRedisOptions & { readonly [SESSION]?: ShadowSession };

/** What a command that rewrites itself when written is given as its socket while it is judged: a new one, so ioredis' scripts write EVAL with the script's text. */
const standIn = (): object => ({});

/**
 * Marks a command sent to the origin with what it was judged to write (its bytes, or once it is
 * pinned its writer): ioredis may send it again (offline queue, reconnect); it keeps that route,
 * and goes out as judged or not at all.
 */
const SENT_TO_ORIGIN = Symbol('mirrorguard.sentToOrigin');
type RoutedCommand = Command & { [SENT_TO_ORIGIN]?: string | Buffer | PinnedWriter };

/** How many commands of a pipeline (its write stream) have gone to the origin. */
const ORIGIN_SHARE = new WeakMap<object, number>();

/** The server a connection reaches, databases aside; every spelling of this machine is one. */
function server(options: RedisOptions): string {
  if (options.path) return `socket ${options.path}`;
  const host = (options.host ?? '127.0.0.1').toLowerCase().replace(/^\[|\]$/g, '');
  const local = host === 'localhost' || host.startsWith('127.') || host === '0.0.0.0' || host === '::1' || host === '::' || host === '0';
  return `${local ? 'this machine' : host}:${options.port ?? 6379}`;
}

const asOptions = (target: string | RedisOptions): RedisOptions => (typeof target === 'string' ? { ...parseUrl(target) } : { ...target });

function parseUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
    ...(parsed.pathname.length > 1 && { db: Number(parsed.pathname.slice(1)) }),
  };
}

/** The writes a command (or a transaction) makes, for the journal, and why they went where they went. */
interface Effect {
  readonly operations: readonly string[];
  readonly reason: string;
}

/** The effect of one command, described (its arguments redacted and cut) only if the journal reads it. */
class DescribedWhenRead implements Effect {
  readonly reason: string;
  readonly #argv: readonly unknown[];
  #operations: readonly string[] | undefined;

  constructor(argv: readonly unknown[], reason: string) {
    this.#argv = argv;
    this.reason = reason;
  }

  get operations(): readonly string[] {
    return (this.#operations ??= [describe(this.#argv)]);
  }
}

/** Handled by a memory shadow's connection itself, not by the engine's command families. */
const TRANSACTION_CONTROL: ReadonlySet<string> = new Set(['multi', 'exec', 'discard', 'watch', 'unwatch', 'select']);

const SORT_OVER_BOTH_IN_TRANSACTION: Route = {
  target: 'refuse',
  code: 'MG_ERR_REDIS_UNSUPPORTED',
  reason: 'SORT with BY or GET patterns is evaluated over origin and shadow, which a transaction on the shadow cannot do',
};

const KEYSPACE_READ_IN_TRANSACTION: Route = {
  target: 'refuse',
  code: 'MG_ERR_REDIS_UNSUPPORTED',
  reason: 'SCAN, KEYS, DBSIZE and RANDOMKEY are merged over origin and shadow, which a transaction on the shadow cannot do',
};

/** The words judged of each command bound for a memory shadow: the engine runs these, never what the app's Command says later. */
const MEMORY_WORDS = new WeakMap<Command, readonly unknown[]>();

/**
 * Holds a command's answer until `release`: the app hears a script's answer only once what it
 * wrote is known. `answered` resolves when the server answered (a reply error included), and
 * rejects when the answer will not come (a timeout, the connection lost).
 */
function holdAnswer(command: Command): { answered: Promise<void>; settled(): boolean; release(): void } {
  const { resolve, reject } = command;
  let outcome: (() => void) | undefined;
  let released = false;
  let answer!: (error?: Error) => void;
  const answered = new Promise<void>((ok, failed) => {
    answer = (error) => (error === undefined ? ok() : failed(error));
  });
  answered.catch(() => undefined);
  command.resolve = (value: unknown) => {
    if (released) return resolve(value);
    outcome ??= () => resolve(value);
    answer();
  };
  command.reject = (error: Error) => {
    if (released) return reject(error);
    outcome ??= () => reject(error);
    answer(error instanceof ReplyError ? undefined : error);
  };
  return {
    answered,
    settled: () => outcome !== undefined,
    release() {
      released = true;
      outcome?.();
    },
  };
}

/** Whether two routes send a command the same way: same side, same keys, write or not. */
function sameRoute(a: Route, b: Route): boolean {
  if (a.target !== b.target) return false;
  if (a.target !== 'shadow' || b.target !== 'shadow') return true;
  return a.write === b.write && (a.askOrigin === undefined) === (b.askOrigin === undefined) && a.keys.length === b.keys.length && a.keys.every(({ key }, index) => keyId(key) === keyId(b.keys[index]!.key));
}

/** Applies a route's rewrite (a database index mapped to the shadow's) to the command's arguments. */
function rewriteForShadow(command: Command, route: Route): void {
  if (route.target === 'shadow' && route.rewrite !== undefined) command.args[route.rewrite.index - 1] = route.rewrite.value;
}

const isUnsupported = (error: unknown): error is MirrorGuardError => error instanceof MirrorGuardError && error.code === 'MG_ERR_REDIS_UNSUPPORTED';
/** The shadow checks' refusals (the origin's own server; a user not confined to the shadow): no failure of the shadow, their own error says why. */
/** Whether a pipeline writes this command (ioredis passes the Pipeline itself as the stream). */
const inPipeline = (stream: unknown): boolean => (stream as { isPipeline?: boolean } | undefined)?.isPipeline === true;

const isShadowCheckRefusal = (error: unknown): error is MirrorGuardError =>
  error instanceof MirrorGuardError && (error.code === 'MG_ERR_REDIS_SHADOW_IS_ORIGIN' || error.code === 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED');

/** The shadow named in the options; refuses the origin's own server and database. */
function shadowTarget({ shadow, unsandboxedShadow }: ShadowRedisOptions, originOptions: RedisOptions, abandon: () => void): ShadowTarget {
  if (shadow === 'memory') return { kind: 'memory', engine: createMemoryEngine() };
  // The app's timeouts and retries bound the shadow's connections too (unless the shadow's options set
  // their own); a write fails after one retry on a shadow that went away, or sooner if the app asks.
  const appRetries = originOptions.maxRetriesPerRequest;
  const maxRetriesPerRequest = typeof appRetries === 'number' && appRetries >= 0 && appRetries < 1 ? appRetries : 1;
  const options: RedisOptions = { ...appBounds(originOptions), ...asOptions(shadow), enableAutoPipelining: false, maxRetriesPerRequest, lazyConnect: false };
  delete options.keyPrefix;
  // Another database of the origin's server is no shadow: SELECT, MOVE and FLUSHALL reach across databases.
  if (server(options) === server(originOptions)) {
    abandon();
    throw new MirrorGuardError('MG_ERR_REDIS_SHADOW_IS_ORIGIN', `the shadow is the origin's own server (${server(options)}); a mirror's writes would reach the origin through it`);
  }
  return { kind: 'redis', options, ...(unsandboxedShadow !== undefined && { unsandboxed: unsandboxedShadow }) };
}

/**
 * An ioredis `Redis` whose reads see the origin and whose writes land in a shadow (a second Redis,
 * or the in-process memory engine). Every
 * command passes `sendCommand`, where it is classified by the server's command metadata and routed:
 * reads of untouched keys to the origin; writes, and reads of keys the shadow owns, to the shadow
 * (after copying the key from the origin on first write); PUBLISH suppressed; admin, unknown and
 * not-allowed commands refused. Shadow-bound commands keep their order, so a request reads its own
 * writes, in pipelines too.
 */
export class ShadowRedis extends Redis {
  readonly #session: ShadowSession;
  readonly #shadow: Redis;
  #closed = false;
  #shadowTail: Promise<void> = Promise.resolve();
  /** Links of #shadowTail not yet run: while there are none, a command with nothing to copy goes out at once. */
  #pendingLinks = 0;
  /** A pipelined transaction (MULTI … EXEC in one pipeline), held until EXEC decides where it runs. */
  #pipelined: Array<{ command: Command; argv: unknown[] }> | undefined;
  /** Inside MULTI sent on its own (`multi({ pipeline: false })`): every command goes to the shadow until EXEC or DISCARD. */
  #manualTransaction = false;
  /** Pipelines counting a command answered elsewhere once the origin's socket exists (see #countInPipeline). */
  #countOnConnect: Array<() => void> = [];
  /** A script that may write was queued in the manual transaction: its EXEC is tracked. */
  #scriptsQueued = false;
  /** WATCH was sent: the transaction that follows runs on the shadow, where the keys are watched. */
  #watching = false;
  /** The origin database this client has selected (its shadow connection has selected the matching one). */
  #db: number;
  /** That database's state and copier. */
  #current: DatabaseShadow;
  /** What ioredis last wrote on the origin's socket, caught by #catchWrites. */
  #written: string | Buffer | undefined;
  #caughtSocket: unknown;

  constructor(origin: string | RedisOptions, options: ShadowRedisOptions) {
    const originOptions = asOptions(origin);
    super(originOptions);
    const given = (options as InternalOptions)[SESSION];
    // A duplicate authenticates as the user its session checked, or not at all.
    if (given !== undefined && !sameCredentials(credentialsOf(originOptions), given.credentials)) {
      super.disconnect();
      throw new MirrorGuardError('MG_ERR_REDIS_REFUSED', 'mirrorguard refused duplicate() with another username or password: the origin connection would authenticate as another user than the one checked');
    }
    let session = given;
    if (session === undefined) {
      const journal = options.journal ?? createJournal({ profile: 'mirror' });
      session = new ShadowSession(originOptions, shadowTarget(options, originOptions, () => super.disconnect()), journal);
    }
    session.retain();
    this.#session = session;
    this.#db = originOptions.db ?? 0;
    this.#current = session.database(this.#db);
    this.#shadow = session.openShadow(this.#db);
    // The app hears of its shadow connection's errors as it hears of the origin's: through this
    // client, once per error (the shared connections' errors are not repeated).
    const report = (error: Error): void => (this as unknown as { silentEmit(event: string, error: Error): void }).silentEmit('error', error);
    this.#shadow.on('error', report);
  }

  /** Where the command metadata comes from: `origin` once its COMMAND reply is read, else the bundled snapshot. */
  get commandSource(): string {
    return this.#session.table.source;
  }

  /**
   * Settles once the origin's user has been asked what it could run: with what it could do beyond
   * the origin's allow-list (also journaled as `warned` and printed), or undefined when nothing.
   */
  get originUserChecked(): Promise<string | undefined> {
    return this.#session.userChecked;
  }

  /**
   * Settles once the shadow is known to be another server than the origin, with a user confined to
   * it (at once for `'memory'`); rejects with MG_ERR_REDIS_SHADOW_IS_ORIGIN or
   * MG_ERR_REDIS_SHADOW_NOT_SANDBOXED when it is not (in `'warn'` mode the second only warns).
   */
  get shadowChecked(): Promise<void> {
    return this.#session.shadowChecked();
  }

  override sendCommand(command: Command, stream?: PipelineStream): unknown {
    // A command ioredis re-sends from its offline queue (or after a reconnect) keeps its first route:
    // routed again, a read queued before a write could land after it.
    const judged = (command as RoutedCommand)[SENT_TO_ORIGIN];
    if (judged !== undefined) {
      // Written again: as judged — pinned now, on its first resend — or not at all (app code replaced what writes it).
      let pinned = typeof judged === 'function' ? command.toWritable === judged : command.toWritable === WRITTEN_AS_SENT;
      if (pinned && typeof judged !== 'function') {
        const writer = pinWritten(command, judged);
        pinned = writer !== undefined;
        if (writer !== undefined) (command as RoutedCommand)[SENT_TO_ORIGIN] = writer;
      }
      if (!pinned) {
        const reason = 'its toWritable was replaced after it was judged';
        this.#session.journal.record({ dependency: 'redis', action: 'blocked', operation: describe([command.name, ...command.args]), reason });
        command.reject(new MirrorGuardError('MG_ERR_REDIS_REFUSED', `mirrorguard refused ${String(command.name).toUpperCase()}: ${reason}`));
        return command.promise;
      }
      // ioredis re-sends its queue after a reconnect, with SELECTs of its own before: the database
      // a re-sent SELECT names is the one its followers meant.
      if (String(command.name).toLowerCase() === 'select') {
        try {
          this.#switchDatabase(String(command.args[0]));
        } catch {
          // A database beyond the shadow's was refused when first sent; the origin answers this one.
        }
      }
      // A pipeline's command is sent again on its own: the pipeline counts a resend as complete only
      // once all its commands are written again, and those answered by the shadow are not (it would
      // hold this one forever, never flushed to the new connection).
      return super.sendCommand(command, inPipeline(stream) ? undefined : stream);
    }
    // The common case of a mirror, with no further look: a plain read while the shadow owns nothing.
    if (this.#current.state.isEmpty() && this.#pipelined === undefined && !this.#manualTransaction && this.#session.isPlainRead(command.name)) {
      return this.#sendToOrigin(command, stream);
    }
    // The call is bounded from now, as ioredis bounds a command from when it is sent: its
    // commandTimeout runs whether it goes to the origin, waits for a copy, or goes to the shadow.
    trackSettled(command);
    if (typeof this.options.commandTimeout === 'number') command.setTimeout(this.options.commandTimeout);
    // What routing judges is a copy: app code that changes the command (or its Buffers) afterwards changes neither.
    const argv = snapshotArgv(command);
    const name = String(command.name).toLowerCase();
    const inTransaction = (command as Command & { inTransaction?: boolean }).inTransaction === true;
    if (name === 'multi' && inTransaction) {
      this.#pipelined = [{ command, argv }];
      return command.promise;
    }
    if (this.#pipelined !== undefined) {
      this.#pipelined.push({ command, argv });
      if (name === 'exec' || name === 'discard') {
        this.#runPipelinedTransaction(this.#pipelined, stream);
        this.#pipelined = undefined;
      }
      return command.promise;
    }
    if (name === 'select' && !this.#manualTransaction) return this.#select(command, stream);
    const route = this.#manualTransaction || name === 'multi' ? this.#transactionRoute(name, argv) : this.#route(argv);
    if (route.target === 'origin') return this.#sendToOrigin(command, stream);
    this.#countInPipeline(stream);
    if (route.target === 'suppress') {
      this.#session.journal.record({ dependency: 'redis', action: 'blocked', operation: describe(argv), reason: route.reason });
      command.resolve(0);
    } else if (route.target === 'merge') {
      this.#mergeKeyspaceRead(command, route.name, argv, this.#current);
    } else if (route.target === 'sort-over-both') {
      this.#sortOverBoth(command, route, argv, this.#current);
    } else if (route.target === 'refuse') {
      // ioredis' own CLIENT SETINFO, which a Redis before 7.2 does not know, is no side effect of the app's.
      if (name !== 'client' || String(argv[1]).toLowerCase() !== 'setinfo') {
        this.#session.journal.record({ dependency: 'redis', action: 'blocked', operation: describe(argv), reason: route.reason });
      }
      command.reject(new MirrorGuardError(route.code, `mirrorguard refused ${String(command.name).toUpperCase()}: ${route.reason}`));
    } else {
      if (name === 'watch') this.#watching = true;
      if (name === 'unwatch') this.#watching = false;
      rewriteForShadow(command, route);
      const unjudged = this.#pinForShadow(command, route);
      if (unjudged !== undefined) {
        this.#session.journal.record({ dependency: 'redis', action: 'blocked', operation: describe(argv), reason: unjudged });
        command.reject(new MirrorGuardError('MG_ERR_REDIS_REFUSED', `mirrorguard refused ${String(command.name).toUpperCase()}: ${unjudged}`));
        return command.promise;
      }
      this.#hideOriginOnFlush(name);
      // Outside a transaction only: one that is aborted or fails would leave the key owned and unwritten.
      const whole = !this.#manualTransaction && name !== 'multi' && route.write && replacesWholeKey(argv);
      this.#toShadow([command], route, route.write ? new DescribedWhenRead(argv, 'write applied to the shadow') : undefined, whole);
    }
    return command.promise;
  }

  /**
   * SELECT goes to the origin (its reply is the app's) and, in order behind the commands before it,
   * to this client's shadow connection; from then on commands are routed by that database's state.
   */
  #select(command: Command, stream: PipelineStream): unknown {
    try {
      this.#switchDatabase(String(command.args[0]));
    } catch (error) {
      this.#countInPipeline(stream);
      command.reject(error as Error);
      return command.promise;
    }
    return this.#sendToOrigin(command, stream);
  }

  /**
   * Routes by database `index` from now on, and selects the matching database on the shadow
   * connection, in order. Only what the server reads as an index switches (it refuses "01", "+1").
   */
  #switchDatabase(index: string): void {
    if (!/^(?:0|[1-9][0-9]*)$/.test(index)) return;
    const db = Number(index);
    const shadowSelect = new Command('select', [this.#session.shadowDb(db)]);
    shadowSelect.promise.catch(() => undefined);
    this.#toShadow([shadowSelect], { target: 'shadow', keys: [], write: false });
    this.#db = db;
    this.#current = this.#session.database(db);
  }

  #sendToOrigin(command: Command, stream: PipelineStream): unknown {
    // The origin's gate, whatever the routing decided: only commands known to be harmless reads,
    // judged by what will be written (a Command that rewrites itself when written, as ioredis'
    // script commands do, could not be).
    if (command.toWritable !== WRITTEN_AS_SENT || !this.#session.mayReachOrigin(command.name, command.args)) return this.#refuseForOrigin(command, stream);
    // What was judged is what is written, now and on every resend (offline queue, reconnect): the
    // bytes ioredis writes now (caught on the socket, so the GET path makes them once and adds no
    // property to the Command), or, when it queues the command or buffers it in a pipeline, the
    // bytes it would write now; a resend is pinned to them (see above).
    this.#catchWrites();
    this.#written = undefined;
    // ioredis resends a pipeline's commands after a reconnect only if those on the connection are
    // numbered 0, 1, 2, … (else it takes them for a pipeline half answered, and aborts them): the
    // origin's share of a pipeline is numbered on its own, as the commands answered elsewhere never reach it.
    if (inPipeline(stream)) {
      const index = ORIGIN_SHARE.get(stream as object) ?? 0;
      ORIGIN_SHARE.set(stream as object, index + 1);
      (command as Command & { pipelineIndex?: number }).pipelineIndex = index;
    }
    const result = super.sendCommand(command, stream);
    // A pipeline's last command flushes the whole pipeline onto the socket: not its own bytes.
    (command as RoutedCommand)[SENT_TO_ORIGIN] = (inPipeline(stream) ? undefined : this.#written) ?? WRITTEN_AS_SENT.call(command, undefined as never);
    this.#written = undefined;
    return result;
  }

  /** Catches what ioredis writes on the origin's current socket (see #sendToOrigin). */
  #catchWrites(): void {
    const socket = (this as unknown as { stream?: { write(data: string | Buffer, ...rest: unknown[]): boolean } }).stream;
    if (socket === undefined || socket === this.#caughtSocket) return;
    this.#caughtSocket = socket;
    const write = socket.write;
    socket.write = (data: string | Buffer, ...rest: unknown[]): boolean => {
      this.#written = data;
      return write.call(socket, data, ...rest);
    };
  }

  #refuseForOrigin(command: Command, stream: PipelineStream): unknown {
    this.#countInPipeline(stream);
    const name = String(command.name).toLowerCase();
    const reason = (AUTHENTICATING.has(name) && reauthenticationRefusal(name, command.args, this.#session.credentials)) || originRefusal([command.name, ...command.args]);
    this.#session.journal.record({ dependency: 'redis', action: 'blocked', operation: describe([command.name, ...command.args]), reason });
    command.reject(new MirrorGuardError('MG_ERR_REDIS_REFUSED', `mirrorguard refused ${String(command.name).toUpperCase()}: ${reason}`));
    return command.promise;
  }

  /**
   * A pipeline flushes its buffered commands to the origin once every command has been written to
   * its stream; a command answered elsewhere must still count. Before the origin's socket exists
   * (queued commands are re-sent on connect) the count waits for it.
   */
  #countInPipeline(stream: PipelineStream): void {
    const pipeline = stream as { isPipeline?: boolean; destination?: { redis?: Redis }; write(data: string): void } | undefined;
    if (!pipeline?.isPipeline) return;
    const origin = pipeline.destination?.redis ?? this;
    if ((origin as { stream?: unknown }).stream) pipeline.write('');
    else if (origin === this) {
      // One listener for all the pipelines waiting (an origin that stays down would pile up listeners).
      if (this.#countOnConnect.length === 0) this.once('connect', () => this.#countOnConnect.splice(0).forEach((write) => write()));
      this.#countOnConnect.push(() => pipeline.write(''));
    } else origin.once('connect', () => pipeline.write(''));
  }

  /**
   * Inside MULTI sent on its own, reads and writes go to the shadow (refusals still refuse).
   * Connection commands (SELECT, INFO, CLIENT SETINFO, …) stay on the origin: ioredis sends its own
   * handshake through here, possibly after the app's MULTI.
   */
  #transactionRoute(name: string, argv: readonly unknown[]): Route {
    if (name === 'multi') this.#manualTransaction = true;
    let scriptsRun = false;
    if (name === 'exec' || name === 'discard') {
      this.#manualTransaction = false;
      this.#watching = false;
      scriptsRun = name === 'exec' && this.#scriptsQueued;
      this.#scriptsQueued = false;
    }
    const routed = this.#route(argv);
    // A script queued in the transaction runs at EXEC: EXEC is what is tracked. Copies made while
    // commands are queued are kept (a DEL now would be queued with them).
    if (routed.target === 'shadow' && routed.script === 'write') this.#scriptsQueued = true;
    let route: Route = routed;
    if (routed.target === 'shadow') {
      const { script: _queued, ...queuedRoute } = routed;
      route = scriptsRun ? { ...queuedRoute, script: 'write' } : queuedRoute;
    }
    if (KEYSPACE_READS.has(name)) return KEYSPACE_READ_IN_TRANSACTION;
    if (route.target === 'sort-over-both') return SORT_OVER_BOTH_IN_TRANSACTION;
    if (route.target !== 'origin') return route.target === 'suppress' ? { target: 'shadow', write: true, keys: [] } : route;
    const classification = classifyCommand(this.#session.table, argv);
    if (classification.kind === 'neither') return route;
    // A read inside the transaction runs on the shadow: its keys are copied there first.
    const unsupported = this.#unsupportedByShadow(classification.name);
    if (unsupported !== undefined) return unsupported;
    const refs = classification.keys;
    if (refs === undefined) return { target: 'shadow', write: false, keys: [], askOrigin: [argv] };
    return { target: 'shadow', write: false, keys: refs.map((ref) => ({ key: argv[ref.index] as Buffer | string })) };
  }

  /**
   * A MULTI … EXEC pipeline, decided as a whole once EXEC arrives: to the origin when every command
   * is a read of keys the shadow does not own (and nothing is watched on the shadow); otherwise to
   * the shadow, after copying every key it names. A refused command refuses the whole transaction.
   */
  #runPipelinedTransaction(handedOver: ReadonlyArray<{ command: Command; argv: unknown[] }>, stream: PipelineStream): void {
    // Judged as they are now, when EXEC decides: what is routed, rewritten and pinned below is one look.
    const queued = handedOver.map(({ command }) => ({ command, argv: snapshotArgv(command) }));
    const body = queued.slice(1, -1);
    const routes = body.map(({ argv }) => this.#route(argv));
    const toOrigin = !this.#watching && routes.every((route) => route.target === 'origin');
    // On the shadow, a keyspace-wide read would miss the origin's keys: merging it inside a transaction is not done.
    if (!toOrigin) {
      routes.forEach((route, index) => {
        if (route.target === 'merge' || KEYSPACE_READS.has(String(body[index]!.argv[0]).toLowerCase())) routes[index] = KEYSPACE_READ_IN_TRANSACTION;
        if (route.target === 'sort-over-both') routes[index] = SORT_OVER_BOTH_IN_TRANSACTION;
      });
    }
    // All or nothing: a transaction the origin's gate would cut in half is refused whole.
    const outsideGate = toOrigin ? body.find(({ command }) => !this.#session.mayReachOrigin(command.name, command.args)) : undefined;
    if (outsideGate !== undefined) routes.push({ target: 'refuse', code: 'MG_ERR_REDIS_REFUSED', reason: originRefusal(outsideGate.argv) });
    const refused = routes.find((route): route is Extract<Route, { target: 'refuse' }> => route.target === 'refuse');
    if (refused === undefined && toOrigin) {
      for (const { command } of queued) this.#sendToOrigin(command, stream);
      return;
    }
    for (const _ of queued) this.#countInPipeline(stream);
    if (refused !== undefined) {
      const error = new MirrorGuardError(refused.code, `mirrorguard refused the transaction: ${refused.reason}`);
      this.#session.journal.record({ dependency: 'redis', action: 'blocked', operation: queued.map(({ argv }) => describe(argv)).join('; '), reason: refused.reason });
      for (const { command } of queued) command.reject(error);
      return;
    }
    body.forEach(({ command }, index) => {
      rewriteForShadow(command, routes[index]!);
      // SELECT of the current database (another is refused): the shadow's index for it.
      if (String(command.name).toLowerCase() === 'select') command.args[0] = String(this.#session.shadowDb(this.#db));
    });
    const unjudged = queued.map(({ command }, index) => this.#pinForShadow(command, routes[index - 1])).find((reason) => reason !== undefined);
    if (unjudged !== undefined) {
      const error = new MirrorGuardError('MG_ERR_REDIS_REFUSED', `mirrorguard refused the transaction: ${unjudged}`);
      this.#session.journal.record({ dependency: 'redis', action: 'blocked', operation: queued.map(({ argv }) => describe(argv)).join('; '), reason: unjudged });
      for (const { command } of queued) command.reject(error);
      return;
    }
    for (const { argv } of body) this.#hideOriginOnFlush(String(argv[0]).toLowerCase());
    // A read the origin would have answered alone runs on the shadow with the rest: its keys are copied first.
    const keys = routes.flatMap((route, index) => (route.target === 'shadow' ? route.keys : route.target === 'origin' ? (this.#keysOfRead(body[index]!.argv) ?? []) : []));
    const askOrigin = routes.flatMap((route, index) =>
      route.target === 'shadow' ? (route.askOrigin ?? []) : route.target === 'origin' && this.#keysOfRead(body[index]!.argv) === undefined ? [body[index]!.argv] : [],
    );
    const write = routes.some((route) => route.target === 'suppress' || (route.target === 'shadow' && route.write));
    // Each write of the transaction is one effect, as each is one on the primary.
    const writes = body.filter((_, index) => routes[index]!.target === 'suppress' || (routes[index]!.target === 'shadow' && (routes[index] as { write: boolean }).write));
    const effect = write ? { operations: writes.map(({ argv }) => describe(argv)), reason: 'transaction applied to the shadow' } : undefined;
    this.#watching = false;
    const scripts = routes.map((route) => (route.target === 'shadow' ? route.script : undefined));
    const script = scripts.includes('write') ? 'write' : scripts.includes('read') ? 'read' : undefined;
    this.#toShadow(queued.map(({ command }) => command), { target: 'shadow', keys, write, ...(askOrigin.length > 0 && { askOrigin }), ...(script !== undefined && { script }) }, effect);
  }

  /**
   * Pins what a command bound for the shadow will write to what was judged (see pinWritten); for the
   * memory engine, keeps a private copy of its words to run. A command that rewrites itself when
   * written (ioredis' scripts: EVALSHA, or EVAL with the script's text) writes itself once, here,
   * and must write what its name and arguments then say and be routed as it was (same side, keys,
   * write or not). Returns why not, or undefined.
   */
  #pinForShadow(command: Command, route: Route | undefined): string | undefined {
    let bytes: string | Buffer | undefined;
    if (command.toWritable !== WRITTEN_AS_SENT) {
      try {
        bytes = command.toWritable(standIn());
      } catch (error) {
        return `its toWritable threw (${(error as Error).message})`;
      }
      const written = [command.name, ...command.args];
      if (!sameBytes(bytes, WRITTEN_AS_SENT.call(command, standIn())) || route === undefined || !sameRoute(route, this.#route(written))) {
        return 'it writes something else than the command judged (its toWritable is not ioredis\' own)';
      }
    }
    if (this.#session.shadow.kind === 'memory') MEMORY_WORDS.set(command, snapshotArgv(command));
    return pinForShadow(command, bytes) ? undefined : 'this Command was handed over before (or its toWritable cannot be pinned); a Command is judged and sent once';
  }

  /** The keys a read names, to copy before it runs on the shadow (none for a connection command); undefined when the origin must name them. */
  #keysOfRead(argv: readonly unknown[]): KeyToOwn[] | undefined {
    return classifyCommand(this.#session.table, argv).keys?.map((ref) => ({ key: argv[ref.index] as Buffer | string }));
  }

  #route(argv: readonly unknown[]): Route {
    const classification = classifyCommand(this.#session.table, argv);
    const name = classification.name;
    // Inside a transaction SELECT would change the database halfway through its routing.
    if (name === 'select' && String(argv[1]) !== String(this.#db)) {
      return { target: 'refuse', code: 'MG_ERR_REDIS_UNSUPPORTED', reason: 'SELECT of another database inside a transaction is not routed' };
    }
    const route = routeCommand(classification, argv, this.#current.state);
    if (route.target !== 'shadow') return route;
    const unsupported = this.#unsupportedByShadow(name);
    if (unsupported !== undefined) return unsupported;
    const other = otherDatabase(name, argv);
    if (other === undefined) return route;
    try {
      return routeToOtherDatabase(name, argv, route, other, this.#session.database(other.db).shadowDb);
    } catch (error) {
      return { target: 'refuse', code: 'MG_ERR_REDIS_UNSUPPORTED', reason: (error as Error).message };
    }
  }

  /** FLUSHDB or FLUSHALL on its way to the shadow: from now on the origin is hidden (its database's, or every one). */
  #hideOriginOnFlush(name: string): void {
    if (name === 'flushall') this.#session.hideAllOrigins();
    if (name === 'flushdb') this.#current.state.hideOrigin();
  }

  /**
   * A write that replaces its keys whole, about to go out with nothing copied: each key not owned
   * yet reads from the shadow from now on, and is settled by the write's answer before the app hears
   * it (see Materializer.ownOnceWritten): applied, owned; refused by the server (a reply error),
   * still the origin's; unanswered (timed out, connection lost), distrusted.
   */
  #ownWhenWritten(keys: ReadonlyArray<{ readonly key: Buffer | string; readonly id: string; readonly database: DatabaseShadow }>, command: Command): void {
    const settles = keys.filter(({ id, database }) => !database.state.isOwned(id)).map(({ key, database }) => database.materializer.ownOnceWritten(key));
    if (settles.length === 0) return;
    const { resolve, reject } = command;
    command.resolve = (value: unknown) => {
      for (const settle of settles) settle('applied');
      return resolve(value);
    };
    command.reject = (error: Error) => {
      for (const settle of settles) settle(error instanceof ReplyError ? 'refused' : 'unknown');
      return reject(error);
    };
  }

  /** One journal event per write of the effect. */
  #journal(action: 'shadowed' | 'blocked', effect: Effect): void {
    // A write shadowed as routed is no refusal: unread, it is not described at all.
    if (action === 'shadowed' && !this.#session.journal.observed) return;
    for (const operation of effect.operations) this.#session.journal.record({ dependency: 'redis', action, operation, reason: effect.reason });
  }

  /** The memory engine's refusal of a command it does not run, decided before anything is copied or journaled as shadowed. */
  #unsupportedByShadow(name: string): Route | undefined {
    const { shadow } = this.#session;
    if (shadow.kind !== 'memory' || TRANSACTION_CONTROL.has(name) || shadow.engine.supports(name)) return undefined;
    return { target: 'refuse', code: 'MG_ERR_REDIS_UNSUPPORTED', reason: `the memory engine does not run ${name.toUpperCase().replace('|', ' ')}; use a real Redis as the shadow for it` };
  }

  /** Behind the pending shadow commands, so the request sees its own writes: both sides, merged. */
  #mergeKeyspaceRead(command: Command, name: string, argv: readonly unknown[], database: DatabaseShadow): void {
    const fail = (cause: unknown): void => {
      if (!isSettled(command)) command.reject(this.#failure(cause, `${name.toUpperCase()} over origin and shadow`));
    };
    const disarm = this.#boundCall(database, fail);
    this.#pendingLinks += 1;
    this.#shadowTail = this.#shadowTail.then(async () => {
      try {
        if (isSettled(command)) return;
        await this.#session.shadowChecked();
        await Promise.all([whenReady(this.#shadow), whenReady(database.origin)]);
        this.#selectShadow(database.shadowDb);
        const reply = await mergedKeyspaceRead(name, argv, database.origin, this.#shadow, database.state);
        if (!isSettled(command)) command.resolve(reply);
      } catch (cause) {
        fail(cause);
      } finally {
        disarm();
        this.#pendingLinks -= 1;
      }
    });
  }

  /**
   * Puts this client's shadow connection on database `db` before commands go out on it, if it is on
   * another: a SELECT made while the shadow was down failed unsent, and ioredis reconnects to the
   * database the connection was on (writes would land in the wrong database, their keys copied into
   * the right one). ioredis keeps the connection's database in `condition.select`.
   */
  #selectShadow(db: number): void {
    const condition = (this.#shadow as unknown as { condition?: { select?: number } }).condition;
    if (!(this.#shadow instanceof SideConnection) || condition === undefined || (condition.select ?? 0) === db) return;
    const select = new Command('select', [db]);
    select.promise.catch(() => undefined);
    this.#shadow.sendCommand(select);
  }

  /**
   * Bounds an app's call that waits on this database's copies and this client's shadow connection
   * as ioredis bounds a command on the app's own connection (see boundCall); `fail` gets the error.
   */
  #boundCall(database: DatabaseShadow, fail: (error: Error) => void): () => void {
    const shadow = this.#shadow instanceof SideConnection ? [this.#shadow] : [];
    return boundCall([...database.connections, ...shadow], { enabled: this.options.enableOfflineQueue !== false, appReady: this.status === 'ready' }, fail);
  }

  /**
   * The error an app's call gets when the mirror's own work for it failed: the origin's connection
   * failures as ioredis gives them (a plain client on that origin would get the same), the memory
   * engine's refusals and the shadow-is-origin check as they are, anything else of the shadow's
   * (down, RESTORE refused, …) as MG_ERR_REDIS_SHADOW_FAILED with the cause.
   */
  #failure(cause: unknown, what: string): Error {
    if (isUnsupported(cause) || isShadowCheckRefusal(cause)) return cause;
    if (failedSide(cause) === 'origin') return cause as Error;
    return new MirrorGuardError('MG_ERR_REDIS_SHADOW_FAILED', `the shadow could not take ${what}: ${(cause as Error).message}`, { cause });
  }

  /** SORT with patterns over origin and shadow, behind the pending shadow commands; STORE lands in the shadow. */
  #sortOverBoth(command: Command, route: Extract<Route, { target: 'sort-over-both' }>, argv: readonly unknown[], database: DatabaseShadow): void {
    const effect = route.store === undefined ? undefined : { operations: [describe(argv)], reason: 'sorted over origin and shadow, stored in the shadow' };
    // Reads of the destination wait for the result, as behind any write.
    const destination = route.store === undefined ? undefined : keyId(route.store);
    if (destination !== undefined) database.state.claim(destination);
    const fail = (cause: unknown): void => {
      if (isSettled(command)) return;
      if (cause instanceof ReplyError) command.reject(cause as Error);
      else command.reject(this.#failure(cause, `${route.name.toUpperCase()} over origin and shadow`));
    };
    const disarm = this.#boundCall(database, fail);
    this.#pendingLinks += 1;
    this.#shadowTail = this.#shadowTail.then(async () => {
      try {
        if (isSettled(command)) return;
        await this.#session.shadowChecked();
        await Promise.all([whenReady(this.#shadow), whenReady(database.origin)]);
        this.#selectShadow(database.shadowDb);
        const sides = { origin: database.origin, shadow: this.#shadow, state: database.state };
        const reply = await sortOverBoth(route.name, argv, sides, async (key) => {
          await database.materializer.ensureOwned(key);
          if (effect !== undefined) this.#journal('shadowed', effect);
        });
        if (!isSettled(command)) command.resolve(reply);
      } catch (cause) {
        fail(cause);
      } finally {
        disarm();
        if (destination !== undefined) database.state.release(destination);
        this.#pendingLinks -= 1;
      }
    });
  }

  /**
   * Queues commands for the shadow behind the ones before them: their keys are owned first, then
   * they are sent together, in order (a transaction stays contiguous on the shadow connection).
   */
  #toShadow(commands: readonly Command[], route: Extract<Route, { target: 'shadow' }>, effect?: Effect, replacesWhole = false): void {
    // The shadow connection's user is the checked, confined one: nothing of the app's authenticates it as another.
    const authenticating = commands.find((command) => AUTHENTICATING.has(String(command.name).toLowerCase()));
    if (authenticating !== undefined) {
      const reason = `${String(authenticating.name).toUpperCase()} is never sent to the shadow: it would authenticate the mirror's shadow connection as another user than the confined one checked`;
      this.#session.journal.record({ dependency: 'redis', action: 'blocked', operation: commands.map((command) => describe([command.name, ...command.args])).join('; '), reason });
      const error = new MirrorGuardError('MG_ERR_REDIS_REFUSED', `mirrorguard refused ${String(authenticating.name).toUpperCase()}: ${reason}`);
      for (const command of commands) command.reject(error);
      return;
    }
    const current = this.#current;
    const keys = route.keys.map(({ key, db }) => ({ key, id: keyId(key), database: db === undefined ? current : this.#session.database(db) }));
    const { askOrigin } = route;
    const script = this.#session.shadow.kind === 'redis' ? route.script : undefined;
    // The common case once keys are owned: nothing queued, nothing to copy, the shadow ready. A write
    // that replaces its key whole owns it at once, when nothing else is on its way to that key (no
    // write claims it, no copy of the database runs that could land after it).
    if (
      this.#pendingLinks === 0 &&
      askOrigin === undefined &&
      script === undefined &&
      this.#session.shadowVerified &&
      this.#shadow.status === 'ready' &&
      keys.every(({ key, id, database }) => database.state.isOwned(id) || (replacesWhole && !database.state.routesToShadow(id) && !database.materializer.isBusy(key)))
    ) {
      if (replacesWhole) this.#ownWhenWritten(keys, commands[0]!);
      if (effect !== undefined) this.#journal('shadowed', effect);
      this.#selectShadow(current.shadowDb);
      for (const command of commands) this.#shadow.sendCommand(this.#asJudged(this.#withShadowFailures(command, effect)));
      return;
    }
    if (route.write) for (const { id, database } of keys) database.state.claim(id);
    if (askOrigin !== undefined) current.state.claimUnnamed();
    // Until what a script wrote is known, every read waits behind it, on the shadow.
    if (script === 'write') current.state.claimUnnamed();
    const claims = current.state.claims;
    const name = commands.map((command) => String(command.name).toUpperCase()).join(' … ');
    let failed = false;
    // Fails every command not yet answered, once: none of them goes out after that (a transaction is sent whole or not at all).
    const fail = (cause: unknown): void => {
      if (failed) return;
      failed = true;
      const error = this.#failure(cause, name);
      if (effect !== undefined) this.#journal('blocked', { operations: effect.operations, reason: error.message });
      for (const command of commands) if (!isSettled(command)) command.reject(error);
    };
    const disarm = this.#boundCall(current, fail);
    // One write needing copies from the origin, on a real shadow: each copy's RESTORE goes out right
    // before it, on this client's shadow connection, not awaited on another one first.
    // Not inside a transaction (a RESTORE sent there would be queued with it, not run before it),
    // not a blocking write, and only when nothing else of this client is on its way to the shadow:
    // ioredis' suite ("resend unfulfilled commands to the correct db") showed a copy sent with its
    // write while earlier work was still queued changing which of two clients' copies lands last.
    const pipelined =
      commands.length === 1 &&
      keys.length > 0 &&
      !this.#manualTransaction &&
      script === undefined &&
      !replacesWhole &&
      askOrigin === undefined &&
      this.#session.shadow.kind === 'redis' &&
      keys.every(({ database }) => database === current) &&
      !mayBlock(commands[0]!.name, this.#session.table) &&
      this.#pendingLinks === 0 &&
      !blockedBehind(this.#shadow, this.#session.table);
    this.#pendingLinks += 1;
    this.#shadowTail = this.#shadowTail.then(async () => {
      try {
        // Failed while it waited (its commandTimeout, a connection that gave up): nothing is copied for it.
        if (failed || commands.some(isSettled)) return fail(new Error('Command timed out'));
        await this.#session.shadowChecked();
        if (pipelined) return await this.#writeWithCopies(commands[0]!, keys, current, effect, () => failed || commands.some(isSettled), fail, disarm);
        const named = askOrigin === undefined ? [] : (await Promise.all(askOrigin.map((argv) => this.#session.keysFromOrigin(argv)))).flat();
        // Copied side by side (each key's copy is one at a time anyway): a transaction's keys cost one round trip, not one each.
        const copied = await Promise.all([
          ...keys.map(({ key, database }) => (replacesWhole ? Promise.resolve(false) : database.materializer.ensureOwned(key))),
          ...named.map((key) => current.materializer.ensureOwned(key.key)),
        ]);
        await whenReady(this.#shadow);
        // A write that replaces its key whole copies nothing: it waits only for what runs for that key (another client's copy).
        if (replacesWhole) for (const { key, database } of keys) await database.materializer.whenIdle(key);
        if (failed || commands.some(isSettled)) return fail(new Error('Command timed out'));
        // From here the shadow connection bounds the commands itself.
        disarm();
        // Journaled here, as it goes out (the request's context carries over to this continuation).
        if (effect !== undefined) this.#journal('shadowed', effect);
        this.#selectShadow(current.shadowDb);
        if (script === undefined) {
          if (replacesWhole) this.#ownWhenWritten(keys, commands[0]!);
          for (const command of commands) this.#shadow.sendCommand(this.#asJudged(this.#withShadowFailures(command, effect)));
        } else {
          // The keys copied for this command alone (a read-only script, or a script that wrote none of them, leaves them to the origin).
          const forThis = keys.filter((_, index) => copied[index] === true && keys[index]!.database === current).map(({ key, id }) => ({ key, id }));
          await this.#runScript(commands, effect, { current, script, write: route.write, forThis, claims });
        }
      } catch (cause) {
        fail(cause);
      } finally {
        disarm();
        if (route.write) for (const { id, database } of keys) database.state.release(id);
        if (askOrigin !== undefined) current.state.releaseUnnamed();
        if (script === 'write') current.state.releaseUnnamed();
        this.#pendingLinks -= 1;
      }
    });
  }

  /**
   * One write whose keys the shadow does not own yet: their origin values are read (side by side),
   * then each RESTORE and the write go out together on this client's shadow connection, the write
   * failing if a copy did (see sendCopies). Every key read is settled on every path.
   */
  async #writeWithCopies(
    command: Command,
    keys: ReadonlyArray<{ readonly key: Buffer | string; readonly id: string }>,
    current: DatabaseShadow,
    effect: Effect | undefined,
    abandoned: () => boolean,
    fail: (cause: unknown) => void,
    disarm: () => void,
  ): Promise<void> {
    // A key named twice is read once (a second read would wait for the first to be settled).
    const unique = keys.filter(({ id }, index) => keys.findIndex((other) => other.id === id) === index);
    const reads = await Promise.allSettled(unique.map(({ key }) => current.materializer.readForCopy(key)));
    const copies = reads.flatMap((read) => (read.status === 'fulfilled' && read.value !== undefined ? [read.value] : []));
    let sent = false;
    try {
      const unread = reads.find((read) => read.status === 'rejected');
      if (unread !== undefined) return fail(unread.reason);
      await whenReady(this.#shadow);
      if (abandoned()) return fail(new Error('Command timed out'));
      disarm();
      if (effect !== undefined) this.#journal('shadowed', effect);
      this.#selectShadow(current.shadowDb);
      const applied = sendCopies(this.#shadow, copies);
      sent = true;
      const write = this.#asJudged(this.#withShadowFailures(command, effect));
      failUnlessCopied(write, applied);
      this.#shadow.sendCommand(write);
    } finally {
      if (!sent) for (const copy of copies) copy.settle('refused');
    }
  }

  /**
   * Runs a script (or a batch with one) on the shadow and, before anyone hears its answer, learns
   * what it did: a script that may write runs with the shadow's client tracking on (see
   * ScriptWriteTracker), and every key it wrote that the shadow did not own becomes owned — reads
   * of it go to the shadow from then on, not to the origin's stale value. A key the server names
   * that another database of this mirror owns is ambiguous (the server does not name the database):
   * it is refused from then on. Tracking lost on the way, or the answer never heard: every key not
   * owned is refused (nothing stale is read). A FLUSHDB or FLUSHALL from the script hides the origin.
   * Then the copies made for this command alone that nothing wrote since are dropped (the key
   * follows the origin again). One script at a time per session, its follow-up included.
   */
  async #runScript(
    commands: readonly Command[],
    effect: Effect | undefined,
    { current, script, write, forThis, claims }: { current: DatabaseShadow; script: 'write' | 'read'; write: boolean; forThis: ReadonlyArray<{ key: Buffer | string; id: string }>; claims: number },
  ): Promise<void> {
    const tracker = this.#session.scriptWrites!;
    const answers = commands.map(holdAnswer);
    const send = async (): Promise<boolean> => {
      // Failed while it waited for its turn (its commandTimeout): never sent later.
      if (answers.some(({ settled }) => settled())) return false;
      for (const command of commands) this.#shadow.sendCommand(this.#asJudged(this.#withShadowFailures(command, effect)));
      await Promise.all(answers.map(({ answered }) => answered));
      return true;
    };
    try {
      await tracker.exclusively(async () => {
        let written: ReadonlySet<string> = new Set();
        if (script === 'write') {
          const writes = await tracker.track(send);
          written = writes.keys;
          if (writes.flushed) this.#session.hideAllOrigins();
          if (writes.lost) {
            current.state.distrustAll();
            this.#session.journal.record({ dependency: 'redis', action: 'warned', operation: commands.map((command) => describe([command.name, ...command.args])).join('; '), reason: 'what the script wrote on the shadow could not be learnt (its answer or the shadow\'s tracking was lost): every key the shadow does not own is refused from now on' });
            return;
          }
          for (const id of written) {
            if (current.state.isOwned(id)) continue;
            if (this.#session.ownedElsewhere(id, current)) current.state.distrust(id);
            else current.state.markOwned(id);
          }
        } else {
          await send().catch(() => undefined);
        }
        // Nothing else can have written them: a batch with a write is tracked, or keeps its copies.
        if (script === 'read' && write) return;
        const own = write ? 1 : 0;
        const drop = forThis.filter(({ id }) => !written.has(id) && current.state.isOwned(id) && !current.state.originHidden && !current.state.claimedSince(id, claims, own));
        if (drop.length === 0) return;
        for (const { id } of drop) current.state.disown(id);
        await this.#shadow.call('DEL', ...drop.map(({ key }) => key)).catch(() => undefined);
      });
    } finally {
      for (const answer of answers) answer.release();
    }
  }

  /** What the shadow connection is handed: the command (its bytes pinned), or for the memory engine a runner with the words judged. */
  #asJudged(command: Command): Command {
    const judged = MEMORY_WORDS.get(command);
    return judged === undefined ? command : runnerFor(command, judged);
  }

  /**
   * The shadow's own replies (WRONGTYPE, …) and the memory engine's MG_ERR_REDIS_UNSUPPORTED reach
   * the app as they are, as the primary's would; a
   * failure of the shadow itself (connection lost, retries exhausted) becomes MG_ERR_REDIS_SHADOW_FAILED.
   */
  #withShadowFailures(command: Command, effect: Effect | undefined): Command {
    const reject = command.reject;
    let settled = false;
    command.reject = (error: Error) => {
      // ioredis may fail a command more than once (its queue flushed, then its retries given up): one answer, one event.
      if (settled) return undefined;
      settled = true;
      if (error instanceof ReplyError) return reject(error);
      const failure =
        error instanceof MirrorGuardError
          ? error
          : new MirrorGuardError('MG_ERR_REDIS_SHADOW_FAILED', `the shadow failed on ${String(command.name).toUpperCase()}: ${error.message}`, { cause: error });
      // The write was journaled as shadowed when it went out; that it failed there is journaled too.
      if (effect !== undefined) this.#journal('blocked', { operations: effect.operations, reason: failure.message });
      return reject(failure);
    };
    return command;
  }

  override disconnect(reconnect = false): void {
    super.disconnect(reconnect);
    if (!reconnect && !this.#closed) {
      this.#closed = true;
      this.#shadow.disconnect();
      void this.#session.release('disconnect');
    }
  }

  /**
   * A new client on the same origin and shadow, sharing which keys the shadow owns (a subscriber,
   * a queue's second connection). ioredis' own duplicate() would build a plain, unguarded Redis.
   */
  override duplicate(override: Partial<RedisOptions> = {}): ShadowRedis {
    return new ShadowRedis({ ...this.options, ...override }, { shadow: 'memory', [SESSION]: this.#session } as InternalOptions);
  }

  /**
   * Closes this client's connections once the commands on their way to the shadow are answered; the
   * last client of a session also closes the shared ones.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#shadowTail;
    await Promise.allSettled([super.quit(), this.#shadow.quit(), this.#session.release('quit')]);
  }

  /** ioredis' QUIT, closing the shadow side too (see close()). */
  override async quit(): Promise<'OK'> {
    await this.close();
    return 'OK';
  }
}

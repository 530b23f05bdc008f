import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { MirrorGuardError } from '@mirrorguard/core';
import { classifyCommand } from '../commands/classify-command.ts';
import type { MemoryValue } from '../memory/keyspace.ts';
import { MemoryConnection } from '../memory/memory-connection.ts';
import { encodeReply } from '../memory/memory-server.ts';
import type { Route } from '../routing/route.ts';
import { memoryWriter, originValueReader } from '../shadow/copy-by-value.ts';
import type { KeyState } from '../shadow/key-state.ts';
import { keyId } from '../memory/key-id.ts';
import { Materializer, originReader, shadowWriter, type Client } from '../shadow/materialize-key.ts';
import { routeWithScripts, runScript, scriptTracker } from './connector-scripts.ts';
import type { ConnectorState, ShadowTarget } from './connector-state.ts';
import { answerOverBoth } from './keyspace-merge.ts';
import { CommandReader, decodeFrame, encodeCommand, errorReply, FrameSplitter, RespError, type CommandFrame, type RespValue } from '../protocol/resp-frames.ts';
import { asCaller, type ConnectorGuards } from './connector-checks.ts';

export interface ShadowStreamOptions {
  readonly origin: { readonly host?: string; readonly port?: number; readonly path?: string; readonly family?: number; readonly username?: string; readonly password?: string };
  /** The database ioredis will SELECT at connect (the shadow's is mapped from it). */
  readonly originDb: number;
  readonly shadow: ShadowTarget;
  readonly state: ConnectorState;
  /** Commands written in one tick leave in one socket write (default true); false: one write per ioredis write. */
  readonly coalesceWrites?: boolean;
  /** The shadow checks (held before any app command) and the journal: connector-checks.ts. */
  readonly guards?: ConnectorGuards;
}

/** Error replies the connector writes itself; ShadowRedis2 maps them to MirrorGuardError codes. */
export const REPLY_CODES = {
  MGREFUSED: 'MG_ERR_REDIS_REFUSED',
  MGUNSUPPORTED: 'MG_ERR_REDIS_UNSUPPORTED',
  MGSHADOWFAILED: 'MG_ERR_REDIS_SHADOW_FAILED',
  // The shadow checks' refusals (connector-checks.ts).
  MGSHADOWISORIGIN: 'MG_ERR_REDIS_SHADOW_IS_ORIGIN',
  MGNOTSANDBOXED: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED',
} as const;

const OK = Buffer.from('+OK\r\n');
const ZERO = Buffer.from(':0\r\n');
const SUBSCRIBE = new Set(['subscribe', 'psubscribe', 'ssubscribe']);
/** What Redis accepts in RESP2 subscriber mode. */
const IN_SUBSCRIBER_MODE = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'ping', 'quit', 'reset']);

type SideName = 'origin' | 'shadow';

/** One reply the app is owed, in command order. */
interface Slot {
  readonly side: SideName | 'local';
  /** The complete reply (less the bytes already passed through: `streamed`). */
  reply: Buffer | undefined;
  /** Bytes of this reply emitted straight from the socket before it was complete (the fast path). */
  streamed: number;
  /** An error reply replacing whatever the server answers (a failed copy, an aborted transaction). */
  override?: Buffer;
  /** Element positions of an EXEC reply that answer the stream's own commands (copies queued in the transaction). */
  strip?: number[];
  /** QUIT: the stream ends once this reply is out. */
  closeAfter?: boolean;
  /** SUBSCRIBE: from its reply on, the origin's frames stream through this slot until every subscription is gone. */
  subscriber?: boolean;
  open?: boolean;
  frames?: Buffer[];
  /** A write bound for the shadow: its words, journaled when it goes out (or fails). */
  write?: readonly Buffer[];
  /** A script's reply, held until what it wrote is known (connector-scripts.ts); `answered` is called when it is in. */
  held?: boolean;
  answered?: () => void;
}

/** A reply the stream reads itself: its copies, its handshake. */
type Internal = (frame: Buffer) => void;

interface Side {
  readonly name: SideName;
  readonly expect: Array<Slot | Internal>;
  internal: number;
  /** App slots whose reply is rewritten (override, strip): no pass-through while any is owed. */
  rewrites: number;
  /** App slots of this side not answered yet. */
  appPending: number;
  readonly splitter: FrameSplitter;
  readonly out: Buffer[];
  socket: Socket | undefined;
  memory: MemoryConnection | undefined;
}

/** A command waiting for the copies of its keys (and for every command before it). */
interface Job {
  readonly keys: readonly Buffer[];
  readonly ids: readonly string[];
  readonly state: KeyState;
  /** A promise (a read over both sides) holds the queue until it settles: later commands wait behind it. */
  readonly run: () => void | Promise<void>;
  readonly slot: Slot | undefined;
  readonly db: number;
  /** Called when a copy failed and `run` will not run. */
  readonly failed?: (() => void) | undefined;
}

const nameOf = (argv: readonly Buffer[]): string => argv[0]!.toString('latin1').toLowerCase();

/**
 * The stream ioredis reads and writes in place of its socket. It reads the command frames ioredis
 * writes, routes each (routeCommand, the same pure routing ShadowRedis uses), sends it to the origin
 * or the shadow (copying its keys first), and hands the replies back strictly in command order.
 */
export class ShadowStream extends EventEmitter {
  connecting = true;
  destroyed = false;
  readonly #options: ShadowStreamOptions;
  readonly #reader = new CommandReader();
  readonly #pending: Slot[] = [];
  readonly #origin: Side;
  readonly #shadow: Side;
  readonly #jobs: Job[] = [];
  readonly #materializers = new Map<number, Materializer<Buffer> | Materializer<MemoryValue>>();
  #db: number;
  #ended = false;
  #closed = false;
  #closing = false;
  #flushScheduled = false;
  #subscriber = false;
  #subscriptions = 0;
  #shardSubscriptions = 0;
  #inMulti = false;
  #multiAborted = false;
  #shadowInMulti = false;
  #shadowQueued = 0;
  #shadowStrip: number[] = [];
  #connected = 0;
  /** App commands held while this connection's checks run (connector-checks.ts), replayed in order after. */
  #heldForChecks: CommandFrame[] | undefined;
  /** The command being routed: what a refusal journals. */
  #argv: readonly Buffer[] = [];
  /** Scripts whose writes are not known yet: every later command is held (unrouted) until they are. */
  #scriptsRunning = 0;
  readonly #heldForScripts: CommandFrame[] = [];
  /** Scripts sent and not answered: failed when the stream closes (what they wrote cannot be learnt). */
  readonly #unanswered = new Set<(error: Error) => void>();
  /** A script that may write was queued in the transaction: its EXEC is tracked. */
  #scriptsQueued = false;

  constructor(options: ShadowStreamOptions) {
    super();
    this.#options = options;
    this.#db = options.originDb;
    const side = (name: SideName): Side => ({ name, expect: [], internal: 0, rewrites: 0, appPending: 0, splitter: new FrameSplitter(), out: [], socket: undefined, memory: undefined });
    this.#origin = side('origin');
    this.#shadow = side('shadow');
    this.#origin.socket = this.#open(this.#origin, options.origin);
    const shadow = options.shadow;
    if (shadow.kind === 'redis') {
      this.#shadow.socket = this.#open(this.#shadow, { host: shadow.host, port: shadow.port });
      if (shadow.password !== undefined) this.#internal(this.#shadow, shadow.username !== undefined ? ['AUTH', shadow.username, shadow.password] : ['AUTH', shadow.password], this.#handshakeReply);
    } else {
      this.#shadow.memory = new MemoryConnection(shadow.engine, this.#shadowDb(this.#db));
      this.#connected += 1;
    }
    if (shadow.kind === 'redis' && this.#shadowDb(this.#db) !== 0) this.#internal(this.#shadow, ['SELECT', this.#shadowDb(this.#db)], this.#handshakeReply);
    if (options.guards !== undefined) this.#check(options.guards);
    this.#flushSockets();
  }

  /** Holds app commands until this connection's checks are done (the origin's probes authenticate as ioredis will). */
  #check(guards: ConnectorGuards): void {
    this.#heldForChecks = [];
    const { username, password } = this.#options.origin;
    if (password !== undefined) this.#internal(this.#origin, username !== undefined ? ['AUTH', username, password] : ['AUTH', password], () => undefined);
    const sides = { origin: asCaller(this.#client(this.#origin)), shadow: this.#shadow.socket === undefined ? undefined : asCaller(this.#client(this.#shadow)), table: this.#options.state.table };
    guards.checkConnection(sides).then(
      () => {
        const held = this.#heldForChecks ?? [];
        this.#heldForChecks = undefined;
        if (this.#closed) return;
        for (const command of held) this.#command(command);
        this.#flushSockets();
        this.#flushReplies();
      },
      (error: Error) => this.destroy(new MirrorGuardError('MG_ERR_REDIS_SHADOW_FAILED', `the shadow could not be checked: ${error.message}`, { cause: error })),
    );
  }

  // ---- the parts of net.Socket ioredis uses ------------------------------------------------------

  get writable(): boolean {
    return !this.#ended && !this.destroyed;
  }

  get remoteAddress(): string | undefined {
    return this.#origin.socket?.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.#origin.socket?.remotePort;
  }

  setNoDelay(noDelay = true): this {
    this.#origin.socket?.setNoDelay(noDelay);
    this.#shadow.socket?.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable = false, delay = 0): this {
    this.#origin.socket?.setKeepAlive(enable, delay);
    this.#shadow.socket?.setKeepAlive(enable, delay);
    return this;
  }

  /** The origin's idle timeout stands for the stream's (ioredis' connectTimeout and socketTimeout). */
  setTimeout(timeout: number, callback?: () => void): this {
    if (this.#origin.socket !== undefined) this.#origin.socket.setTimeout(timeout, callback);
    return this;
  }

  resume(): this {
    return this;
  }

  pause(): this {
    return this;
  }

  write(data: string | Buffer, encoding?: BufferEncoding | (() => void), callback?: () => void): boolean {
    const done = typeof encoding === 'function' ? encoding : callback;
    if (!this.writable) {
      if (done !== undefined) process.nextTick(done);
      return false;
    }
    const chunk = typeof data === 'string' ? Buffer.from(data, typeof encoding === 'string' ? encoding : 'utf8') : data;
    try {
      this.#reader.feed(chunk, this.#onCommand);
    } catch (error) {
      this.destroy(error as Error);
      return false;
    }
    // Commands written in one tick (concurrent callers) leave in one socket write per side.
    if (this.#options.coalesceWrites === false) this.#flushSockets();
    else this.#scheduleSocketFlush();
    if (done !== undefined) process.nextTick(done);
    return true;
  }

  end(): this {
    if (this.#ended) return this;
    this.#flushSockets();
    this.#ended = true;
    this.#origin.socket?.end();
    this.#shadow.socket?.end();
    if (this.#origin.socket === undefined) this.#close(false);
    return this;
  }

  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#ended = true;
    if (error !== undefined) process.nextTick(() => this.emit('error', error));
    this.#origin.socket?.destroy();
    this.#shadow.socket?.destroy();
    if (this.#origin.socket === undefined) process.nextTick(() => this.#close(error !== undefined));
    return this;
  }

  // ---- sockets -----------------------------------------------------------------------------------

  #open(side: Side, target: ShadowStreamOptions['origin']): Socket {
    const socket = target.path !== undefined ? createConnection({ path: target.path }) : createConnection({ host: target.host ?? '127.0.0.1', port: target.port ?? 6379, ...(target.family !== undefined && { family: target.family }) });
    socket.once('connect', () => {
      this.#connected += 1;
      if (this.#connected === 2 && !this.destroyed) {
        this.connecting = false;
        this.emit('connect');
      }
    });
    socket.on('data', (chunk: Buffer) => this.#onData(side, chunk));
    socket.on('error', (error) => {
      if (this.destroyed) return;
      this.destroyed = true;
      this.#ended = true;
      this.emit('error', side.name === 'shadow' ? new MirrorGuardError('MG_ERR_REDIS_SHADOW_FAILED', `the shadow connection failed: ${error.message}`, { cause: error }) : error);
      this.#origin.socket?.destroy();
      this.#shadow.socket?.destroy();
    });
    if (side.name === 'origin') socket.on('timeout', () => this.emit('timeout'));
    socket.once('close', (hadError) => {
      // One side gone ends the stream: the other is closed too.
      (side.name === 'origin' ? this.#shadow : this.#origin).socket?.destroy();
      this.#close(hadError);
    });
    return socket;
  }

  #close(hadError: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.destroyed = true;
    this.#ended = true;
    for (const fail of this.#unanswered) fail(new Error('the connection closed before the script was answered'));
    this.emit('end');
    this.emit('close', hadError);
  }

  #handshakeReply = (frame: Buffer): void => {
    if (frame[0] === 0x2d) this.destroy(new MirrorGuardError('MG_ERR_REDIS_SHADOW_FAILED', `the shadow refused the connection's handshake: ${frame.toString('utf8').trim()}`));
  };

  #shadowDb(originDb: number): number {
    const offset = (this.#options.shadow.db ?? 0) - this.#options.originDb;
    return (((originDb + offset) % 16) + 16) % 16;
  }

  #socketFlushScheduled = false;

  /**
   * The first write of a tick leaves at once (a lone caller waits for nothing); what follows in the
   * same tick (concurrent callers woken by one reply chunk) leaves together at the tick's end.
   */
  #scheduleSocketFlush(): void {
    if (this.#socketFlushScheduled) return;
    this.#flushSockets();
    this.#socketFlushScheduled = true;
    process.nextTick(() => {
      this.#socketFlushScheduled = false;
      this.#flushSockets();
    });
  }

  #flushSockets(): void {
    for (const side of [this.#origin, this.#shadow]) {
      if (side.out.length === 0 || side.socket === undefined) continue;
      side.socket.write(side.out.length === 1 ? side.out[0]! : Buffer.concat(side.out));
      side.out.length = 0;
    }
  }

  /** Sends bytes whose reply is the app's. */
  #send(side: Side, raw: Buffer, argv: readonly Buffer[], slot: Slot): void {
    side.expect.push(slot);
    side.appPending += 1;
    if (slot.override !== undefined || slot.strip !== undefined || slot.held === true) side.rewrites += 1;
    this.#transmit(side, raw, argv);
  }

  /** Sends a command whose reply the stream reads itself. */
  #internal(side: Side, argv: ReadonlyArray<Buffer | string | number>, onReply: Internal): void {
    side.expect.push(onReply);
    side.internal += 1;
    const raw = encodeCommand(argv);
    if (side === this.#shadow && this.#shadowInMulti) this.#shadowStrip.push(this.#shadowQueued);
    this.#transmit(side, raw, argv.map((arg) => (Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg)))));
  }

  #transmit(side: Side, raw: Buffer, argv: readonly Buffer[]): void {
    if (side === this.#shadow && this.#shadowInMulti) this.#shadowQueued += 1;
    if (side.memory === undefined) {
      side.out.push(raw);
      return;
    }
    const parts: Buffer[] = [];
    try {
      encodeReply(side.memory.execute([nameOf(argv), ...argv.slice(1)]), parts);
    } catch (error) {
      parts.push(errorReply(error instanceof MirrorGuardError ? `MGUNSUPPORTED ${error.message}` : `ERR ${String(error)}`));
    }
    const frame = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    // Never within ioredis' write: it queues the command only after writing it.
    process.nextTick(() => this.#onData(side, frame));
  }

  // ---- replies -----------------------------------------------------------------------------------

  #onData(side: Side, chunk: Buffer): void {
    if (this.#closed) return;
    if (this.#unreadable) {
      if (side === this.#origin) this.emit('data', chunk);
      return;
    }
    const head = side.expect[0];
    // Fast path: every reply owed is this side's and none is the stream's own: pass the bytes through.
    if (side.internal === 0 && side.rewrites === 0 && side.appPending === this.#pending.length && (head === undefined || !(head as Slot).subscriber)) {
      this.emit('data', chunk);
      try {
        side.splitter.feed(chunk, side === this.#origin ? this.#passedOrigin : this.#passedShadow);
      } catch {
        // Already handed to ioredis, whose parser meets the same bytes.
        this.#unreadable = true;
        return;
      }
      const rest = side.splitter.pending;
      if (rest > 0 && side.expect[0] !== undefined) (side.expect[0] as Slot).streamed = rest;
      return;
    }
    try {
      side.splitter.feed(chunk, (frame) => this.#onFrame(side, frame));
    } catch (error) {
      this.#failUnreadable(side, chunk, error as Error);
      return;
    }
    this.#flushReplies();
  }

  /** A reply stream that is not RESP: the origin's bytes go to ioredis, whose parser fails the connection as it would its socket's. */
  #unreadable = false;

  #failUnreadable(side: Side, chunk: Buffer, error: Error): void {
    this.#unreadable = true;
    if (side === this.#origin) this.emit('data', chunk);
    else this.destroy(new MirrorGuardError('MG_ERR_REDIS_SHADOW_FAILED', `the shadow's replies could not be read: ${error.message}`, { cause: error }));
  }

  /** A reply passed through whole (the fast path): its slot is done. */
  #passed(side: Side): void {
    const slot = side.expect.shift() as Slot | undefined;
    if (slot === undefined) return;
    side.appPending -= 1;
    this.#pending.shift();
    if (slot.closeAfter) this.end();
  }

  readonly #passedOrigin = (): void => this.#passed(this.#origin);
  readonly #passedShadow = (): void => this.#passed(this.#shadow);

  #onFrame(side: Side, frame: Buffer): void {
    const head = side.expect[0];
    if (head === undefined) {
      // Nothing owed (a push after subscriber mode ended, say): through as it is, once nothing waits.
      if (this.#pending.length === 0) this.emit('data', frame);
      return;
    }
    if (typeof head === 'function') {
      side.expect.shift();
      side.internal -= 1;
      head(frame);
      return;
    }
    if (head.subscriber) {
      head.open = true;
      (head.frames ??= []).push(frame);
      if (this.#subscriptionsEnd(frame)) {
        side.expect.shift();
        side.appPending -= 1;
        head.reply = Buffer.alloc(0);
      }
      return;
    }
    side.expect.shift();
    side.appPending -= 1;
    if (head.override !== undefined || head.strip !== undefined || head.held === true) side.rewrites -= 1;
    head.reply = head.override ?? (head.strip !== undefined ? stripElements(frame, head.strip) : head.streamed > 0 ? frame.subarray(head.streamed) : frame);
    head.answered?.();
  }

  /** Follows the subscription counts of subscriber mode; true when the last subscription is gone. */
  #subscriptionsEnd(frame: Buffer): boolean {
    let value: RespValue;
    try {
      value = decodeFrame(frame).value;
    } catch {
      return false;
    }
    if (!Array.isArray(value) || value.length !== 3 || !Buffer.isBuffer(value[0]) || typeof value[2] !== 'number') return false;
    const kind = value[0].toString('latin1').toLowerCase();
    if (kind === 'ssubscribe' || kind === 'sunsubscribe') this.#shardSubscriptions = value[2];
    else if (['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe'].includes(kind)) this.#subscriptions = value[2];
    else return false;
    if (kind.endsWith('unsubscribe') && this.#subscriptions === 0 && this.#shardSubscriptions === 0) {
      this.#subscriber = false;
      return true;
    }
    return false;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(() => {
      this.#flushScheduled = false;
      this.#flushReplies();
    });
  }

  /** Emits every reply at the head of the queue that is complete, in command order. */
  #flushReplies(): void {
    const out: Buffer[] = [];
    let close = false;
    while (this.#pending.length > 0) {
      const slot = this.#pending[0]!;
      if (slot.frames !== undefined && slot.frames.length > 0) {
        out.push(...slot.frames);
        slot.frames.length = 0;
      }
      if (slot.reply === undefined || slot.held === true) break;
      this.#pending.shift();
      if (slot.reply.length > 0) out.push(slot.reply);
      if (slot.closeAfter) {
        close = true;
        break;
      }
    }
    if (out.length > 0 && !this.#closed) this.emit('data', out.length === 1 ? out[0]! : Buffer.concat(out));
    if (close) this.end();
  }

  // ---- commands ----------------------------------------------------------------------------------

  #slot(side: SideName | 'local', reply?: Buffer): Slot {
    const slot: Slot = { side, reply, streamed: 0 };
    this.#pending.push(slot);
    if (reply !== undefined) this.#scheduleFlush();
    return slot;
  }

  #local(reply: Buffer): void {
    this.#slot('local', reply);
  }

  #refuse(code: keyof typeof REPLY_CODES, reason: string): void {
    this.#options.guards?.journal.blocked(this.#argv, reason);
    this.#local(errorReply(`${code} mirrorguard ${code === 'MGREFUSED' ? 'refused' : 'cannot answer'}: ${reason}`));
    if (this.#inMulti) this.#multiAborted = true;
  }

  #state(): KeyState {
    return this.#options.state.stateFor(this.#db);
  }

  #allOwned(keys: readonly Buffer[]): boolean {
    const state = this.#state();
    for (const key of keys) if (!state.isOwned(keyId(key))) return false;
    return true;
  }

  /** Runs `run` now, or after the commands before it (and the copies of `keys`). */
  #schedule(keys: readonly Buffer[], run: () => void, slot?: Slot, failed?: () => void): void {
    const state = this.#state();
    if (this.#jobs.length === 0 && keys.every((key) => state.isOwned(keyId(key)))) {
      run();
      return;
    }
    const ids = keys.map((key) => keyId(key));
    for (const id of ids) state.claim(id);
    this.#jobs.push({ keys, ids, state, run, slot, db: this.#db, failed });
    if (this.#jobs.length === 1) void this.#drain();
  }

  async #drain(): Promise<void> {
    while (this.#jobs.length > 0) {
      const job = this.#jobs[0]!;
      let failure: Error | undefined;
      try {
        const materializer = this.#materializer(job.db);
        for (const key of job.keys) await materializer.ensureOwned(key);
      } catch (error) {
        failure = error as Error;
      }
      for (const id of job.ids) job.state.release(id);
      if (this.#closed) return;
      if (failure === undefined) {
        const running = job.run();
        if (running !== undefined) await running;
        if (this.#closed) return;
      } else {
        if (job.slot !== undefined) {
          job.slot.reply = errorReply(`MGSHADOWFAILED mirrorguard could not copy a key to the shadow: ${failure.message}`);
          if (job.slot.write !== undefined) this.#options.guards?.journal.blocked(job.slot.write, `the shadow could not take ${nameOf(job.slot.write).toUpperCase()}: ${failure.message}`);
        }
        job.failed?.();
      }
      this.#jobs.shift();
      this.#flushSockets();
      this.#flushReplies();
    }
  }

  /** A job that fails owes its reply in its place: queued slots are pushed when they run. */
  #toShadow(command: CommandFrame, keys: readonly Buffer[], configure?: (slot: Slot) => void, write = false): void {
    const slot = this.#slot('shadow');
    configure?.(slot);
    if (write && this.#options.guards !== undefined) slot.write = command.argv;
    const inTransaction = this.#inMulti;
    const send = (): void => {
      if (slot.write !== undefined) this.#options.guards?.journal.shadowed(slot.write, inTransaction);
      this.#send(this.#shadow, command.raw, command.argv, slot);
    };
    if (this.#jobs.length === 0 && this.#allOwned(keys)) send();
    else this.#schedule(keys, send, slot);
  }

  /** A shadow the checks refused (connector-checks.ts): the command is answered with the refusal, nothing is sent. */
  #refusedByChecks(argv: readonly Buffer[], write: boolean): boolean {
    const reply = this.#options.guards?.refusalReply();
    if (reply === undefined) return false;
    this.#local(reply);
    if (write) this.#options.guards!.journal.blocked(argv, this.#options.guards!.refusal!.message);
    return true;
  }

  #toOrigin(command: CommandFrame, configure?: (slot: Slot) => void): void {
    const slot = this.#slot('origin');
    configure?.(slot);
    if (this.#jobs.length === 0) this.#send(this.#origin, command.raw, command.argv, slot);
    else this.#schedule([], () => this.#send(this.#origin, command.raw, command.argv, slot));
  }

  readonly #onCommand = (command: CommandFrame): void => this.#command(command);
  /** Command names (as ioredis writes them) that are harmless reads of the origin's allow-list: while the shadow owns nothing they go there unexamined. */
  readonly #harmlessReads = new Map<string, boolean>();

  #command(command: CommandFrame): void {
    if (this.#heldForChecks !== undefined) {
      this.#heldForChecks.push(command);
      return;
    }
    if (this.#closing) return;
    if (this.#scriptsRunning > 0) {
      this.#heldForScripts.push(command);
      return;
    }
    const { argv } = command;
    this.#argv = argv;
    const written = argv[0]!.toString('latin1');
    // The common case of a mirror, decided by one lookup: a read while the shadow owns nothing.
    if (!this.#subscriber && !this.#inMulti && this.#jobs.length === 0 && this.#harmlessReads.get(written) === true && this.#state().isEmpty()) {
      this.#send(this.#origin, command.raw, argv, this.#slot('origin'));
      return;
    }
    const name = written.toLowerCase();
    if (this.#subscriber) {
      if (IN_SUBSCRIBER_MODE.has(name)) {
        // Part of the subscription stream the open slot carries: no slot of its own.
        this.#schedule([], () => this.#transmit(this.#origin, command.raw, argv));
        if (name === 'quit') this.#closing = true;
      } else {
        this.#local(errorReply(`ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`));
      }
      return;
    }
    if (name === 'quit') {
      this.#closing = true;
      const slot = this.#slot('local');
      slot.closeAfter = true;
      this.#schedule([], () => {
        slot.reply = OK;
        this.#scheduleFlush();
      });
      return;
    }
    if (this.#inMulti) {
      this.#inTransaction(command, name);
      return;
    }
    if (name === 'select') {
      const db = Number(argv[1]?.toString('latin1'));
      this.#toOrigin(command);
      if (Number.isInteger(db) && db >= 0 && db < 16) {
        this.#db = db;
        this.#schedule([], () => this.#internal(this.#shadow, ['SELECT', this.#shadowDb(db)], () => undefined));
      }
      return;
    }
    if (SUBSCRIBE.has(name)) {
      this.#subscriber = true;
      this.#toOrigin(command, (slot) => {
        slot.subscriber = true;
      });
      return;
    }
    if (name === 'multi') {
      if (this.#refusedByChecks(argv, false)) return;
      this.#inMulti = true;
      this.#multiAborted = false;
      this.#scriptsQueued = false;
      this.#toShadow(command, [], () => undefined);
      this.#schedule([], () => {
        this.#shadowInMulti = true;
        this.#shadowQueued = 0;
        this.#shadowStrip = [];
      });
      return;
    }
    const classification = classifyCommand(this.#options.state.table, argv);
    const state = this.#state();
    const route = routeWithScripts(classification, argv, state);
    if (!this.#harmlessReads.has(written) && classification.name === name) {
      // Only a command without subcommands is decided by its name alone.
      this.#harmlessReads.set(written, state.isEmpty() && route.target === 'origin' && classification.kind === 'read');
    }
    this.#routed(command, name, route);
  }

  #routed(command: CommandFrame, name: string, route: Route): void {
    switch (route.target) {
      case 'origin':
        this.#toOrigin(command);
        return;
      case 'suppress':
        this.#options.guards?.journal.blocked(command.argv, route.reason);
        this.#local(ZERO);
        return;
      case 'refuse':
        this.#refuse(route.code === 'MG_ERR_REDIS_REFUSED' ? 'MGREFUSED' : 'MGUNSUPPORTED', route.reason);
        return;
      case 'merge':
      case 'sort-over-both':
        this.#overBoth(route, command.argv);
        return;
      case 'shadow': {
        if (route.askOrigin !== undefined || route.rewrite !== undefined || route.keys.some((key) => key.db !== undefined)) {
          this.#refuse('MGUNSUPPORTED', `${name.toUpperCase()} (keys the origin must name, or another database) is not in the connector prototype`);
          return;
        }
        if (this.#refusedByChecks(command.argv, route.write)) return;
        if (name === 'flushdb' || name === 'flushall') this.#state().hideOrigin();
        const keys = route.keys.map((key) => (Buffer.isBuffer(key.key) ? key.key : Buffer.from(key.key)));
        if (route.script !== undefined && this.#trackScript(route.script, keys, (slot) => this.#send(this.#shadow, command.raw, command.argv, slot))) return;
        this.#toShadow(command, keys, undefined, route.write);
      }
    }
  }

  /**
   * SCAN/KEYS/DBSIZE/RANDOMKEY merged, SORT with patterns (keyspace-merge.ts): a local slot, filled
   * when the reads the stream sends on both sockets are answered; every later command waits behind it.
   */
  #overBoth(route: Extract<Route, { target: 'merge' | 'sort-over-both' }>, argv: readonly Buffer[]): void {
    const slot = this.#slot('local');
    const db = this.#db;
    const state = this.#state();
    const sides = {
      origin: (command: ReadonlyArray<Buffer | string | number>) => this.#client(this.#origin).call(String(command[0]), ...command.slice(1)),
      shadow: (command: ReadonlyArray<Buffer | string | number>) => this.#client(this.#shadow).call(String(command[0]), ...command.slice(1)),
      state,
      own: async (key: Buffer) => void (await this.#materializer(db).ensureOwned(key)),
    };
    // SORT … STORE: reads of the destination routed meanwhile (queued behind it) go to the shadow.
    const destination = route.target === 'sort-over-both' && route.store !== undefined ? keyId(route.store) : undefined;
    if (destination !== undefined) state.claim(destination);
    const run = async (): Promise<void> => {
      try {
        slot.reply = await answerOverBoth(route, argv, sides);
      } finally {
        if (destination !== undefined) state.release(destination);
      }
    };
    // Always queued (never run at once): the queue is what holds the later commands behind it.
    this.#jobs.push({ keys: [], ids: [], state, run, slot, db });
    if (this.#jobs.length === 1) void this.#drain();
  }

  /** Inside MULTI every command runs on the shadow, its keys copied first (reads too). */
  #inTransaction(command: CommandFrame, name: string): void {
    if (name === 'exec' || name === 'discard') {
      this.#inMulti = false;
      const aborted = this.#multiAborted && name === 'exec';
      const tracked = name === 'exec' && !aborted && this.#scriptsQueued;
      this.#scriptsQueued = false;
      const exec = (slot: Slot): void => {
        if (aborted) {
          slot.override = errorReply('EXECABORT Transaction discarded because of previous errors.');
          this.#send(this.#shadow, encodeCommand(['DISCARD']), [Buffer.from('DISCARD')], slot);
        } else {
          if (this.#shadowStrip.length > 0) slot.strip = this.#shadowStrip;
          this.#send(this.#shadow, command.raw, command.argv, slot);
        }
        this.#shadowInMulti = false;
        this.#shadowStrip = [];
      };
      // A script queued in the transaction runs at EXEC: EXEC is what is tracked.
      if (tracked && this.#trackScript('write', [], exec)) return;
      const slot = this.#slot('shadow');
      this.#schedule([], () => exec(slot));
      return;
    }
    const classification = classifyCommand(this.#options.state.table, command.argv);
    const route = routeWithScripts(classification, command.argv, this.#state());
    if (route.target === 'shadow' && route.script === 'write') this.#scriptsQueued = true;
    if (route.target === 'refuse' || route.target === 'suppress') {
      this.#routed(command, name, route);
      if (route.target === 'suppress') this.#multiAborted = true;
      return;
    }
    if (name === 'select' || name === 'multi' || route.target === 'merge' || route.target === 'sort-over-both' || (route.target === 'shadow' && (route.askOrigin !== undefined || route.rewrite !== undefined))) {
      this.#refuse('MGUNSUPPORTED', `${name.toUpperCase()} inside a transaction is not in the connector prototype`);
      return;
    }
    const keys = (classification.keys ?? []).map((ref) => command.argv[ref.index]!);
    if (name === 'flushdb' || name === 'flushall') this.#state().hideOrigin();
    this.#toShadow(command, keys, undefined, route.target === 'shadow' && route.write);
  }

  // ---- scripts (connector-scripts.ts) ------------------------------------------------------------

  /**
   * A script on a real shadow: its keys copied, then sent alone with the shadow's client tracking
   * on; its reply, and every later command (unrouted), held until what it wrote is known. False for
   * the memory engine (which runs no scripts): the caller sends it as any command.
   */
  #trackScript(kind: 'write' | 'read', keys: readonly Buffer[], send: (slot: Slot) => void): boolean {
    const tracker = scriptTracker(this.#options.state, this.#options.shadow);
    if (tracker === undefined) return false;
    const state = this.#state();
    const fresh = keys.filter((key) => !state.routesToShadow(keyId(key)));
    const slot = this.#slot('shadow');
    this.#scriptsRunning += 1;
    // Until what it wrote is known, other connections' reads of this database go to the shadow too.
    if (kind === 'write') state.claimUnnamed();
    const done = (): void => {
      if (kind === 'write') state.releaseUnnamed();
      slot.held = false;
      this.#scriptsRunning -= 1;
      this.#releaseHeld();
    };
    const run = (): void => {
      slot.held = true;
      let unanswered: (error: Error) => void = () => undefined;
      const answered = new Promise<void>((resolve, reject) => {
        slot.answered = resolve;
        unanswered = reject;
      });
      const settled = (): void => void this.#unanswered.delete(unanswered);
      answered.then(settled, settled);
      const shadow = this.#client(this.#shadow);
      void runScript(tracker, {
        kind,
        state,
        states: this.#options.state.states?.() ?? [state],
        fresh,
        claims: state.claims,
        send: () => {
          this.#unanswered.add(unanswered);
          send(slot);
          this.#flushSockets();
          return answered;
        },
        drop: async (dropped) => {
          await shadow.call('DEL', ...dropped);
        },
      })
        .catch((error: unknown) => {
          slot.reply = errorReply(`MGSHADOWFAILED mirrorguard could not learn what a script writes on the shadow: ${(error as Error).message}`);
        })
        .finally(done);
    };
    // A failed copy: after the drain's turn (it may be looping over the jobs).
    this.#schedule(keys, run, slot, () => process.nextTick(done));
    return true;
  }

  /** Routes the commands held behind scripts, until another script holds the rest. */
  #releaseHeld(): void {
    while (this.#scriptsRunning === 0 && this.#heldForScripts.length > 0) this.#command(this.#heldForScripts.shift()!);
    this.#flushSockets();
    this.#flushReplies();
  }

  // ---- copies ------------------------------------------------------------------------------------

  #materializer(db: number): Materializer<Buffer> | Materializer<MemoryValue> {
    let materializer = this.#materializers.get(db);
    if (materializer === undefined) {
      const state = this.#options.state.stateFor(db);
      const shadow = this.#options.shadow;
      materializer =
        shadow.kind === 'memory'
          ? new Materializer<MemoryValue>(originValueReader(this.#client(this.#origin) as never), memoryWriter(shadow.engine, this.#shadowDb(db)), state)
          : new Materializer<Buffer>(originReader(this.#client(this.#origin)), shadowWriter(this.#client(this.#shadow)), state);
      this.#materializers.set(db, materializer);
    }
    return materializer;
  }

  /** The little of an ioredis client the copy code (materialize-key.ts, copy-by-value.ts) uses, over this stream's own sockets. */
  #client(side: Side): Client & { multi(): never } {
    const call = (argv: ReadonlyArray<Buffer | string | number>): Promise<RespValue> =>
      new Promise((resolve, reject) => {
        this.#internal(side, argv, (frame) => {
          const { value } = decodeFrame(frame);
          if (value instanceof RespError) reject(value);
          else resolve(value);
        });
        this.#flushSockets();
      });
    const transaction = () => {
      const commands: Array<ReadonlyArray<Buffer | string | number>> = [];
      const builder = {
        dumpBuffer: (key: Buffer) => (commands.push(['DUMP', key]), builder),
        pexpiretime: (key: Buffer) => (commands.push(['PEXPIRETIME', key]), builder),
        callBuffer: (name: string, ...args: Array<Buffer | string | number>) => (commands.push([name, ...args]), builder),
        exec: async (): Promise<Array<[Error | null, unknown]> | null> => {
          const results = await Promise.all([call(['MULTI']), ...commands.map((argv) => call(argv)), call(['EXEC'])]);
          const replies = results.at(-1);
          if (replies === null) return null;
          return (replies as RespValue[]).map((value) => (value instanceof RespError ? [value, null] : [null, value]));
        },
      };
      return builder;
    };
    return {
      status: 'ready',
      once: () => undefined,
      off: () => undefined,
      call: (name: string, ...args: Array<string | number | Buffer>) => call([name, ...args]),
      multi: transaction as never,
    };
  }
}

/** An EXEC reply without the elements at `positions` (the stream's own copies queued in the transaction). */
function stripElements(frame: Buffer, positions: readonly number[]): Buffer {
  if (frame[0] !== 0x2a) return frame;
  const { value } = decodeFrame(frame);
  if (!Array.isArray(value)) return frame;
  const headerEnd = frame.indexOf('\r\n') + 2;
  const elements: Buffer[] = [];
  let at = headerEnd;
  for (let index = 0; index < value.length; index += 1) {
    const { end } = decodeFrame(frame, at);
    if (!positions.includes(index)) elements.push(frame.subarray(at, end));
    at = end;
  }
  return Buffer.concat([Buffer.from(`*${elements.length}\r\n`), ...elements]);
}

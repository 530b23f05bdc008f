import { MirrorGuardError } from '@mirrorguard/core';
import { Command, Redis, ReplyError, type RedisOptions } from 'ioredis';
import { unpinnedForShadow } from './judged-command.ts';

/** Which server a connection of the mirror's own reaches. */
export type Side = 'origin' | 'shadow';

/**
 * Emitted (with ioredis' error) when a connection gives up on the commands queued on it: its
 * retries per request are used up (MaxRetriesPerRequestError) or it has closed for good
 * (`Connection is closed.`). A command of the app that waits on this connection is failed then, as
 * ioredis fails a command queued on its own connection.
 */
export const GAVE_UP: unique symbol = Symbol('mirrorguard.gaveUp');

/** ioredis' own message for a command on a connection that has ended. */
export const CONNECTION_CLOSED = 'Connection is closed.';

const SIDE_OF = new WeakMap<object, Side>();

/** The side whose connection failed with `error` (not a reply of its server), if it came from one of the mirror's connections. */
export function failedSide(error: unknown): Side | undefined {
  return typeof error === 'object' && error !== null && !(error instanceof ReplyError) ? SIDE_OF.get(error) : undefined;
}

/** Marks `error` as a failure of a connection to `side` (ReplyErrors are the server's answers, not failures). */
export function markSide<E>(error: E, side: Side): E {
  if (typeof error === 'object' && error !== null && !(error instanceof ReplyError) && !SIDE_OF.has(error)) SIDE_OF.set(error, side);
  return error;
}

/** The options of the app's client that bound how long a command may wait for its server. */
const BOUNDS = ['commandTimeout', 'connectTimeout', 'retryStrategy', 'maxRetriesPerRequest'] as const;

/** The app's bounds, for a connection the mirror opens on the app's behalf (the target's own options win). */
export function appBounds(options: RedisOptions): Partial<RedisOptions> {
  const bounds: Partial<Record<(typeof BOUNDS)[number], unknown>> = {};
  for (const name of BOUNDS) if (options[name] !== undefined) bounds[name] = options[name];
  return bounds as Partial<RedisOptions>;
}

/**
 * Asked each time a connection is ready again (every connect and reconnect), before any command is
 * written on it: resolves when the connection may be used, rejects (a MirrorGuardError) when it may
 * not. `connection.callUnheld` sends the check's own commands on it.
 */
export type Admission = (connection: SideConnection) => Promise<void>;

/** Commands of an admission check: written while the connection is not admitted yet. */
const UNHELD = new WeakSet<Command>();

/**
 * A connection the mirror opens itself (copies, the shadow): an ioredis `Redis` that tells which
 * side its failures come from, and says when it gives up on its queued commands (GAVE_UP). Its
 * commands queue while it is not ready (the app's `enableOfflineQueue: false` is applied to the
 * app's call itself), and its errors are not the app's events: the app hears of the origin through
 * its own connection and of the shadow through one connection per client.
 *
 * With an `admit` check, nothing is written on a new socket (after each connect) until the check
 * has passed for it: the commands ioredis would write then — its offline queue, the commands it
 * resends after a reconnect, new ones — are held, in order, and written once it passes, or failed
 * with its error.
 */
export class SideConnection extends Redis {
  readonly side: Side;
  readonly #admit: Admission | undefined;
  /** The socket the check passed for. */
  #admitted: unknown;
  /** The socket a check is running for. */
  #admitting: unknown;
  #held: Array<{ command: Command; stream: Parameters<Redis['sendCommand']>[1] }> = [];

  constructor(options: RedisOptions, side: Side, admit?: Admission) {
    super({ ...options, enableOfflineQueue: true });
    this.side = side;
    this.#admit = admit;
    // Each call in flight listens for GAVE_UP until it settles (settle-bound.ts): as many listeners
    // as calls in flight is the design, not a leak.
    this.setMaxListeners(0);
    // flushQueue is private in ioredis' typings: it fails every queued command with one error.
    const self = this as unknown as { flushQueue(error: Error, options?: { offlineQueue?: boolean }): void };
    const flushQueue = self.flushQueue.bind(this);
    self.flushQueue = (error, flushOptions) => {
      flushQueue(markSide(error, side), flushOptions);
      if (flushOptions?.offlineQueue !== false) {
        // Held commands are queued commands too.
        for (const { command } of this.#held.splice(0)) command.reject(error);
        this.emit(GAVE_UP, error);
      }
    };
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    // Ready on a socket not admitted yet: held (ioredis' own handshake is written while connecting,
    // before this; QUIT, which closes a connection never used, carries nothing of the app's).
    if (this.#admit !== undefined && this.status === 'ready' && this.#admitted !== this.stream && !UNHELD.has(command) && command.name !== 'quit') return this.#hold(command, stream);
    // Pinned when judged, its writer replaced since (before a resend, say): not written.
    if (unpinnedForShadow(command)) {
      command.reject(new MirrorGuardError('MG_ERR_REDIS_REFUSED', `mirrorguard refused ${String(command.name).toUpperCase()}: its toWritable was replaced after it was judged`));
      return command.promise;
    }
    const reject = command.reject;
    command.reject = (error: Error) => reject(markSide(error, this.side));
    return super.sendCommand(command, stream);
  }

  /** Sends a command of the admission check on this connection, ahead of the held ones. */
  callUnheld(name: string, ...args: Array<string | Buffer | number>): Promise<unknown> {
    const command = new Command(name, args, { replyEncoding: 'utf8' });
    UNHELD.add(command);
    this.sendCommand(command);
    return command.promise;
  }

  #hold(command: Command, stream: Parameters<Redis['sendCommand']>[1]): unknown {
    // Bounded as ioredis bounds a command it is given.
    if (typeof this.options.commandTimeout === 'number') command.setTimeout(this.options.commandTimeout);
    this.#held.push({ command, stream });
    const socket = this.stream;
    if (this.#admitting === socket) return command.promise;
    this.#admitting = socket;
    this.#admit!(this).then(
      () => {
        if (this.stream === socket) this.#admitted = socket;
        this.#admitting = undefined;
        // Written now, in order (on another socket by now, they are held for its own check).
        for (const held of this.#held.splice(0)) this.sendCommand(held.command, held.stream);
      },
      (error: unknown) => {
        this.#admitting = undefined;
        for (const held of this.#held.splice(0)) held.command.reject(markSide(error as Error, this.side));
      },
    );
    return command.promise;
  }
}

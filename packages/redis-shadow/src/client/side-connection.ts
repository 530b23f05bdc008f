import { Redis, ReplyError, type Command, type RedisOptions } from 'ioredis';

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
 * A connection the mirror opens itself (copies, the shadow): an ioredis `Redis` that tells which
 * side its failures come from, and says when it gives up on its queued commands (GAVE_UP). Its
 * commands queue while it is not ready (the app's `enableOfflineQueue: false` is applied to the
 * app's call itself), and its errors are not the app's events: the app hears of the origin through
 * its own connection and of the shadow through one connection per client.
 */
export class SideConnection extends Redis {
  readonly side: Side;

  constructor(options: RedisOptions, side: Side) {
    super({ ...options, enableOfflineQueue: true });
    this.side = side;
    // Each call in flight listens for GAVE_UP until it settles (settle-bound.ts): as many listeners
    // as calls in flight is the design, not a leak.
    this.setMaxListeners(0);
    // flushQueue is private in ioredis' typings: it fails every queued command with one error.
    const self = this as unknown as { flushQueue(error: Error, options?: { offlineQueue?: boolean }): void };
    const flushQueue = self.flushQueue.bind(this);
    self.flushQueue = (error, flushOptions) => {
      flushQueue(markSide(error, side), flushOptions);
      if (flushOptions?.offlineQueue !== false) this.emit(GAVE_UP, error);
    };
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    const reject = command.reject;
    command.reject = (error: Error) => reject(markSide(error, this.side));
    return super.sendCommand(command, stream);
  }
}

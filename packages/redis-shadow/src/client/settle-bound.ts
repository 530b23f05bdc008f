import type { Command } from 'ioredis';
import { CONNECTION_CLOSED, GAVE_UP, markSide, type Side } from '../connection/side-connection.ts';

/** ioredis' own message for a command sent while its connection is down and the offline queue is off. */
export const OFFLINE_QUEUE_DISABLED = "Stream isn't writeable and enableOfflineQueue options is false";

/** A connection an app's call may wait on. */
export interface WaitedOn {
  readonly status: string;
  readonly side?: Side;
  on(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
  off(event: string | symbol, listener: (...args: unknown[]) => void): unknown;
}

// A flag on the command, set before it is sent (so every tracked command has one shape), rather than
// a WeakSet: adding each command to a weak collection cost an owned write about a twentieth of its CPU.
const SETTLED = Symbol('mirrorguard.settled');
type Tracked = Command & { [SETTLED]?: boolean };

/** Follows whether `command` has been answered (ioredis sets isResolved on success only). */
export function trackSettled(command: Command): void {
  const { resolve, reject } = command;
  (command as Tracked)[SETTLED] = false;
  command.resolve = (value: unknown) => {
    (command as Tracked)[SETTLED] = true;
    return resolve(value);
  };
  command.reject = (error: Error) => {
    (command as Tracked)[SETTLED] = true;
    return reject(error);
  };
}

export const isSettled = (command: Command): boolean => (command as Tracked)[SETTLED] === true;

/**
 * Bounds an app's call that waits on connections of the mirror's own (copies, the shadow) the way
 * ioredis bounds a command queued on the app's own connection, measured from when the app made
 * the call: it fails (`fail`, with ioredis' error marked with its side) when one of them gives up on
 * its queued commands (retries per request used up, closed for good), at once when one of them is
 * closed for good already, and — the app's
 * `enableOfflineQueue: false` — at once when one of them is down, or as soon as it goes down while
 * the call waits. A connection still being made for the first time is waited for only once the app's
 * own connection is ready (`appReady`): before that a plain client fails the call at once too, and
 * after it the app may rightly expect the mirror's connections to be up as well. The command timeout (`commandTimeout`) is the command's own timer, set when the
 * call is made. Returns `disarm`, called once the command is handed to a connection that bounds it
 * itself, or has settled.
 */
export function boundCall(connections: readonly WaitedOn[], offlineQueue: { enabled: boolean; appReady: boolean }, fail: (error: Error) => void): () => void {
  const listeners: Array<[WaitedOn, string | symbol, (...args: unknown[]) => void]> = [];
  let armed = true;
  const disarm = (): void => {
    if (!armed) return;
    armed = false;
    for (const [connection, event, listener] of listeners) connection.off(event, listener);
  };
  const give = (connection: WaitedOn, error: Error): void => {
    if (!armed) return;
    disarm();
    fail(connection.side === undefined ? error : markSide(error, connection.side));
  };
  for (const connection of connections) {
    // Closed for good: ioredis fails a command on such a connection at once.
    if (connection.status === 'end') {
      give(connection, new Error(CONNECTION_CLOSED));
      return disarm;
    }
    if (!offlineQueue.enabled && connection.status !== 'ready') {
      const lost = connection.status === 'reconnecting' || connection.status === 'close' || connection.status === 'end' || ((connection as { retryAttempts?: number }).retryAttempts ?? 0) > 0;
      if (lost || !offlineQueue.appReady) {
        give(connection, new Error(OFFLINE_QUEUE_DISABLED));
        return disarm;
      }
    }
    const onGaveUp = (error: unknown): void => give(connection, error as Error);
    connection.on(GAVE_UP, onGaveUp);
    listeners.push([connection, GAVE_UP, onGaveUp]);
    if (!offlineQueue.enabled) {
      const onClose = (): void => give(connection, new Error(OFFLINE_QUEUE_DISABLED));
      connection.on('close', onClose);
      listeners.push([connection, 'close', onClose]);
    }
  }
  return disarm;
}

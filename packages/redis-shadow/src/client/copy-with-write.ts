import { MirrorGuardError } from '@mirrorguard/core';
import { Command, type Redis } from 'ioredis';
import type { CommandTable } from '../commands/command-table.ts';
import { restoreCommand, type CopyToFinish } from '../shadow/materialize-key.ts';

/** How ioredis fails a command its commandTimeout ran out on: it may still be answered (and run) later. */
const TIMED_OUT = 'Command timed out';

/** Whether a command may hold its connection indefinitely (BLPOP …, XREAD BLOCK, WAIT), or is unknown to the table. */
export function mayBlock(name: unknown, table: CommandTable): boolean {
  return name === undefined || table.get(String(name))?.flags.has('blocking') !== false;
}

/**
 * Whether a command sent on `connection` may hold it indefinitely (see mayBlock): a RESTORE sent
 * behind one would hold its key, and every client waiting for that key, as long.
 */
export function blockedBehind(connection: Redis, table: CommandTable): boolean {
  const queue = (connection as unknown as { commandQueue?: { length: number; peekAt(index: number): { command?: Command } | undefined } }).commandQueue;
  // Unreadable queue (another ioredis): assume the worst.
  if (queue === undefined || typeof queue.peekAt !== 'function') return true;
  for (let index = 0; index < queue.length; index += 1) if (mayBlock(queue.peekAt(index)?.command?.name, table)) return true;
  return false;
}

/** Whether every copy sent ahead of a write was answered as applied (undefined: not yet answered). */
export type CopiesApplied = () => boolean | undefined;

/**
 * Sends each copy's RESTORE (or DEL) on `shadow`, the connection the write goes on next, without
 * waiting: the shadow runs them in order, so the write finds its keys copied, one round trip
 * sooner than a copy awaited first. Each copy is settled by its own answer, synchronously, before
 * any later reply on the connection (the write's) is handed on: owned when applied; when the shadow
 * refused it or the connection was lost, left the origin's (the write is failed too, so the
 * origin's value is the app's; the next write copies the key again, REPLACE overwriting whatever
 * the shadow holds). A RESTORE whose commandTimeout ran out may still run later, over a newer copy
 * and write of another client: its key is distrusted (refused from then on), not handed back.
 * Send copies only on a connection nothing blocks (see blockedBehind).
 */
export function sendCopies(shadow: Pick<Redis, 'sendCommand'>, copies: ReadonlyArray<CopyToFinish<unknown>>): CopiesApplied {
  let answered = 0;
  let refused = false;
  for (const copy of copies) {
    const [name, ...args] = restoreCommand(copy.key, copy.payload as Buffer | null, copy.expiresAt);
    const command = new Command(name.toLowerCase(), args);
    const { resolve, reject } = command;
    command.resolve = (value: unknown) => {
      answered += 1;
      copy.settle('applied');
      return resolve(value);
    };
    command.reject = (error: Error) => {
      answered += 1;
      refused = true;
      copy.settle(error.message === TIMED_OUT ? 'unknown' : 'refused');
      return reject(error);
    };
    command.promise.catch(() => undefined);
    shadow.sendCommand(command);
  }
  return () => (refused ? false : answered === copies.length ? true : undefined);
}

/**
 * Makes `write`, sent right after its copies, answer as if they had been awaited: answered by the
 * shadow while a copy is refused or unanswered, it fails with MG_ERR_REDIS_SHADOW_FAILED whatever
 * the answer (it may have run on a key without the origin's value), as a failed copy fails it
 * today. Failed by itself (refused before it was written, its connection lost) it keeps its own
 * error unless a copy is known refused. Wrap it after any other wrapper of its answer.
 */
export function failUnlessCopied(write: Command, applied: CopiesApplied): void {
  const { resolve, reject } = write;
  const failure = (): MirrorGuardError =>
    new MirrorGuardError('MG_ERR_REDIS_SHADOW_FAILED', `the shadow failed on ${String(write.name).toUpperCase()}: the copy of its keys from the origin was not applied`);
  write.resolve = (value: unknown) => (applied() === true ? resolve(value) : reject(failure()));
  write.reject = (error: Error) => reject(applied() === false ? failure() : error);
}

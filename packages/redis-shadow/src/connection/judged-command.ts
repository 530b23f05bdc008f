import { Command } from 'ioredis';

/** How ioredis writes a command it was given, unchanged. */
export const WRITTEN_AS_SENT: Command['toWritable'] = Command.prototype.toWritable;

/** What writes a pinned command: the bytes made when it was judged. */
export type PinnedWriter = () => string | Buffer;

/**
 * Pins what `command` will write to what it says now, when the gate judges it: its bytes are made
 * here (ioredis would make them anyway, once) and are what every later write sends — from the
 * offline queue, resent after a reconnect, from a pipeline — whatever app code does to `name` or
 * `args` (or the Buffers in them) after handing the command over. Returns the writer, for the
 * caller to keep and check before any later write (`command.toWritable === writer`); undefined when
 * the command cannot be pinned (app code made its toWritable read-only).
 */
export function pinWritten(command: Command, bytes: string | Buffer = WRITTEN_AS_SENT.call(command, undefined as never)): PinnedWriter | undefined {
  // One property, no more: the GET path pays for what a Command gains on every read.
  const writer: PinnedWriter = () => bytes;
  try {
    command.toWritable = writer;
  } catch {
    return undefined;
  }
  return writer;
}

/** Where a shadow-bound command keeps its writer (an origin-bound one keeps it in ShadowRedis' own mark). */
const SHADOW_PIN = Symbol('mirrorguard.shadowPin');
type ShadowPinned = Command & { [SHADOW_PIN]?: PinnedWriter };

/** Pins a command bound for the shadow (see pinWritten); false when it was pinned before, or cannot be. */
export function pinForShadow(command: Command, bytes?: string | Buffer): boolean {
  if ((command as ShadowPinned)[SHADOW_PIN] !== undefined) return false;
  const writer = pinWritten(command, bytes);
  if (writer === undefined) return false;
  (command as ShadowPinned)[SHADOW_PIN] = writer;
  return true;
}

/** A command pinned for the shadow whose writer app code has replaced since. */
export const unpinnedForShadow = (command: Command): boolean => {
  const writer = (command as ShadowPinned)[SHADOW_PIN];
  return writer !== undefined && command.toWritable !== writer;
};

const copied = (arg: unknown): unknown => (Buffer.isBuffer(arg) ? Buffer.from(arg) : arg);

/** A command's words now, Buffers copied: what routing judges cannot change under it. */
export const snapshotArgv = (command: Command): unknown[] => [command.name, ...command.args.map(copied)];

/** Whether two written forms are the same bytes. */
export const sameBytes = (a: string | Buffer, b: string | Buffer): boolean => (typeof a === 'string' && typeof b === 'string' ? a === b : Buffer.from(a).equals(Buffer.from(b)));

/**
 * A stand-in for `command` that carries the words judged (a private copy) to a connection that runs
 * a command's words rather than its bytes (the memory engine); its answer settles `command`.
 */
export function runnerFor(command: Command, judged: readonly unknown[]): Command {
  // The words as judged, set after construction: ioredis' argument transformers ran on the app's command already.
  const runner = new Command(String(judged[0]), []);
  runner.args = judged.slice(1).map(copied) as string[];
  runner.resolve = (value: unknown) => command.resolve(value);
  runner.reject = (error: Error) => command.reject(error);
  return runner;
}

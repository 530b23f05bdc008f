import { Command } from 'ioredis';

/** How ioredis writes a command it was given, unchanged. */
export const WRITTEN_AS_SENT = Command.prototype.toWritable;

/**
 * Pins what `command` will write to what it says now, when the gate judges it: its bytes are made
 * here (ioredis would make them anyway, once) and are what every later write sends — from the
 * offline queue, resent after a reconnect, from a pipeline — whatever app code does to `name` or
 * `args` (or the Buffers in them) after handing the command over; a later write checks it is still
 * pinned (isPinned). Returns false when the command was pinned before: it was handed over already, and is not judged twice.
 */
export function pinWritten(command: Command, bytes: string | Buffer = WRITTEN_AS_SENT.call(command, undefined as never)): boolean {
  if (Object.hasOwn(command, 'toWritable')) return false;
  // A plain property (defineProperty's read-only one costs the hot path a tenth of its throughput):
  // isPinned checks, before every later write, that it is still this one.
  const write = (): string | Buffer => bytes;
  command.toWritable = write;
  (command as Pinned)[PIN] = write;
  return true;
}

const PIN = Symbol('mirrorguard.pin');
type Pinned = Command & { [PIN]?: () => string | Buffer };

/** Whether `command` still writes the bytes pinned when it was judged (app code may have replaced its toWritable since). */
export const isPinned = (command: Command): boolean => {
  const write = (command as Pinned)[PIN];
  return write !== undefined && command.toWritable === write;
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

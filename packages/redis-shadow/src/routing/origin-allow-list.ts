import type { CommandSpec } from '../commands/command-table.ts';
import { ALLOWED_NEITHER, READS_THAT_WRITE } from './allowed-commands.ts';

/** Transaction control around reads the origin may run (each command inside is judged on its own). */
const ORIGIN_TRANSACTION_CONTROL: ReadonlySet<string> = new Set(['multi', 'exec', 'discard']);

/**
 * Whether a command may reach the origin: the allow-list every origin-bound command passes.
 *
 * - a keyspace read: flagged `readonly` (and not `write` or `admin`) *and* filed by the server under
 *   `@read`, and not a script. EVAL_RO, EVALSHA_RO and FCALL_RO are flagged readonly but are not
 *   `@read`: they run code that caches scripts, may call SLOWLOG RESET, CLUSTER commands or MEMORY
 *   PURGE, and can hold the server BUSY. PFCOUNT rewrites its HyperLogLog.
 * - a connection command of `ALLOWED_NEITHER` (the handshake, SELECT, PING, INFO, SUBSCRIBE, …);
 * - MULTI, EXEC, DISCARD: a transaction whose every command is itself on this list.
 *
 * Everything else — writes, admin commands, scripts and functions, SCRIPT/FUNCTION/MEMORY/CLIENT/
 * SLOWLOG/LATENCY/DEBUG …, WAIT, commands the table does not know — never reaches the origin.
 */
export function mayReachOrigin(spec: CommandSpec | undefined): boolean {
  if (spec === undefined) return false;
  if (ALLOWED_NEITHER.has(spec.name) || ORIGIN_TRANSACTION_CONTROL.has(spec.name)) return true;
  return isHarmlessRead(spec);
}

/** A keyspace read the origin may answer: see mayReachOrigin. */
export function isHarmlessRead(spec: CommandSpec): boolean {
  const { flags, categories } = spec;
  return (
    flags.has('readonly') &&
    !flags.has('write') &&
    !flags.has('admin') &&
    categories.has('read') &&
    !categories.has('scripting') &&
    !READS_THAT_WRITE.has(spec.name)
  );
}

/** Why a command was kept from the origin, for the error and the journal. */
export function originRefusal(argv: readonly unknown[]): string {
  return `${String(argv[0]).toUpperCase()} is not on the origin's allow-list of harmless reads; scripts run only on the shadow`;
}

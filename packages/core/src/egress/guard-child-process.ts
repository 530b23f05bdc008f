import childProcess, { ChildProcess } from 'node:child_process';
import type { EgressPolicy } from './egress-policy.ts';

const MAX_COMMAND = 300;

/** `file arg1 arg2…`, cut short: what the journal and the error name. */
export function describeCommand(file: unknown, args: unknown): string {
  const words = Array.isArray(args) && args.length > 0 ? args.map(String) : [String(file)];
  // spawn's args repeat the file (argv[0]); spawnSync's may not.
  if (words[0] !== String(file)) words.unshift(String(file));
  const text = words.join(' ');
  return text.length > MAX_COMMAND ? `${text.slice(0, MAX_COMMAND)}…` : text;
}

type Sync = 'spawnSync' | 'execSync' | 'execFileSync';
const SYNC: readonly Sync[] = ['spawnSync', 'execSync', 'execFileSync'];

/**
 * Child processes, at the two points every API reaches: `ChildProcess.prototype.spawn` (spawn,
 * exec, execFile, fork) and the synchronous exports (spawnSync, execSync, execFileSync; their
 * common internal is guarded by the handle layer); and `process.execve`, where it exists, which
 * replaces the process with another program. Refused unless child processes are allowed, with
 * a synchronous throw before anything starts; an allowed one is journaled as `passed`.
 */
export function guardChildProcesses(policy: EgressPolicy): () => void {
  const prototype = ChildProcess.prototype as ChildProcess & { spawn: (options: { file?: unknown; args?: unknown }) => unknown };
  const originalSpawn = prototype.spawn;

  const check = (command: string, layer: string): void => {
    if (!policy.childProcesses) {
      throw policy.refuse({ kind: 'spawn', target: command, layer, why: 'child processes are refused in the mirror profile' });
    }
    policy.passed('process', `spawn ${command}`, 'child processes are allowed (egress.childProcesses)');
  };

  function spawn(this: ChildProcess, options: { file?: unknown; args?: unknown }): unknown {
    check(describeCommand(options?.file, options?.args), 'child_process.ChildProcess.prototype.spawn');
    return originalSpawn.call(this, options);
  }
  prototype.spawn = spawn;

  const exports = childProcess as unknown as Record<Sync, (...args: unknown[]) => unknown>;
  const originals = new Map<Sync, (...args: unknown[]) => unknown>();
  for (const name of SYNC) {
    const original = exports[name];
    originals.set(name, original);
    exports[name] = {
      [name](...args: unknown[]): unknown {
        const [file, rest] = args;
        check(describeCommand(file, Array.isArray(rest) ? [file, ...rest] : undefined), `child_process.${name}`);
        return original.apply(this, args);
      },
    }[name]!;
  }

  // process.execve (Node 22.15+/23.11+) makes no child: it replaces this process with another
  // program, which runs with none of the lockdown. It is refused as a child process is (and, when
  // child processes are allowed, journaled as one). Its native side (process_methods) is not
  // reachable through process.binding, so this is the one place it can be held.
  const processWithExecve = process as unknown as { execve?: (file: unknown, args?: unknown, env?: unknown) => unknown };
  const originalExecve = processWithExecve.execve;
  const execve =
    typeof originalExecve === 'function'
      ? function execve(this: unknown, ...args: unknown[]): unknown {
          const [file, argv] = args;
          check(describeCommand(file, argv), 'process.execve');
          return originalExecve.apply(this, args as [unknown, unknown?, unknown?]);
        }
      : undefined;
  if (execve !== undefined) processWithExecve.execve = execve;

  return () => {
    if (prototype.spawn === spawn) prototype.spawn = originalSpawn;
    for (const [name, original] of originals) exports[name] = original;
    if (execve !== undefined && originalExecve !== undefined && processWithExecve.execve === execve) processWithExecve.execve = originalExecve;
  };
}

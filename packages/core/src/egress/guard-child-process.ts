import type * as ChildProcessModule from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { EgressPolicy } from './egress-policy.ts';

// Loaded through process.getBuiltinModule, not imported: the preload's first module records which
// networking modules were loaded before it (preload-snapshot.ts), so none of its own may load first.
const childProcess = process.getBuiltinModule('node:child_process') as typeof ChildProcessModule;

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
  const prototype = childProcess.ChildProcess.prototype as ChildProcess & { spawn: (options: { file?: unknown; args?: unknown }) => unknown };
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

  // Signals: process.kill calls process._kill (looked up on `process` at each call, so a `kill`
  // captured before the lockdown comes here too) with the signal as a number. A signal to another
  // process changes something outside the mirror: refused unless child processes are allowed. The
  // process's own pid, and signal 0 (a probe: it delivers nothing), pass. The pid and the signal are
  // converted once, as node's native kill converts them (to int32), and that value is what is checked
  // and handed on: a pid object whose valueOf answers differently each time cannot be one process to
  // the check and another to node. An object pid is never taken for the process's own: process.kill
  // has read it twice already, and what it answers a third time says nothing of the others.
  const processWithKill = process as unknown as { _kill?: (pid: unknown, signal: unknown) => unknown };
  const originalKill = processWithKill._kill;
  const kill =
    typeof originalKill === 'function'
      ? function _kill(this: unknown, pid: unknown, signal: unknown): unknown {
          const target = Number(pid) | 0;
          const number = Number(signal) | 0;
          const primitive = typeof pid === 'number' || typeof pid === 'string' || typeof pid === 'bigint';
          if (number !== 0 && (target !== process.pid || !primitive)) {
            const name = Object.entries(constants.signals).find(([, each]) => each === number)?.[0] ?? `signal ${number}`;
            const whom = !primitive ? `a pid object (now ${target})` : target > 0 ? `process ${target}` : target === 0 ? 'its own process group' : `process group ${-target}`;
            if (!policy.childProcesses) {
              throw policy.refuse({ kind: 'signal', target: `${name} to ${whom}`, layer: 'process.kill', why: 'signals to other processes are refused in the mirror profile' });
            }
            policy.passed('process', `signal ${name} to ${whom}`, 'child processes are allowed (egress.childProcesses)');
          }
          return originalKill.call(this, target, number);
        }
      : undefined;
  if (kill !== undefined) processWithKill._kill = kill;

  // process._debugProcess(pid) sends another process SIGUSR1 (it opens its inspector) without
  // passing _kill: refused for any pid but the process's own, on the same terms.
  const processWithDebug = process as unknown as { _debugProcess?: (pid: unknown) => unknown };
  const originalDebug = processWithDebug._debugProcess;
  const debugProcess =
    typeof originalDebug === 'function'
      ? function _debugProcess(this: unknown, pid: unknown): unknown {
          const target = Number(pid) | 0;
          if (target !== process.pid || !(typeof pid === 'number' || typeof pid === 'string')) {
            if (!policy.childProcesses) {
              throw policy.refuse({ kind: 'signal', target: `SIGUSR1 (inspector) to process ${target}`, layer: 'process._debugProcess', why: 'signals to other processes are refused in the mirror profile' });
            }
            policy.passed('process', `SIGUSR1 (inspector) to process ${target}`, 'child processes are allowed (egress.childProcesses)');
          }
          return originalDebug.call(this, target);
        }
      : undefined;
  if (debugProcess !== undefined) processWithDebug._debugProcess = debugProcess;

  return () => {
    if (kill !== undefined && originalKill !== undefined && processWithKill._kill === kill) processWithKill._kill = originalKill;
    if (debugProcess !== undefined && originalDebug !== undefined && processWithDebug._debugProcess === debugProcess) processWithDebug._debugProcess = originalDebug;
    if (prototype.spawn === spawn) prototype.spawn = originalSpawn;
    for (const [name, original] of originals) exports[name] = original;
    if (execve !== undefined && originalExecve !== undefined && processWithExecve.execve === execve) processWithExecve.execve = originalExecve;
  };
}

import type * as OsModule from 'node:os';
import type { EgressPolicy } from './egress-policy.ts';

type SetPriority = (this: unknown, ...args: unknown[]) => unknown;

/** The native os binding, where `process.binding` still reaches it (not under `--permission`). */
function osBinding(): Record<string, unknown> | undefined {
  try {
    return (process as unknown as { binding(name: string): Record<string, unknown> }).binding('os');
  } catch {
    return undefined;
  }
}

/** The layers the priority guard holds, for `EgressLockdown.layers`, and how to take them out. */
export interface PriorityLayers {
  readonly installed: readonly string[];
  readonly dispose: () => void;
}

/**
 * Scheduling priorities: `os.setPriority(pid, priority)` changes another process's nice value (one
 * raised cannot be lowered again without privilege) — no signal, no socket, no child. Refused for a
 * pid other than 0 and the process's own unless child processes are allowed (then journaled as
 * `passed`), at the export (`require('node:os')`, `process.getBuiltinModule('os')`, and the ESM
 * named export once syncBuiltinESMExports runs) and at the native binding lib/os.js took its copy from.
 * The pid checked is the one handed on: node's setPriority takes numbers only (validateInt32, no
 * conversion), so a non-number goes to it unchanged, to be rejected there.
 */
export function guardPriority(policy: EgressPolicy): PriorityLayers {
  const os = process.getBuiltinModule('node:os') as typeof OsModule & { setPriority: SetPriority };
  const installed: string[] = [];
  const undo: Array<() => void> = [];

  /** Throws the refusal (or journals the pass) for a pid that is not this process's. */
  const check = (pid: number, priority: unknown, layer: string): void => {
    if (pid === 0 || pid === process.pid) return;
    const target = `process ${pid} to ${String(priority)}`;
    if (!policy.childProcesses) {
      throw policy.refuse({ kind: 'priority', target, layer, why: "changing another process's scheduling priority is refused in the mirror profile" });
    }
    policy.passed('process', `priority ${target}`, 'child processes are allowed (egress.childProcesses)');
  };

  const original = os.setPriority;
  if (typeof original === 'function') {
    const setPriority = function setPriority(this: unknown, ...args: unknown[]): unknown {
      const [pid, priority] = args;
      // One argument (or the priority undefined): the priority of this process.
      if (priority === undefined || typeof pid !== 'number') return original.apply(this, args);
      check(pid, priority, 'os.setPriority');
      return original.call(this, pid, priority);
    };
    os.setPriority = setPriority;
    installed.push('os.setPriority');
    undo.push(() => {
      if (os.setPriority === setPriority) os.setPriority = original;
    });
  }

  const binding = osBinding();
  const native = binding?.setPriority as SetPriority | undefined;
  if (binding !== undefined && typeof native === 'function') {
    const setPriority = function setPriority(this: unknown, ...args: unknown[]): unknown {
      const [pid, priority, context] = args;
      // The native side CHECKs for int32s; anything else is refused here before it gets there.
      check(typeof pid === 'number' ? pid : Number.NaN, priority, 'os binding setPriority');
      return native.call(this, pid, priority, context);
    };
    binding.setPriority = setPriority;
    installed.push('os binding setPriority');
    undo.push(() => {
      if (binding.setPriority === setPriority) binding.setPriority = native;
    });
  }

  return { installed, dispose: () => undo.splice(0).reverse().forEach((step) => step()) };
}

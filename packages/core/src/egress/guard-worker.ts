import workerThreads, { type WorkerOptions } from 'node:worker_threads';
import type { EgressPolicy } from './egress-policy.ts';

const LAYER = 'worker_threads.Worker';

const PRELOAD_SPECIFIER = '@mirrorguard/core/egress-preload';

/** Whether these node options require the preload (by its path or its package specifier). */
function requiresPreload(execArgv: readonly string[], preload: string): boolean {
  const isPreload = (value: string | undefined): boolean => value === preload || value === PRELOAD_SPECIFIER;
  return execArgv.some(
    (argument, index) => ((argument === '--require' || argument === '-r') && isPreload(execArgv[index + 1])) || (argument.startsWith('--require=') && isPreload(argument.slice('--require='.length))),
  );
}

/**
 * A worker is a new isolate: its `net`, `dgram` and `child_process` are not the ones patched here.
 * So a worker starts only with the lockdown preloaded into it (`--require` the preload, which reads
 * the allow-list from the environment data every worker receives), or not at all: with
 * `egress.workers: 'refuse'`, or when the preload file cannot be found, the constructor throws.
 *
 * The export is replaced by a subclass (and ESM named imports follow it, `syncBuiltinESMExports`):
 * a `Worker` captured before the lockdown is not covered — unless the process started with the
 * preload, whose `--require` every worker inherits.
 */
export function guardWorkers(policy: EgressPolicy, sync: () => void): () => void {
  const exports = workerThreads as { Worker: typeof workerThreads.Worker };
  const Original = exports.Worker;

  class Worker extends Original {
    constructor(filename: string | URL, options?: WorkerOptions) {
      const target = String(filename).slice(0, 200);
      if (policy.workers === 'refuse') {
        throw policy.refuse({ kind: 'worker', target, layer: LAYER, why: "workers are refused in this mirror (egress.workers: 'refuse')" });
      }
      const preload = policy.preloadPath;
      if (preload === undefined) {
        throw policy.refuse({
          kind: 'worker',
          target,
          layer: LAYER,
          why: 'the egress preload file was not found, so the worker could not start locked down',
          howToAllow: 'reinstall @mirrorguard/core (its dist/egress-preload.cjs is missing)',
        });
      }
      // Workers run `--require` (not `--import`). A worker that inherits node's options already has
      // it when the process started with the preload; else it is added to the worker's own options.
      const given = options?.execArgv;
      if (given === undefined && requiresPreload(process.execArgv, preload)) super(filename, options);
      else if (given !== undefined && requiresPreload(given, preload)) super(filename, options);
      else super(filename, { ...options, execArgv: [...(given ?? process.execArgv), '--require', preload] });
    }
  }
  Object.defineProperty(Worker, 'name', { value: 'Worker' });

  exports.Worker = Worker;
  sync();
  return () => {
    if (exports.Worker === Worker) exports.Worker = Original;
    sync();
  };
}

import { syncBuiltinESMExports } from 'node:module';
import { fileURLToPath } from 'node:url';
import workerThreads, { type WorkerOptions } from 'node:worker_threads';
import { MirrorGuardError } from '@mirrorguard/core';

/**
 * The preload a guarded worker runs before its own code (worker-guard.ts): built as CommonJS beside
 * this bundle, or the source itself under Node's type stripping. `--require`, not `--import`: Node
 * runs `--import` preloads for a worker made from a file but not for one made with `eval: true`.
 */
const PRELOAD = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './worker-guard.ts' : './worker-guard.cjs', import.meta.url));

/** The message by which Node's Worker constructor hands the new thread its script, before the thread starts. */
interface LoadScript {
  readonly type: 'loadScript';
  readonly filename: unknown;
  readonly doEval: unknown;
  readonly isInternal?: boolean;
}

const isLoadScript = (message: unknown): message is LoadScript =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'loadScript' && 'filename' in message && 'doEval' in message && 'cwdCounter' in message;

const INVALID_EXEC_ARGV = 'ERR_WORKER_INVALID_EXEC_ARGV';

export interface WorkerGuard {
  /** Takes the guard out: `Worker` and `MessagePort.prototype.postMessage` as they were. */
  remove(): void;
}

/**
 * Replay covers worker threads: a worker has its own globals, its own undici and node:http, which
 * the main thread's stub does not reach, and a preload the process started with does not bind a
 * worker made with its own `execArgv`. So:
 * - `worker_threads.Worker` (the module's property, and named ESM imports after install) becomes a
 *   subclass that starts every worker with `--require` worker-guard first, whatever `execArgv`,
 *   `env` or `eval` it is given: the worker refuses every outbound call (`MG_ERR_HTTP_WORKER`).
 * - A worker made through a reference to the original class taken before install() cannot be given
 *   the preload; Node's constructor hands the thread its script through a MessagePort before it
 *   starts the thread, and that hand-over throws `MG_ERR_HTTP_WORKER` instead: the constructor
 *   fails and the thread never runs. Node's own internal workers (module.register's hooks) pass.
 */
export function guardWorkers(onRefused: (operation: string, error: MirrorGuardError) => void): WorkerGuard {
  const Original = workerThreads.Worker;
  const { postMessage } = workerThreads.MessagePort.prototype;
  let constructing = 0;
  /** The main thread's execArgv less what a worker cannot take (V8 and process-wide options, which a worker shares anyway). */
  let inherited: readonly string[] = process.execArgv;

  class Worker extends Original {
    constructor(filename: string | URL, options: WorkerOptions = {}) {
      constructing += 1;
      try {
        if (options.execArgv !== undefined) {
          super(filename, { ...options, execArgv: ['--require', PRELOAD, ...options.execArgv] });
          return;
        }
        try {
          super(filename, { ...options, execArgv: ['--require', PRELOAD, ...inherited] });
        } catch (error) {
          // Left out, the execArgv is inherited without the options Node names invalid for a worker; given, they must be left out.
          const code = (error as { code?: unknown }).code;
          const message = String((error as Error)?.message);
          const invalid = new Set(message.slice(message.indexOf(': ') + 2).split(', '));
          const fewer = inherited.filter((argument) => !invalid.has(argument));
          if (code !== INVALID_EXEC_ARGV || fewer.length === inherited.length) throw error;
          inherited = fewer;
          super(filename, { ...options, execArgv: ['--require', PRELOAD, ...inherited] });
        }
      } finally {
        constructing -= 1;
      }
    }
  }

  workerThreads.MessagePort.prototype.postMessage = function (this: InstanceType<typeof workerThreads.MessagePort>, message: unknown, ...rest: unknown[]) {
    if (constructing === 0 && isLoadScript(message) && message.isInternal !== true) {
      const script = message.doEval === false ? String(message.filename) : 'code given with eval';
      const error = new MirrorGuardError(
        'MG_ERR_HTTP_WORKER',
        `mirrorguard http-stub: a worker thread (${script}) was refused before it ran: it was made through a Worker class taken before install(), ` +
          'which cannot be given the guard that keeps a replaying worker off the network; make workers through worker_threads.Worker after install()',
      );
      onRefused(`new Worker(${script})`, error);
      throw error;
    }
    return (postMessage as (...args: unknown[]) => void).call(this, message, ...rest);
  } as typeof postMessage;
  (workerThreads as { Worker: typeof Original }).Worker = Worker;
  syncBuiltinESMExports();
  return {
    remove() {
      (workerThreads as { Worker: typeof Original }).Worker = Original;
      workerThreads.MessagePort.prototype.postMessage = postMessage;
      syncBuiltinESMExports();
    },
  };
}

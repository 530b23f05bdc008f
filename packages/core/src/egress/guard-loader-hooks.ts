import nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import type { EgressPolicy } from './egress-policy.ts';

const LAYER = 'module.register';

/**
 * `module.register()` runs its hooks on node's own hooks thread: not a `worker_threads.Worker`, so
 * the worker guard never sees it start, and it runs the process's `--require`s but not its
 * `--import`s. Started after a lockdown that no `--require` of the preload put in every thread, it
 * has none: its `net` connects anywhere. So, as for a worker: with `egress.workers: 'lockdown'` the
 * first `register` registers the preload before the caller's hooks (the thread takes the grants
 * from environment data, as a worker does, and the caller's hooks load under the lockdown); with
 * `'refuse'` it is refused. (`module.registerHooks` runs its hooks on the calling thread, under this
 * lockdown: it is left alone.) Hooks registered before the lockdown keep the thread they started.
 */
export function guardLoaderHooks(policy: EgressPolicy, sync: () => void): () => void {
  const exports = nodeModule as unknown as { register?: (...args: unknown[]) => unknown };
  const original = exports.register;
  if (typeof original !== 'function') return () => undefined;
  let locked = false;
  const register = function register(this: unknown, ...args: unknown[]): unknown {
    if (policy.workers === 'lockdown' && policy.preloadPath !== undefined) {
      if (!locked) {
        original.call(this, pathToFileURL(policy.preloadPath).href);
        locked = true;
      }
      return original.apply(this, args);
    }
    throw policy.refuse({
      kind: 'worker',
      target: `module.register(${String(args[0]).slice(0, 200)})`,
      layer: LAYER,
      why: "loader hooks run on node's own hooks thread, which starts without the lockdown unless the preload is a --require of node's options",
      howToAllow: 'start node with --require @mirrorguard/core/egress-preload (the hooks thread runs --require, not --import), in the command line or NODE_OPTIONS',
    });
  };
  exports.register = register;
  sync();
  return () => {
    if (exports.register === register) exports.register = original;
    sync();
  };
}

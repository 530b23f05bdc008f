/**
 * The memory engine as the Tcl suite's harness serves it: the engine's own command families, plus
 * the few commands the suite's *framework* sends outside any test, which would otherwise abort
 * every unit before its first test (support/server.tcl, external-server mode):
 *
 * - FUNCTION FLUSH, sent before each unit: the engine holds no functions, so there is nothing to
 *   flush (OK), as on a server with none.
 * - CONFIG GET / CONFIG SET of the parameters that only tune a value's internal encoding
 *   (listpack/intset thresholds, list compression) and `save`: the engine has no encodings and
 *   no persistence, so these change nothing it could show; units set them in `overrides` and at
 *   their top level. Any other parameter fails as the engine fails a command it does not run.
 * - MEMORY USAGE, which the hash unit calls outside any test (a coverage probe whose value its
 *   memory_usage helper replaces by 1 on a server that does not report jemalloc, as the engine's
 *   INFO does not): null for a missing key, as Redis answers, else 1. The one test that reads the
 *   value itself (string unit, "trim on SET with big value") runs only under jemalloc.
 *
 * Nothing else is added: every test still talks to the engine's own handlers.
 */
import { MirrorGuardError } from '@mirrorguard/core';
import { keyId } from '../../packages/redis-shadow/src/memory/key-id.ts';
import { MEMORY_FAMILIES } from '../../packages/redis-shadow/src/memory/families.ts';
import { MemoryEngine, type CommandFamily } from '../../packages/redis-shadow/src/memory/memory-engine.ts';
import { bulk, OK, type Reply } from '../../packages/redis-shadow/src/memory/replies.ts';

/** Redis 7.0's defaults of the representation-only parameters (old names are aliases). */
const REPRESENTATION_ONLY: Readonly<Record<string, string>> = {
  'list-max-listpack-size': '-2',
  'list-compress-depth': '0',
  'hash-max-listpack-entries': '128',
  'hash-max-listpack-value': '64',
  'set-max-intset-entries': '512',
  'zset-max-listpack-entries': '128',
  'zset-max-listpack-value': '64',
  save: '3600 1 300 100 60 10000',
};
const canonical = (name: string): string => name.toLowerCase().replace('ziplist', 'listpack');

function unsupported(what: string): never {
  throw new MirrorGuardError('MG_ERR_REDIS_UNSUPPORTED', `the memory engine does not run ${what}; use a real Redis as the shadow for it`);
}

export function harnessFamily(): CommandFamily {
  const config = new Map(Object.entries(REPRESENTATION_ONLY));
  return {
    'function|flush': () => OK,
    'memory|usage': ({ args, db }): Reply => (db.has(keyId(args[1]!)) ? 1 : null),
    // `args` starts with the subcommand's name.
    'config|get': ({ args }): Reply => {
      const reply: Reply[] = [];
      for (const arg of args.slice(1)) {
        const name = canonical(String(arg));
        if (!config.has(name)) unsupported(`CONFIG GET ${String(arg)}`);
        reply.push(bulk(String(arg)), bulk(config.get(name)!));
      }
      return reply;
    },
    'config|set': ({ args: [, ...args] }): Reply => {
      if (args.length % 2 !== 0) unsupported('CONFIG SET with an odd number of arguments');
      for (let i = 0; i < args.length; i += 2) if (!config.has(canonical(String(args[i])))) unsupported(`CONFIG SET ${String(args[i])}`);
      for (let i = 0; i < args.length; i += 2) config.set(canonical(String(args[i])), String(args[i + 1]));
      return OK;
    },
  };
}

export function createHarnessEngine(): MemoryEngine {
  return new MemoryEngine([...Object.values(MEMORY_FAMILIES), harnessFamily()]);
}

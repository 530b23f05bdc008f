import type { CommandClassification } from '../commands/classify-command.ts';
import type { KeyState } from '../shadow/key-state.ts';
import { keyId } from '../memory/key-id.ts';
import { routeSort } from './route-sort.ts';
import { ALLOWED_NEITHER, KEYSPACE_READS, READS_THAT_WRITE, REFUSED_ALWAYS, SCRIPTS_THAT_MAY_WRITE, SHADOW_SCRIPT_CACHE, SUPPRESSED, TRANSACTION_COMMANDS } from './allowed-commands.ts';
import { isHarmlessRead } from './origin-allow-list.ts';
import type { Route } from './route.ts';


const TO_ORIGIN: Route = Object.freeze({ target: 'origin' });

/** Scripts and functions that cannot write (the server refuses their writes). */
const READ_ONLY_SCRIPTS: ReadonlySet<string> = new Set(['eval_ro', 'evalsha_ro', 'fcall_ro']);

const describeKey = (key: unknown): string => `key "${(Buffer.isBuffer(key) ? key.toString('utf8') : String(key)).slice(0, 100)}"`;

/** Decides where one command goes, from its classification and what the shadow owns. Pure. */
export function routeCommand(classification: CommandClassification, argv: readonly unknown[], state: KeyState): Route {
  const { kind, name, spec } = classification;
  // Only reads on the origin's allow-list ever go there; every other read (EVAL_RO, EVALSHA_RO,
  // FCALL_RO: code that can cache scripts, call admin commands, hold the server BUSY) runs on the
  // shadow over its declared keys, copied first.
  const harmless = kind === 'read' && spec !== undefined && isHarmlessRead(spec);
  // The common case of a mirror, decided first: a read while the shadow owns nothing goes to the origin.
  if (harmless && state.isEmpty()) return TO_ORIGIN;
  if (kind === 'unknown') return { target: 'refuse', code: 'MG_ERR_REDIS_REFUSED', reason: `${name.toUpperCase()} is not a command the origin knows` };
  const never = REFUSED_ALWAYS.get(name);
  if (never !== undefined) return { target: 'refuse', code: 'MG_ERR_REDIS_REFUSED', reason: never };
  if (kind === 'admin') return { target: 'refuse', code: 'MG_ERR_REDIS_REFUSED', reason: `${name.toUpperCase()} is an admin command` };
  if (SUPPRESSED.has(name)) return { target: 'suppress', reason: `${name.toUpperCase()} would reach the origin's subscribers` };
  if (TRANSACTION_COMMANDS.has(name)) {
    // MULTI, EXEC, DISCARD and UNWATCH carry no keys; WATCH's keys are copied so the shadow can watch them.
    return { target: 'shadow', write: false, keys: (classification.keys ?? []).map((ref) => ({ key: argv[ref.index] as Buffer | string })) };
  }
  // SCRIPT LOAD/EXISTS and FUNCTION LIST see the shadow's own scripts and libraries (ioredis loads
  // the scripts of a pipeline with SCRIPT LOAD before their EVALSHA): they run where the scripts run.
  if (SHADOW_SCRIPT_CACHE.has(name)) return { target: 'shadow', write: false, keys: [] };
  const script = SCRIPTS_THAT_MAY_WRITE.has(name);
  if (kind === 'neither' && !script) {
    return ALLOWED_NEITHER.has(name)
      ? TO_ORIGIN
      : { target: 'refuse', code: 'MG_ERR_REDIS_REFUSED', reason: `${name.toUpperCase()} is neither a read nor a write and not on the allow-list` };
  }
  if (KEYSPACE_READS.has(name)) return state.isEmpty() ? { target: 'origin' } : { target: 'merge', name };
  if (name === 'sort' || name === 'sort_ro') return routeSort(name, argv, state, (key) => state.routesToShadow(keyId(key as Buffer | string)));
  const write = kind === 'write' || script || READS_THAT_WRITE.has(name);
  const scriptKind = script ? 'write' : READ_ONLY_SCRIPTS.has(name) ? 'read' : undefined;
  // The common case of a mirror: a read while the shadow owns nothing goes to the origin, keys unread.
  if (!write && harmless && state.isEmpty()) return TO_ORIGIN;
  const keys = classification.keys;
  // Unknown or INCOMPLETE key specs (module commands, …): the origin names the keys; the command
  // runs on the shadow once they are owned, and every read waits for it meanwhile.
  if (keys === undefined) return { target: 'shadow', write, keys: [], askOrigin: [argv] };
  const distrusted = keys.find((ref) => state.isDistrusted(keyId(argv[ref.index] as Buffer | string)));
  if (distrusted !== undefined) {
    return { target: 'refuse', code: 'MG_ERR_REDIS_UNSUPPORTED', reason: `a script on the shadow may have written ${describeKey(argv[distrusted.index])} without declaring it, and the mirror could not learn whether: neither side's value can be trusted` };
  }
  if (!write && harmless && !keys.some((ref) => state.routesToShadow(keyId(argv[ref.index] as Buffer | string)))) return TO_ORIGIN;
  return {
    target: 'shadow',
    write,
    keys: keys.map((ref) => ({ key: argv[ref.index] as Buffer | string })),
    ...(scriptKind !== undefined && { script: scriptKind }),
  };
}

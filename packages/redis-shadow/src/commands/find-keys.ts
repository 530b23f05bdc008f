import type { CommandSpec, KeySpec } from './command-table.ts';

/** A key argument: its position in argv (command name at 0) and the flags of the spec that found it. */
export interface KeyRef {
  readonly index: number;
  readonly flags: ReadonlySet<string>;
}

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('latin1') : String(value));

/** The first argument a spec looks from, or undefined when its keyword is absent. A port of the server's getKeysUsingKeySpecs. */
function beginIndex(spec: KeySpec, argv: readonly unknown[]): number | undefined {
  const search = spec.beginSearch;
  if (search.type === 'index') return search.index;
  if (search.type !== 'keyword') return undefined;
  const argc = argv.length;
  const start = search.startFrom > 0 ? search.startFrom : argc + search.startFrom;
  const end = search.startFrom > 0 ? argc - 1 : 0;
  for (let index = start; index !== end; index = start <= end ? index + 1 : index - 1) {
    if (index >= argc || index < 1) break;
    if (text(argv[index]).toUpperCase() === search.keyword) return index + 1;
  }
  return undefined;
}

/**
 * The key arguments of `argv` by the server's key specs, or `undefined` when the specs cannot say
 * (an `unknown` or INCOMPLETE spec): then the origin must be asked (`COMMAND GETKEYSANDFLAGS`).
 * Specs flagged NOT_KEY (arguments that look like keys but are not) are skipped.
 */
export function findKeys(command: CommandSpec, argv: readonly unknown[]): KeyRef[] | undefined {
  const keys: KeyRef[] = [];
  const argc = argv.length;
  for (const spec of command.keySpecs) {
    if (spec.flags.has('INCOMPLETE') || spec.beginSearch.type === 'unknown' || spec.findKeys.type === 'unknown') return undefined;
    if (spec.flags.has('NOT_KEY')) continue;
    let first = beginIndex(spec, argv);
    if (first === undefined) continue;
    let last: number;
    let step: number;
    const find = spec.findKeys;
    if (find.type === 'range') {
      if (find.lastKey >= 0) last = first + find.lastKey;
      else if (find.limit <= 1) last = argc + find.lastKey;
      else last = first + Math.floor((argc - first) / find.limit) + find.lastKey;
      step = find.keyStep;
    } else {
      const count = Number.parseInt(text(argv[first + find.keyNumIndex] ?? ''), 10);
      if (!Number.isInteger(count) || count < 0) return undefined;
      step = find.keyStep;
      first += find.firstKey;
      last = first + (count - 1) * step;
    }
    for (let index = first; index <= last; index += step) {
      if (index >= argc || index < first) break;
      keys.push({ index, flags: spec.flags });
    }
  }
  return keys;
}

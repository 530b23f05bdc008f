import { integerArgument, text, upper } from '../arguments.ts';
import type { Keyspace } from '../keyspace.ts';
import type { CommandCall, CommandFamily } from '../memory-engine.ts';
import { keyId } from '../key-id.ts';
import { errors, fail, type Reply } from '../replies.ts';

/** SORT's options, as the server parses them. */
export interface SortOptions {
  by: string | undefined;
  offset: number;
  count: number;
  gets: string[];
  descending: boolean;
  alpha: boolean;
  store: Buffer | undefined;
}

/** SORT's options from its arguments (the key first); STORE only where `allowStore` (not SORT_RO). */
export function parseSortOptions(args: readonly Buffer[], allowStore: boolean): SortOptions {
  const options: SortOptions = { by: undefined, offset: 0, count: -1, gets: [], descending: false, alpha: false, store: undefined };
  for (let index = 1; index < args.length; index += 1) {
    const option = upper(args[index]);
    const left = args.length - index - 1;
    if (option === 'ASC') options.descending = false;
    else if (option === 'DESC') options.descending = true;
    else if (option === 'ALPHA') options.alpha = true;
    else if (option === 'LIMIT' && left >= 2) {
      options.offset = integerArgument(args[index + 1]);
      options.count = integerArgument(args[index + 2]);
      index += 2;
    } else if (option === 'STORE' && left >= 1 && allowStore) options.store = args[++index]!;
    else if (option === 'BY' && left >= 1) options.by = text(args[++index]!);
    else if (option === 'GET' && left >= 1) options.gets.push(text(args[++index]!));
    else fail(errors.syntax());
  }
  return options;
}

/**
 * What Redis' lookupKeyByPattern reads for a pattern and an element: `#` is the element itself; the
 * first `*` is replaced by the element; `key->field` names a hash field. Undefined for a pattern
 * without `*`, which reads nothing (nil).
 */
export function patternTarget(pattern: string, element: string): '#' | { readonly key: string; readonly field?: string } | undefined {
  if (pattern === '#') return '#';
  const star = pattern.indexOf('*');
  if (star === -1) return undefined;
  const arrow = pattern.indexOf('->', star);
  const keyPattern = arrow !== -1 && arrow + 2 < pattern.length ? pattern.slice(0, arrow) : pattern;
  const key = keyPattern.slice(0, star) + element + keyPattern.slice(star + 1);
  return keyPattern === pattern ? { key } : { key, field: pattern.slice(arrow + 2) };
}

/** A pattern's value for an element: a string key's value or a hash field; nil for a missing key or another type. */
export type PatternLookup = (pattern: string, element: string) => Buffer | null;

function lookupIn(db: Keyspace): PatternLookup {
  return (pattern, element) => {
    const target = patternTarget(pattern, element);
    if (target === '#') return Buffer.from(element, 'latin1');
    if (target === undefined) return null;
    const value = db.value(target.key);
    if (value === undefined) return null;
    if (target.field !== undefined) return value.type === 'hash' ? (value.value.get(target.field) ?? null) : null;
    return value.type === 'string' ? value.value : null;
  };
}

/** What strtod reads in full (leading blanks allowed, an empty string is 0), else undefined. */
function sortScore(value: Buffer): number | undefined {
  const trimmed = text(value).replace(/^[ \t\n\v\f\r]+/, '');
  if (trimmed === '') return 0;
  if (!/^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity)$/i.test(trimmed)) return undefined;
  const lower = trimmed.toLowerCase();
  return lower.endsWith('inf') || lower.endsWith('infinity') ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(trimmed);
}

const compareBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * SORT's answer for the elements of its source (latin1 strings, in the source's order) whose type
 * is `sourceType`: sorted (or not, BY without `*`), limited, each turned into its GET values. The
 * one implementation of SORT's rules, used by the engine and by a mirror sorting over origin and shadow.
 */
export function sortElements(elements: readonly string[], sourceType: 'list' | 'set' | 'zset' | undefined, given: SortOptions, lookup: PatternLookup): Array<Buffer | null> {
  let options = given;
  let sorted = [...elements];
  // BY without a `*` means: do not sort (a list or sorted set keeps its order) — but a set stored
  // is sorted ALPHA anyway, as the server does so that its result is deterministic.
  let dontSort = options.by !== undefined && !options.by.includes('*');
  if (dontSort && sourceType === 'set' && options.store !== undefined) {
    dontSort = false;
    options = { ...options, alpha: true, by: undefined };
  }
  if (!dontSort) {
    const keys = sorted.map((element) => {
      const by = options.by === undefined ? Buffer.from(element, 'latin1') : lookup(options.by, element);
      if (options.alpha) return { element, alpha: by === null ? null : by.toString('latin1'), score: 0 };
      const score = by === null ? 0 : sortScore(by);
      if (score === undefined) fail(errors.custom("ERR One or more scores can't be converted into double"));
      return { element, alpha: null, score };
    });
    keys.sort((a, b) => {
      let order: number;
      if (options.alpha) order = a.alpha === null ? (b.alpha === null ? 0 : -1) : b.alpha === null ? 1 : compareBytes(a.alpha, b.alpha);
      else order = a.score < b.score ? -1 : a.score > b.score ? 1 : compareBytes(a.element, b.element);
      return options.descending ? -order : order;
    });
    sorted = keys.map(({ element }) => element);
  } else if (options.descending && (sourceType === 'zset' || sourceType === 'list')) {
    sorted.reverse();
  }
  const start = Math.max(0, options.offset);
  const end = options.count < 0 ? sorted.length : Math.min(sorted.length, start + options.count);
  const picked = sorted.slice(start, Math.max(start, end));
  return options.gets.length === 0 ? picked.map((element) => Buffer.from(element, 'latin1')) : picked.flatMap((element) => options.gets.map((get) => lookup(get, element)));
}

function sort(call: CommandCall, allowStore: boolean): Reply {
  const { args, db } = call;
  const options = parseSortOptions(args, allowStore);
  const source = db.value(keyId(args[0]!));
  let elements: string[];
  if (source === undefined) elements = [];
  else if (source.type === 'list') elements = source.value.map((element) => element.toString('latin1'));
  else if (source.type === 'set') elements = [...source.value];
  else if (source.type === 'zset') elements = source.value.ordered().map(({ member }) => member);
  else fail(errors.wrongType());
  const result = sortElements(elements, source?.type, options, lookupIn(db));
  if (options.store === undefined) return result;
  const destination = keyId(options.store);
  db.delete(destination);
  if (result.length > 0) db.set(destination, { type: 'list', value: result.map((value) => value ?? Buffer.alloc(0)) });
  db.touch(destination);
  return result.length;
}

/** SORT and SORT_RO, with BY and GET patterns (read from the engine's own keys), LIMIT and STORE. */
export const sortCommands: CommandFamily = {
  sort: (call) => sort(call, true),
  sort_ro: (call) => sort(call, false),
};

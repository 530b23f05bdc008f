import { bigIntegerArgument, text, upper } from '../arguments.ts';
import type { CommandCall, CommandFamily } from '../memory-engine.ts';
import { keyId } from '../key-id.ts';
import { errors, fail, NULL_ARRAY, OK, type Reply } from '../replies.ts';

type List = Buffer[];
type End = 'LEFT' | 'RIGHT';

const INT64_MAX = 2n ** 63n - 1n;
const STRICT_INTEGER = /^(?:0|-?[1-9][0-9]*)$/;

const listAt = (call: CommandCall, index = 0): List | undefined => call.db.read(keyId(call.args[index]!), 'list');

/** A long argument as string2ll reads it (bigIntegerArgument, but `-0` refused too), as a number. */
function longArgument(argument: Buffer): number {
  if (text(argument) === '-0') fail(errors.notInteger());
  return Number(bigIntegerArgument(argument));
}

/** A long from `min` up, as getRangeLongFromObjectOrReply reads it: `message` for anything else. */
function boundedArgument(argument: Buffer, min: bigint, message: string): number {
  const printed = text(argument);
  const value = STRICT_INTEGER.test(printed) ? BigInt(printed) : undefined;
  if (value === undefined || value < min || value > INT64_MAX) fail(errors.custom(`ERR ${message}`));
  return Number(value);
}

/** LEFT or RIGHT (LMOVE, LMPOP); a syntax error otherwise. */
function end(argument: Buffer | undefined): End {
  const word = upper(argument);
  if (word !== 'LEFT' && word !== 'RIGHT') fail(errors.syntax());
  return word;
}

/** How many elements one call of unshift may take as arguments. */
const UNSHIFT_CHUNK = 1024;

/** Adds elements one by one at an end, as LPUSH and RPUSH do (LPUSH a b leaves b first). */
function push(list: List, elements: readonly Buffer[], where: End): number {
  if (where === 'RIGHT') {
    for (const element of elements) list.push(Buffer.from(element));
    return list.length;
  }
  const added = elements.map((element) => Buffer.from(element)).reverse();
  if (added.length <= UNSHIFT_CHUNK) {
    list.unshift(...added);
    return list.length;
  }
  const rest = list.splice(0);
  for (const element of added) list.push(element);
  for (const element of rest) list.push(element);
  return list.length;
}

/** Takes up to `count` elements off an end, in the order they come off. */
function pop(list: List, where: End, count: number): Buffer[] {
  if (count === 1 && list.length > 0) return [where === 'LEFT' ? list.shift()! : list.pop()!];
  if (where === 'LEFT') return list.splice(0, count);
  return list.splice(Math.max(0, list.length - count)).reverse();
}

function pushCommand(call: CommandCall, where: End, onlyIfExists: boolean): Reply {
  const { args, db } = call;
  const key = keyId(args[0]!);
  if (onlyIfExists && db.read(key, 'list') === undefined) return 0;
  return push(db.upsert(key, 'list'), args.slice(1), where);
}

/** LPOP and RPOP, with or without a count. */
function popCommand(call: CommandCall, where: End): Reply {
  const { args } = call;
  if (args.length > 2) fail(errors.arity(call.name));
  const count = args.length === 2 ? boundedArgument(args[1]!, 0n, 'value is out of range, must be positive') : undefined;
  const list = listAt(call);
  if (list === undefined) return count === undefined ? null : NULL_ARRAY;
  if (count === undefined) return pop(list, where, 1)[0] ?? null;
  return pop(list, where, count);
}

/** The inclusive index range LRANGE and LTRIM mean, or undefined when it is empty. */
function span(length: number, start: number, stop: number): [number, number] | undefined {
  if (start < 0) start += length;
  if (stop < 0) stop += length;
  if (start < 0) start = 0;
  if (start > stop || start >= length) return undefined;
  return [start, Math.min(stop, length - 1)];
}

/** A zero-based index from LINDEX/LSET's one, which may count from the end; undefined when out of range. */
function position(length: number, argument: Buffer): number | undefined {
  let index = longArgument(argument);
  if (index < 0) index += length;
  return index >= 0 && index < length ? index : undefined;
}

function lrem(call: CommandCall): Reply {
  const { args } = call;
  const count = longArgument(args[1]!);
  const list = listAt(call);
  if (list === undefined) return 0;
  const element = args[2]!;
  const limit = count === 0 ? Infinity : Math.abs(count);
  const removed = new Set<number>();
  for (let step = 0; step < list.length && removed.size < limit; step += 1) {
    const index = count < 0 ? list.length - 1 - step : step;
    if (list[index]!.equals(element)) removed.add(index);
  }
  const kept = list.filter((_, index) => !removed.has(index));
  list.splice(0);
  for (const item of kept) list.push(item);
  return removed.size;
}

function linsert(call: CommandCall): Reply {
  const { args } = call;
  const where = upper(args[1]);
  if (where !== 'BEFORE' && where !== 'AFTER') fail(errors.syntax());
  const list = listAt(call);
  if (list === undefined) return 0;
  const pivot = list.findIndex((element) => element.equals(args[2]!));
  if (pivot === -1) return -1;
  list.splice(where === 'BEFORE' ? pivot : pivot + 1, 0, Buffer.from(args[3]!));
  return list.length;
}

/**
 * LPOS with RANK, COUNT and MAXLEN, as Redis 7.0 runs it, down to RANK -9223372036854775808: its
 * negation overflows there, so every match from the tail counts and COUNT never stops the search.
 */
function lpos(call: CommandCall): Reply {
  const { args } = call;
  let rank = 1n;
  let count = -1;
  let maxlen = 0;
  for (let index = 2; index < args.length; index += 1) {
    const option = upper(args[index]);
    const more = index + 1 < args.length;
    if (option === 'RANK' && more) {
      const argument = args[++index]!;
      if (text(argument) === '-0') fail(errors.notInteger());
      rank = bigIntegerArgument(argument);
      if (rank === 0n) {
        fail(errors.custom("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
      }
    } else if (option === 'COUNT' && more) {
      count = boundedArgument(args[++index]!, 0n, "COUNT can't be negative");
    } else if (option === 'MAXLEN' && more) {
      maxlen = boundedArgument(args[++index]!, 0n, "MAXLEN can't be negative");
    } else fail(errors.syntax());
  }
  const fromTail = rank < 0n;
  if (fromTail) rank = BigInt.asIntN(64, -rank);
  const list = listAt(call);
  if (list === undefined) return count === -1 ? null : [];
  const element = args[1]!;
  const found: number[] = [];
  let matches = 0n;
  for (let step = 0; step < list.length && (maxlen === 0 || step < maxlen); step += 1) {
    const index = fromTail ? list.length - 1 - step : step;
    if (!list[index]!.equals(element)) continue;
    matches += 1n;
    if (matches < rank) continue;
    found.push(index);
    if (count === -1) break;
    if (count !== 0 && BigInt.asIntN(64, matches - rank + 1n) >= BigInt(count)) break;
  }
  if (count !== -1) return found;
  return found[0] ?? null;
}

/** LMOVE and RPOPLPUSH: the source checked first, then the destination's type, then the move. */
function move(call: CommandCall, from: End, to: End): Reply {
  const { args, db } = call;
  const source = listAt(call);
  if (source === undefined || source.length === 0) return null;
  const destination = keyId(args[1]!);
  db.read(destination, 'list');
  const [element] = pop(source, from, 1);
  push(db.upsert(destination, 'list'), [element!], to);
  return element!;
}

function lmpop(call: CommandCall): Reply {
  const { args, db } = call;
  const numkeys = boundedArgument(args[0]!, 1n, 'numkeys should be greater than 0');
  const whereIndex = numkeys + 1;
  if (whereIndex >= args.length) fail(errors.syntax());
  const where = end(args[whereIndex]);
  let count = -1;
  for (let index = whereIndex + 1; index < args.length; index += 1) {
    if (count === -1 && upper(args[index]) === 'COUNT' && index + 1 < args.length) {
      count = boundedArgument(args[++index]!, 1n, 'count should be greater than 0');
    } else fail(errors.syntax());
  }
  for (const key of args.slice(1, whereIndex)) {
    const list = db.read(keyId(key), 'list');
    if (list === undefined || list.length === 0) continue;
    return [Buffer.from(key), pop(list, where, count === -1 ? 1 : count)];
  }
  return NULL_ARRAY;
}

/** Lists: pushes and pops at both ends, ranges, indexes, LPOS, LINSERT, LMOVE and LMPOP. Blocking forms are not run. */
export const listCommands: CommandFamily = {
  lpush: (call) => pushCommand(call, 'LEFT', false),
  rpush: (call) => pushCommand(call, 'RIGHT', false),
  lpushx: (call) => pushCommand(call, 'LEFT', true),
  rpushx: (call) => pushCommand(call, 'RIGHT', true),
  lpop: (call) => popCommand(call, 'LEFT'),
  rpop: (call) => popCommand(call, 'RIGHT'),
  llen: (call) => listAt(call)?.length ?? 0,
  lrange: (call) => {
    const start = longArgument(call.args[1]!);
    const stop = longArgument(call.args[2]!);
    const list = listAt(call);
    if (list === undefined) return [];
    const bounds = span(list.length, start, stop);
    return bounds === undefined ? [] : list.slice(bounds[0], bounds[1] + 1);
  },
  lindex: (call) => {
    const list = listAt(call);
    if (list === undefined) return null;
    const index = position(list.length, call.args[1]!);
    return index === undefined ? null : list[index]!;
  },
  lset: (call) => {
    const list = listAt(call);
    if (list === undefined) fail(errors.noSuchKey());
    const index = position(list.length, call.args[1]!);
    if (index === undefined) fail(errors.custom('ERR index out of range'));
    list[index] = Buffer.from(call.args[2]!);
    return OK;
  },
  lrem,
  ltrim: (call) => {
    const start = longArgument(call.args[1]!);
    const stop = longArgument(call.args[2]!);
    const list = listAt(call);
    if (list === undefined) return OK;
    const bounds = span(list.length, start, stop);
    if (bounds === undefined) list.splice(0);
    else {
      list.splice(bounds[1] + 1);
      list.splice(0, bounds[0]);
    }
    return OK;
  },
  linsert,
  lpos,
  lmove: (call) => {
    const from = end(call.args[2]);
    const to = end(call.args[3]);
    return move(call, from, to);
  },
  rpoplpush: (call) => move(call, 'RIGHT', 'LEFT'),
  lmpop,
};

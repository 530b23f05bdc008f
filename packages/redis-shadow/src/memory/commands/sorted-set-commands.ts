import { text, upper } from '../arguments.ts';
import { globMatch } from '../glob-pattern.ts';
import type { CommandCall, CommandFamily } from '../memory-engine.ts';
import { keyId } from '../key-id.ts';
import { bytes, errors, fail, formatDouble, NULL_ARRAY, type ErrorReply, type Reply } from '../replies.ts';
import { compareScored, LISTPACK_ENTRIES, LISTPACK_VALUE, SortedSet, type ScoredMember } from '../sorted-set.ts';
import { bigIntegerArgument, positiveArgument, rangedArgument, rangedLong } from '../arguments.ts';
import { scanCursor, scanOptions, scanReply, scanStep } from '../collection-scan.ts';

const LONG_MAX = 2n ** 63n - 1n;
const SPACE = /^[ \t\n\v\f\r]*/;

/** What C's strtod reads from the start of `input`: the value, the characters used (0: none), and ERANGE. */
function strtod(input: string): { value: number; used: number; outOfRange: boolean } {
  const space = SPACE.exec(input)![0].length;
  const signed = input.slice(space);
  const sign = signed[0] === '-' || signed[0] === '+' ? signed[0] : '';
  const body = signed.slice(sign.length);
  const at = space + sign.length;
  const negate = (value: number): number => (sign === '-' ? -value : value);
  const infinity = /^inf(?:inity)?/i.exec(body);
  if (infinity !== null) return { value: negate(Infinity), used: at + infinity[0].length, outOfRange: false };
  const nan = /^nan(?:\([0-9A-Za-z_]*\))?/i.exec(body);
  if (nan !== null) return { value: NaN, used: at + nan[0].length, outOfRange: false };
  const hex = /^0[xX](?=\.?[0-9a-fA-F])([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?/.exec(body);
  if (hex !== null) {
    const mantissa = BigInt(`0x${hex[1]!}${hex[2] ?? ''}0`) >> 4n;
    let value = Number(mantissa);
    let power = Number(hex[3] ?? 0) - 4 * (hex[2]?.length ?? 0);
    for (; power > 1000 && Number.isFinite(value); power -= 1000) value *= 2 ** 1000;
    for (; power < -1000 && value !== 0; power += 1000) value *= 2 ** -1000;
    value *= 2 ** power;
    return { value: negate(value), used: at + hex[0].length, outOfRange: !Number.isFinite(value) || (value === 0 && mantissa !== 0n) };
  }
  const decimal = /^(?=\.?[0-9])([0-9]*(?:\.[0-9]*)?)(?:[eE][+-]?[0-9]+)?/.exec(body);
  if (decimal !== null) {
    const value = Number(decimal[0]);
    return { value: negate(value), used: at + decimal[0].length, outOfRange: !Number.isFinite(value) || (value === 0 && /[1-9]/.test(decimal[1]!)) };
  }
  return { value: 0, used: 0, outOfRange: false };
}

/** A double argument as Redis' string2d reads it (scores, increments, weights): no spaces, no NaN, no overflow. */
function doubleArgument(argument: Buffer, error: () => ErrorReply = errors.notFloat): number {
  const input = text(argument);
  const { value, used, outOfRange } = strtod(input);
  if (input.length === 0 || SPACE.exec(input)![0].length > 0 || used !== input.length || outOfRange || Number.isNaN(value)) fail(error());
  return value;
}

/** One end of a score range: `(` makes it exclusive; strtod reads the rest, up to a NUL byte. */
interface ScoreBound {
  readonly value: number;
  readonly exclusive: boolean;
}

function scoreBound(argument: Buffer): ScoreBound | undefined {
  let input = text(argument);
  if (input.includes('\0')) input = input.slice(0, input.indexOf('\0'));
  const exclusive = input.startsWith('(');
  const body = exclusive ? input.slice(1) : input;
  const { value, used } = strtod(body);
  return used !== body.length || Number.isNaN(value) ? undefined : { value, exclusive };
}

/** ZRANGEBYSCORE's min and max (zslParseRange). */
function scoreRange(min: Buffer, max: Buffer): Range {
  const low = scoreBound(min);
  const high = scoreBound(max);
  if (low === undefined || high === undefined) fail(errors.custom('ERR min or max is not a float'));
  return {
    aboveMin: ({ score }) => (low.exclusive ? score > low.value : score >= low.value),
    belowMax: ({ score }) => (high.exclusive ? score < high.value : score <= high.value),
    empty: low.value > high.value || (low.value === high.value && (low.exclusive || high.exclusive)),
  };
}

/** One end of a lex range: `-` and `+` are the ends of everything, `[` inclusive, `(` exclusive. */
interface LexBound {
  /** -1 for `-`, 1 for `+`, 0 for a member. */
  readonly infinite: -1 | 0 | 1;
  readonly value: string;
  readonly exclusive: boolean;
}

function lexBound(argument: Buffer): LexBound | undefined {
  const alone = argument.length === 1 || argument[1] === 0;
  const rest = text(argument.subarray(1));
  switch (argument[0]) {
    case 0x2d:
      return alone ? { infinite: -1, value: '', exclusive: true } : undefined;
    case 0x2b:
      return alone ? { infinite: 1, value: '', exclusive: true } : undefined;
    case 0x28:
      return { infinite: 0, value: rest, exclusive: true };
    case 0x5b:
      return { infinite: 0, value: rest, exclusive: false };
    default:
      return undefined;
  }
}

/** Redis' sdscmplex: a member or bound against a bound, `-` below and `+` above everything. */
function compareLex(a: LexBound, b: LexBound): number {
  if (a.infinite !== 0 && a.infinite === b.infinite) return 0;
  if (a.infinite === -1 || b.infinite === 1) return -1;
  if (a.infinite === 1 || b.infinite === -1) return 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** ZRANGEBYLEX's min and max (zslParseLexRange). */
function lexRange(min: Buffer, max: Buffer): Range {
  const low = lexBound(min);
  const high = lexBound(max);
  if (low === undefined || high === undefined) fail(errors.custom('ERR min or max not valid string range item'));
  const bound = (member: string): LexBound => ({ infinite: 0, value: member, exclusive: false });
  const order = compareLex(low, high);
  return {
    aboveMin: ({ member }) => (low.exclusive ? compareLex(bound(member), low) > 0 : compareLex(bound(member), low) >= 0),
    belowMax: ({ member }) => (high.exclusive ? compareLex(bound(member), high) < 0 : compareLex(bound(member), high) <= 0),
    empty: order > 0 || (order === 0 && (low.exclusive || high.exclusive)),
  };
}

/** A score or lex range: the tests for each end, and whether it is empty whatever the set holds. */
interface Range {
  readonly aboveMin: (entry: ScoredMember) => boolean;
  readonly belowMax: (entry: ScoredMember) => boolean;
  readonly empty: boolean;
}

/**
 * The members of a range as Redis walks a listpack: from the first member past the near end (the
 * last one, backwards, for REV), `offset` members skipped, then members taken while within the
 * far end, at most `limit` (negative: no limit). Lex ranges over mixed scores come out as Redis's.
 */
function walk(ordered: readonly ScoredMember[], range: Range, reverse: boolean, offset = 0, limit = -1): ScoredMember[] {
  const first = ordered[0];
  const last = ordered.at(-1);
  if (range.empty || first === undefined || last === undefined || !range.aboveMin(last) || !range.belowMax(first)) return [];
  const [near, far] = reverse ? [range.belowMax, range.aboveMin] : [range.aboveMin, range.belowMax];
  const step = reverse ? -1 : 1;
  let index = reverse ? ordered.length - 1 : 0;
  while (index >= 0 && index < ordered.length && !near(ordered[index]!)) index += step;
  if (index < 0 || index >= ordered.length || !far(ordered[index]!) || offset < 0) return [];
  const taken: ScoredMember[] = [];
  for (index += step * offset; index >= 0 && index < ordered.length && taken.length !== limit; index += step) {
    const entry = ordered[index]!;
    if (!far(entry)) break;
    taken.push(entry);
  }
  return taken;
}

/** Members by rank, `start` and `end` counted from the top for REV, negative from the end. */
function byRank(ordered: readonly ScoredMember[], start: number, end: number, reverse: boolean): ScoredMember[] {
  const length = ordered.length;
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  if (start > end || start >= length) return [];
  if (end >= length) end = length - 1;
  return reverse ? ordered.slice(length - 1 - end, length - start).reverse() : ordered.slice(start, end + 1);
}

const zsetAt = (call: CommandCall, index: number): SortedSet | undefined => call.db.read(keyId(call.args[index]!), 'zset');

/** Members (with their scores, as Redis prints doubles) in one flat array. */
const flat = (entries: readonly ScoredMember[], withScores: boolean): Reply[] =>
  entries.flatMap((entry) => (withScores ? [bytes(entry.member), formatDouble(entry.score)] : [bytes(entry.member)]));

/** Stores a result as a new sorted set (or deletes the destination for an empty one): its size. */
function storeResult(call: CommandCall, entries: readonly ScoredMember[], zset: SortedSet): Reply {
  const destination = keyId(call.args[0]!);
  if (entries.length === 0) {
    call.db.delete(destination);
    return 0;
  }
  for (const { member, score } of entries) zset.add(member, score);
  call.db.set(destination, { type: 'zset', value: zset });
  return zset.size;
}

/** ZADD, and ZINCRBY (ZADD INCR with the arguments after the key read the same way). */
function zadd(call: CommandCall, increment: boolean): Reply {
  const { args, db } = call;
  const flags = new Set<string>(increment ? ['INCR'] : []);
  let index = 1;
  for (; index < args.length; index += 1) {
    const option = upper(args[index]);
    if (!['NX', 'XX', 'CH', 'INCR', 'GT', 'LT'].includes(option)) break;
    flags.add(option);
  }
  const elements = args.length - index;
  if (elements === 0 || elements % 2 !== 0) fail(errors.syntax());
  const pairs = elements / 2;
  const [nx, xx, gt, lt, incr] = ['NX', 'XX', 'GT', 'LT', 'INCR'].map((flag) => flags.has(flag));
  if (nx && xx) fail(errors.custom('ERR XX and NX options at the same time are not compatible'));
  if ((gt && nx) || (lt && nx) || (gt && lt)) fail(errors.custom('ERR GT, LT, and/or NX options at the same time are not compatible'));
  if (incr && pairs > 1) fail(errors.custom('ERR INCR option supports a single increment-element pair'));
  const scores = Array.from({ length: pairs }, (_, pair) => doubleArgument(args[index + 2 * pair]!));
  const key = keyId(args[0]!);
  let zset = db.read(key, 'zset');
  let added = 0;
  let updated = 0;
  let processed = 0;
  let result = 0;
  if (zset === undefined && !xx) {
    // Redis 7.0 starts a new sorted set as a listpack unless its first member is too long for one.
    zset = new SortedSet(args[index + 1]!.length <= LISTPACK_VALUE);
    db.set(key, { type: 'zset', value: zset });
  }
  for (let pair = 0; zset !== undefined && pair < pairs; pair += 1) {
    const member = keyId(args[index + 2 * pair + 1]!);
    let score = scores[pair]!;
    const current = zset.score(member);
    if (current !== undefined) {
      if (nx) continue;
      if (incr) {
        score += current;
        if (Number.isNaN(score)) fail(errors.custom('ERR resulting score is not a number (NaN)'));
      }
      if ((lt && score >= current) || (gt && score <= current)) continue;
      if (score !== current) {
        zset.add(member, score);
        updated += 1;
      }
    } else if (!xx) {
      zset.add(member, score);
      added += 1;
    } else continue;
    processed += 1;
    result = score;
  }
  if (incr) return processed > 0 ? formatDouble(result) : null;
  return flags.has('CH') ? added + updated : added;
}

type RangeKind = 'auto' | 'rank' | 'score' | 'lex';

/**
 * ZRANGE and its older forms (ZREVRANGE, ZRANGEBYSCORE, …) and ZRANGESTORE: the key is argument
 * `at`, its options follow the two bounds; the older forms fix the kind of range and the direction.
 */
function zrange(call: CommandCall, at: number, store: boolean, fixedKind: RangeKind, fixedReverse?: boolean): Reply {
  const { args } = call;
  let kind = fixedKind;
  let reverse = fixedReverse;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let index = at + 3; index < args.length; index += 1) {
    const option = upper(args[index]);
    if (!store && option === 'WITHSCORES') withScores = true;
    else if (option === 'LIMIT' && args.length - index - 1 >= 2) {
      offset = Number(bigIntegerArgument(args[index + 1]!));
      limit = Number(bigIntegerArgument(args[index + 2]!));
      index += 2;
    } else if (reverse === undefined && option === 'REV') reverse = true;
    else if (kind === 'auto' && option === 'BYLEX') kind = 'lex';
    else if (kind === 'auto' && option === 'BYSCORE') kind = 'score';
    else fail(errors.syntax());
  }
  reverse ??= false;
  if (kind === 'auto') kind = 'rank';
  if (limit !== -1 && kind === 'rank') fail(errors.custom('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX'));
  if (withScores && kind === 'lex') fail(errors.custom('ERR syntax error, WITHSCORES not supported in combination with BYLEX'));
  let [min, max] = [args[at + 1]!, args[at + 2]!];
  if (reverse && kind !== 'rank') [min, max] = [max, min];
  let select: (ordered: readonly ScoredMember[]) => ScoredMember[];
  if (kind === 'rank') {
    const start = Number(bigIntegerArgument(min));
    const end = Number(bigIntegerArgument(max));
    select = (ordered) => byRank(ordered, start, end, reverse);
  } else {
    const range = kind === 'score' ? scoreRange(min, max) : lexRange(min, max);
    select = (ordered) => walk(ordered, range, reverse, offset, limit);
  }
  const zset = zsetAt(call, at);
  const entries = zset === undefined ? [] : select(zset.ordered());
  // ZRANGESTORE fills a listpack (a skiplist once the members no longer fit), except for a rank
  // range known to be too long for one, which starts as a skiplist (and keeps -0).
  if (store) return storeResult(call, entries, new SortedSet(kind !== 'rank' || entries.length <= LISTPACK_ENTRIES));
  return flat(entries, withScores);
}

/** ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX. */
function zremrange(call: CommandCall, kind: 'rank' | 'score' | 'lex'): Reply {
  const { args } = call;
  let select: (ordered: readonly ScoredMember[]) => ScoredMember[];
  if (kind === 'rank') {
    const start = Number(bigIntegerArgument(args[1]!));
    const end = Number(bigIntegerArgument(args[2]!));
    select = (ordered) => byRank(ordered, start, end, false);
  } else {
    const range = kind === 'score' ? scoreRange(args[1]!, args[2]!) : lexRange(args[1]!, args[2]!);
    select = (ordered) => walk(ordered, range, false);
  }
  const zset = zsetAt(call, 0);
  if (zset === undefined) return 0;
  const removed = select(zset.ordered());
  for (const { member } of removed) zset.remove(member);
  return removed.length;
}

/** Takes up to `count` members from the low end (or the high end, `max`), highest first for `max`. */
function popFrom(zset: SortedSet, count: number, max: boolean): ScoredMember[] {
  const ordered = zset.ordered();
  const taken = max ? ordered.slice(Math.max(0, ordered.length - count)).reverse() : ordered.slice(0, count);
  for (const { member } of taken) zset.remove(member);
  return taken;
}

function zpop(call: CommandCall, max: boolean): Reply {
  const { args } = call;
  if (args.length > 2) fail(errors.syntax());
  const count = args.length === 2 ? positiveArgument(args[1]!) : 1;
  const zset = zsetAt(call, 0);
  if (zset === undefined || count === 0) return [];
  return flat(popFrom(zset, count, max), true);
}

function zmpop(call: CommandCall): Reply {
  const { args } = call;
  const keys = rangedArgument(args[0]!, 1n, LONG_MAX, 'numkeys should be greater than 0');
  const whereAt = keys + 1;
  if (whereAt >= args.length) fail(errors.syntax());
  const where = upper(args[whereAt]);
  if (where !== 'MIN' && where !== 'MAX') fail(errors.syntax());
  let count = -1;
  for (let index = whereAt + 1; index < args.length; index += 1) {
    if (count === -1 && upper(args[index]) === 'COUNT' && index + 1 < args.length) count = rangedArgument(args[++index]!, 1n, LONG_MAX, 'count should be greater than 0');
    else fail(errors.syntax());
  }
  for (let index = 1; index <= keys; index += 1) {
    const zset = zsetAt(call, index);
    if (zset === undefined) continue;
    const popped = popFrom(zset, count === -1 ? 1 : count, where === 'MAX');
    return [bytes(keyId(args[index]!)), popped.map(({ member, score }) => [bytes(member), formatDouble(score)])];
  }
  return NULL_ARRAY;
}

function zrandmember(call: CommandCall): Reply {
  const { args } = call;
  if (args.length === 1) {
    const zset = zsetAt(call, 0);
    if (zset === undefined) return null;
    return bytes(zset.ordered()[Math.floor(Math.random() * zset.size)]!.member);
  }
  const requested = rangedLong(args[1]!, -LONG_MAX, LONG_MAX);
  if (args.length > 3 || (args.length === 3 && upper(args[2]) !== 'WITHSCORES')) fail(errors.syntax());
  const withScores = args.length === 3;
  if (withScores && (requested < -(LONG_MAX / 2n) || requested > LONG_MAX / 2n)) fail(errors.custom('ERR value is out of range'));
  const count = Number(requested);
  const zset = zsetAt(call, 0);
  if (zset === undefined || count === 0) return [];
  const ordered = zset.ordered();
  const pick = (): ScoredMember => ordered[Math.floor(Math.random() * ordered.length)]!;
  if (count < 0) return flat(Array.from({ length: -count }, pick), withScores);
  // The whole set comes back highest first, as Redis walks it for a count past its size.
  if (count >= ordered.length) return flat(ordered.toReversed(), withScores);
  const members = [...ordered];
  for (let index = 0; index < count; index += 1) {
    const other = index + Math.floor(Math.random() * (members.length - index));
    [members[index], members[other]] = [members[other]!, members[index]!];
  }
  return flat(members.slice(0, count), withScores);
}

/** An input of ZUNION and friends: a sorted set, or a plain set whose members score 1. */
interface Source {
  readonly id: string | undefined;
  readonly entries: readonly ScoredMember[];
  readonly scoreOf: (member: string) => number | undefined;
  weight: number;
}

function sourceOf(call: CommandCall, key: Buffer): Source {
  const id = keyId(key);
  const value = call.db.value(id);
  if (value === undefined) return { id: undefined, entries: [], scoreOf: () => undefined, weight: 1 };
  if (value.type === 'zset') return { id, entries: value.value.ordered(), scoreOf: (member) => value.value.score(member), weight: 1 };
  if (value.type === 'set') return { id, entries: [...value.value].map((member) => ({ member, score: 1 })), scoreOf: (member) => (value.value.has(member) ? 1 : undefined), weight: 1 };
  return fail(errors.wrongType());
}

type Aggregate = 'SUM' | 'MIN' | 'MAX';

/** zunionInterAggregate: SUM turns inf + -inf into 0; MIN and MAX keep the current value against NaN. */
function aggregate(current: number, value: number, how: Aggregate): number {
  if (how === 'SUM') {
    const sum = current + value;
    return Number.isNaN(sum) ? 0 : sum;
  }
  if (how === 'MIN') return value < current ? value : current;
  return value > current ? value : current;
}

/** A weighted score; NaN (0 × inf) counts as 0. */
const weighted = (score: number, weight: number): number => {
  const value = score * weight;
  return Number.isNaN(value) ? 0 : value;
};

/**
 * ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD, as zunionInterDiffGenericCommand runs
 * them: keys checked before options, inputs taken smallest first (union, inter), scores combined
 * in that order.
 */
function combine(call: CommandCall, op: 'union' | 'inter' | 'diff', store: boolean, cardinality = false): Reply {
  const { args, name } = call;
  const countAt = store ? 1 : 0;
  const count = Number(bigIntegerArgument(args[countAt]!));
  if (count < 1) fail(errors.custom(`ERR at least 1 input key is needed for '${name}' command`));
  if (count > args.length - countAt - 1) fail(errors.syntax());
  const sources = args.slice(countAt + 1, countAt + 1 + count).map((key) => sourceOf(call, key));
  let how: Aggregate = 'SUM';
  let withScores = false;
  let limit = 0;
  for (let index = countAt + 1 + count; index < args.length; ) {
    const remaining = args.length - index;
    const option = upper(args[index]);
    if (op !== 'diff' && !cardinality && remaining >= count + 1 && option === 'WEIGHTS') {
      index += 1;
      for (const source of sources) source.weight = doubleArgument(args[index++]!, () => errors.custom('ERR weight value is not a float'));
    } else if (op !== 'diff' && !cardinality && remaining >= 2 && option === 'AGGREGATE') {
      const word = upper(args[index + 1]);
      if (word !== 'SUM' && word !== 'MIN' && word !== 'MAX') fail(errors.syntax());
      how = word;
      index += 2;
    } else if (!store && !cardinality && option === 'WITHSCORES') {
      withScores = true;
      index += 1;
    } else if (cardinality && remaining >= 2 && option === 'LIMIT') {
      limit = positiveArgument(args[index + 1]!, "LIMIT can't be negative");
      index += 2;
    } else fail(errors.syntax());
  }
  const inputs = op === 'diff' ? sources : sources.toSorted((a, b) => a.entries.length - b.entries.length);
  const result: ScoredMember[] = [];
  let found = 0;
  if (op === 'inter') {
    const [first, ...others] = inputs;
    for (const entry of first!.entries) {
      let score = weighted(entry.score, first!.weight);
      const inAll = others.every((source) => {
        const value = source.scoreOf(entry.member);
        if (value === undefined) return false;
        score = aggregate(score, value * source.weight, how);
        return true;
      });
      if (!inAll) continue;
      found += 1;
      if (cardinality && limit !== 0 && found >= limit) break;
      if (!cardinality) result.push({ member: entry.member, score });
    }
  } else if (op === 'union') {
    const scores = new Map<string, number>();
    for (const source of inputs) {
      for (const entry of source.entries) {
        const score = weighted(entry.score, source.weight);
        const current = scores.get(entry.member);
        scores.set(entry.member, current === undefined ? score : aggregate(current, score, how));
      }
    }
    for (const [member, score] of scores) result.push({ member, score });
  } else {
    const [first, ...others] = inputs;
    for (const entry of first!.entries) if (!others.some((source) => source.scoreOf(entry.member) !== undefined)) result.push(entry);
  }
  if (cardinality) return found;
  if (store) {
    const fits = result.length <= LISTPACK_ENTRIES && result.every(({ member }) => member.length <= LISTPACK_VALUE);
    return storeResult(call, result, new SortedSet(fits));
  }
  return flat(result.sort(compareScored), withScores);
}

function zscan(call: CommandCall): Reply {
  const { args } = call;
  const cursor = scanCursor(args[1]!);
  const zset = zsetAt(call, 0);
  if (zset === undefined) return scanReply(0n, []);
  const { count, pattern } = scanOptions(args, 2);
  const { next, page } = scanStep(zset.ordered().map(({ member }) => member), cursor, count, zset.compact);
  const kept = page.filter((member) => pattern === undefined || globMatch(pattern, member));
  return scanReply(next, kept.flatMap((member) => [bytes(member), formatDouble(zset.score(member)!)]));
}

/** Sorted sets: adds with every option, scores, ranks, ranges of every kind, pops, unions and intersections, ZSCAN. */
export const sortedSetCommands: CommandFamily = {
  zadd: (call) => zadd(call, false),
  zincrby: (call) => zadd(call, true),
  zscore: (call) => {
    const score = zsetAt(call, 0)?.score(keyId(call.args[1]!));
    return score === undefined ? null : formatDouble(score);
  },
  zmscore: (call) => {
    const zset = zsetAt(call, 0);
    return call.args.slice(1).map((member) => {
      const score = zset?.score(keyId(member));
      return score === undefined ? null : formatDouble(score);
    });
  },
  zcard: (call) => zsetAt(call, 0)?.size ?? 0,
  zcount: (call) => {
    const range = scoreRange(call.args[1]!, call.args[2]!);
    return walk(zsetAt(call, 0)?.ordered() ?? [], range, false).length;
  },
  zlexcount: (call) => {
    const range = lexRange(call.args[1]!, call.args[2]!);
    return walk(zsetAt(call, 0)?.ordered() ?? [], range, false).length;
  },
  zrange: (call) => zrange(call, 0, false, 'auto'),
  zrangestore: (call) => zrange(call, 1, true, 'auto'),
  zrevrange: (call) => zrange(call, 0, false, 'rank', true),
  zrangebyscore: (call) => zrange(call, 0, false, 'score', false),
  zrevrangebyscore: (call) => zrange(call, 0, false, 'score', true),
  zrangebylex: (call) => zrange(call, 0, false, 'lex', false),
  zrevrangebylex: (call) => zrange(call, 0, false, 'lex', true),
  zrank: (call) => zsetAt(call, 0)?.rank(keyId(call.args[1]!)) ?? null,
  zrevrank: (call) => {
    const zset = zsetAt(call, 0);
    const rank = zset?.rank(keyId(call.args[1]!));
    return zset === undefined || rank === undefined ? null : zset.size - 1 - rank;
  },
  zrem: (call) => {
    const zset = zsetAt(call, 0);
    if (zset === undefined) return 0;
    return call.args.slice(1).filter((member) => zset.remove(keyId(member))).length;
  },
  zremrangebyrank: (call) => zremrange(call, 'rank'),
  zremrangebyscore: (call) => zremrange(call, 'score'),
  zremrangebylex: (call) => zremrange(call, 'lex'),
  zpopmin: (call) => zpop(call, false),
  zpopmax: (call) => zpop(call, true),
  zmpop,
  zrandmember,
  zunion: (call) => combine(call, 'union', false),
  zinter: (call) => combine(call, 'inter', false),
  zdiff: (call) => combine(call, 'diff', false),
  zunionstore: (call) => combine(call, 'union', true),
  zinterstore: (call) => combine(call, 'inter', true),
  zdiffstore: (call) => combine(call, 'diff', true),
  zintercard: (call) => combine(call, 'inter', false, true),
  zscan,
};

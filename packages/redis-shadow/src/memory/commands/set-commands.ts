import { positiveArgument, rangedArgument, upper } from '../arguments.ts';
import { scanCursor, scanOptions, scanReply, scanStep } from '../collection-scan.ts';
import { globMatch } from '../glob-pattern.ts';
import type { CommandCall, CommandFamily } from '../memory-engine.ts';
import { keyId } from '../key-id.ts';
import { bytes, errors, fail, type Reply } from '../replies.ts';

/** The most members a set of integers Redis keeps as an intset may have (the default). */
const INTSET_ENTRIES = 512;
/** SPOP with a count rebuilds the set from what remains when that is at most a fifth of what it pops. */
const SPOP_MOVE_STRATEGY = 5;
const LONG_MAX = 2n ** 63n - 1n;
const CANONICAL_INTEGER = /^(?:0|-?[1-9][0-9]*)$/;

/** Whether a member is an integer an intset can hold: canonical text of a signed 64-bit value. */
const isIntsetMember = (member: string): boolean =>
  CANONICAL_INTEGER.test(member) && BigInt(member) >= -LONG_MAX - 1n && BigInt(member) <= LONG_MAX;

/** Sets that Redis would hold as a hash table although they now fit an intset: it never converts back. */
const hashTables = new WeakSet<ReadonlySet<string>>();

/** Whether Redis would keep this set as an intset (ascending order, SSCAN all at once). */
const isIntset = (set: ReadonlySet<string>): boolean => {
  if (set.size > INTSET_ENTRIES || hashTables.has(set)) return false;
  for (const member of set) if (!isIntsetMember(member)) return false;
  return true;
};

/** After members are added: a set that has stopped being an intset is a hash table from then on. */
function added(set: ReadonlySet<string>): void {
  if (!isIntset(set)) hashTables.add(set);
}

/**
 * Members in the order Redis gives them: ascending for a set it keeps as an intset; otherwise
 * insertion order, standing in for the order of a hash table.
 */
function redisOrder(set: ReadonlySet<string>): string[] {
  const members = [...set];
  if (!isIntset(set)) return members;
  return members.sort((a, b) => {
    const difference = BigInt(a) - BigInt(b);
    return difference < 0n ? -1 : difference > 0n ? 1 : 0;
  });
}

/** Up to `count` distinct members picked at random. */
function sample(set: ReadonlySet<string>, count: number): string[] {
  const members = [...set];
  for (let index = 0; index < count; index += 1) {
    const pick = index + Math.floor(Math.random() * (members.length - index));
    [members[index], members[pick]] = [members[pick]!, members[index]!];
  }
  return members.slice(0, count);
}

/** `count` members picked at random, each pick from the whole set (repeats allowed). */
function picks(set: ReadonlySet<string>, count: number): string[] {
  const members = [...set];
  return Array.from({ length: count }, () => members[Math.floor(Math.random() * members.length)]!);
}

const setAt = (call: CommandCall, index: number): Set<string> | undefined => call.db.read(keyId(call.args[index]!), 'set');

/** The sets at these keys, every key type-checked first as SINTER, SUNION and SDIFF do; a missing key is undefined. */
const setsAt = (call: CommandCall, keys: readonly Buffer[]): Array<Set<string> | undefined> => keys.map((key) => call.db.read(keyId(key), 'set'));

/** Members in every set, in the order of the smallest (SINTER walks it); stops after `limit` when not 0. */
function intersection(sets: ReadonlyArray<Set<string> | undefined>, limit = 0): string[] {
  if (sets.some((set) => set === undefined)) return [];
  const bySize = (sets as Set<string>[]).toSorted((a, b) => a.size - b.size);
  const result: string[] = [];
  for (const member of redisOrder(bySize[0]!)) {
    if (!bySize.every((set) => set.has(member))) continue;
    result.push(member);
    if (limit !== 0 && result.length >= limit) break;
  }
  return result;
}

function union(sets: ReadonlyArray<Set<string> | undefined>): string[] {
  const result = new Set<string>();
  for (const set of sets) for (const member of set ?? []) result.add(member);
  return redisOrder(result);
}

function difference(sets: ReadonlyArray<Set<string> | undefined>): string[] {
  const [first, ...others] = sets;
  const result = new Set<string>();
  for (const member of first ?? []) if (!others.some((set) => set?.has(member))) result.add(member);
  return redisOrder(result);
}

/** SINTERSTORE and friends: the result replaces the destination; an empty one deletes it. */
function store(call: CommandCall, members: readonly string[]): Reply {
  const destination = keyId(call.args[0]!);
  if (members.length === 0) {
    call.db.delete(destination);
    return 0;
  }
  const set = new Set(members);
  added(set);
  call.db.set(destination, { type: 'set', value: set });
  return members.length;
}

function spop(call: CommandCall): Reply {
  const { args, db } = call;
  if (args.length > 2) fail(errors.syntax());
  const key = keyId(args[0]!);
  if (args.length === 2) {
    const count = positiveArgument(args[1]!);
    const set = setAt(call, 0);
    if (set === undefined || count === 0) return [];
    if (count >= set.size) {
      db.delete(key);
      return redisOrder(set).map(bytes);
    }
    const popped = sample(set, count);
    for (const member of popped) set.delete(member);
    // Popping most of a set, Redis builds a new one of what remains: an intset again if it can be.
    if (set.size * SPOP_MOVE_STRATEGY <= count) {
      hashTables.delete(set);
      added(set);
    }
    return popped.map(bytes);
  }
  const set = setAt(call, 0);
  if (set === undefined) return null;
  const [member] = sample(set, 1);
  set.delete(member!);
  return bytes(member!);
}

function srandmember(call: CommandCall): Reply {
  const { args } = call;
  if (args.length > 2) fail(errors.syntax());
  if (args.length === 1) {
    const set = setAt(call, 0);
    return set === undefined ? null : bytes(sample(set, 1)[0]!);
  }
  const count = rangedArgument(args[1]!, -LONG_MAX, LONG_MAX);
  const set = setAt(call, 0);
  if (set === undefined || count === 0) return [];
  if (count < 0) return picks(set, -count).map(bytes);
  if (count >= set.size) return redisOrder(set).map(bytes);
  return sample(set, count).map(bytes);
}

function smove(call: CommandCall): Reply {
  const { args, db } = call;
  const from = keyId(args[0]!);
  const to = keyId(args[1]!);
  const member = keyId(args[2]!);
  const source = db.value(from);
  if (source === undefined) return 0;
  const target = db.value(to);
  if (source.type !== 'set' || (target !== undefined && target.type !== 'set')) fail(errors.wrongType());
  if (from === to) return source.value.has(member) ? 1 : 0;
  if (!source.value.delete(member)) return 0;
  if (source.value.size === 0) db.delete(from);
  const destination = db.upsert(to, 'set').add(member);
  added(destination);
  return 1;
}

function sintercard(call: CommandCall): Reply {
  const { args } = call;
  const count = rangedArgument(args[0]!, 1n, LONG_MAX, 'numkeys should be greater than 0');
  if (count > args.length - 1) fail(errors.custom("ERR Number of keys can't be greater than number of args"));
  let limit = 0;
  for (let index = 1 + count; index < args.length; index += 1) {
    if (upper(args[index]) === 'LIMIT' && index + 1 < args.length) limit = positiveArgument(args[++index]!, "LIMIT can't be negative");
    else fail(errors.syntax());
  }
  return intersection(setsAt(call, args.slice(1, 1 + count)), limit).length;
}

function sscan(call: CommandCall): Reply {
  const { args } = call;
  const cursor = scanCursor(args[1]!);
  const set = setAt(call, 0);
  if (set === undefined) return scanReply(0n, []);
  const { count, pattern } = scanOptions(args, 2);
  const { next, page } = scanStep(redisOrder(set), cursor, count, isIntset(set));
  return scanReply(next, page.filter((member) => pattern === undefined || globMatch(pattern, member)).map(bytes));
}

/** Sets: members, random picks, moves, the intersection, union and difference (and their STORE forms), SSCAN. */
export const setCommands: CommandFamily = {
  sadd: ({ args, db }) => {
    const set = db.upsert(keyId(args[0]!), 'set');
    const before = set.size;
    for (const member of args.slice(1)) set.add(keyId(member));
    added(set);
    return set.size - before;
  },
  srem: (call) => {
    const set = setAt(call, 0);
    if (set === undefined) return 0;
    return call.args.slice(1).filter((member) => set.delete(keyId(member))).length;
  },
  scard: (call) => setAt(call, 0)?.size ?? 0,
  sismember: (call) => (setAt(call, 0)?.has(keyId(call.args[1]!)) ? 1 : 0),
  smismember: (call) => {
    const set = setAt(call, 0);
    return call.args.slice(1).map((member) => (set?.has(keyId(member)) ? 1 : 0));
  },
  smembers: (call) => redisOrder(setAt(call, 0) ?? new Set()).map(bytes),
  spop,
  srandmember,
  smove,
  sinter: (call) => intersection(setsAt(call, call.args)).map(bytes),
  sunion: (call) => union(setsAt(call, call.args)).map(bytes),
  sdiff: (call) => difference(setsAt(call, call.args)).map(bytes),
  sinterstore: (call) => store(call, intersection(setsAt(call, call.args.slice(1)))),
  sunionstore: (call) => store(call, union(setsAt(call, call.args.slice(1)))),
  sdiffstore: (call) => store(call, difference(setsAt(call, call.args.slice(1)))),
  sintercard,
  sscan,
};

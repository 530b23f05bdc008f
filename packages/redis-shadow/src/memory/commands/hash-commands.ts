import { bigIntegerArgument, inInt64, text, upper } from '../arguments.ts';
import { scanCursor, scanHash } from '../collection-scan.ts';
import { globMatch } from '../glob-pattern.ts';
import type { Keyspace } from '../keyspace.ts';
import type { CommandCall, CommandFamily } from '../memory-engine.ts';
import { keyId } from '../key-id.ts';
import { bulk, bytes, errors, fail, integerReply, OK, type Reply } from '../replies.ts';
import { addLongDouble, printLongDouble, readLongDouble, ZERO } from '../long-double.ts';

type Hash = Map<string, Buffer>;

const INT64_MAX = 2n ** 63n - 1n;
/** Redis' defaults for a hash kept as a listpack (hash-max-listpack-entries, hash-max-listpack-value). */
const LISTPACK_ENTRIES = 512;
const LISTPACK_VALUE = 64;

const STRICT_INTEGER = /^(?:0|-?[1-9][0-9]*)$/;

const hashAt = (call: CommandCall): Hash | undefined => call.db.read(keyId(call.args[0]!), 'hash');

/** A stored hash value read as string2ll does (HINCRBY); undefined when it is not one. */
function storedInteger(value: Buffer): bigint | undefined {
  const printed = text(value);
  if (!STRICT_INTEGER.test(printed)) return undefined;
  const parsed = BigInt(printed);
  return inInt64(parsed) ? parsed : undefined;
}

function hset(call: CommandCall): Reply {
  const { args, db } = call;
  if (args.length % 2 === 0) fail(errors.arity(call.name));
  const hash = db.upsert(keyId(args[0]!), 'hash');
  let created = 0;
  for (let index = 1; index < args.length; index += 2) {
    const field = keyId(args[index]!);
    if (!hash.has(field)) created += 1;
    hash.set(field, Buffer.from(args[index + 1]!));
  }
  return call.name === 'hmset' ? OK : created;
}

function hincrby(call: CommandCall): Reply {
  const { args, db } = call;
  const by = bigIntegerArgument(args[2]!);
  const key = keyId(args[0]!);
  const field = keyId(args[1]!);
  const stored = db.read(key, 'hash')?.get(field);
  const current = stored === undefined ? 0n : storedInteger(stored);
  if (current === undefined) fail(errors.custom('ERR hash value is not an integer'));
  const result = current + by;
  if (!inInt64(result)) fail(errors.overflow());
  db.upsert(key, 'hash').set(field, Buffer.from(result.toString()));
  return integerReply(result);
}

function hincrbyfloat(call: CommandCall): Reply {
  const { args, db } = call;
  const by = readLongDouble(args[2]!);
  if (by === undefined) fail(errors.notFloat());
  if (by.infinite === true) fail(errors.custom('ERR value is NaN or Infinity'));
  const key = keyId(args[0]!);
  const field = keyId(args[1]!);
  const stored = db.read(key, 'hash')?.get(field);
  const current = stored === undefined ? ZERO : readLongDouble(stored);
  if (current === undefined) fail(errors.custom('ERR hash value is not a float'));
  const result = current.infinite === true ? current : addLongDouble(current, by);
  if (result.infinite === true) fail(errors.custom('ERR increment would produce NaN or Infinity'));
  const printed = printLongDouble(result);
  db.upsert(key, 'hash').set(field, printed);
  return Buffer.from(printed);
}

/** Field/value pairs as one flat reply (HGETALL, HRANDFIELD … WITHVALUES). */
function pairs(entries: Iterable<readonly [string, Buffer]>): Reply[] {
  const reply: Reply[] = [];
  for (const [field, value] of entries) reply.push(bytes(field), value);
  return reply;
}

/**
 * HRANDFIELD: one random field; or, with a count, that many distinct fields (in the hash's order,
 * as Redis samples a listpack), or with a negative count that many picks that may repeat.
 */
function hrandfield(call: CommandCall): Reply {
  const { args } = call;
  if (args.length === 1) {
    const hash = hashAt(call);
    if (hash === undefined) return null;
    return bytes([...hash.keys()][Math.floor(Math.random() * hash.size)]!);
  }
  const count = bigIntegerArgument(args[1]!);
  if (count < -INT64_MAX) fail(errors.custom(`ERR value is out of range, value must between ${-INT64_MAX} and ${INT64_MAX}`));
  if (args.length > 3 || (args.length === 3 && upper(args[2]) !== 'WITHVALUES')) fail(errors.syntax());
  const withValues = args.length === 3;
  if (withValues && (count < -INT64_MAX / 2n || count > INT64_MAX / 2n)) fail(errors.custom('ERR value is out of range'));
  const hash = hashAt(call);
  if (hash === undefined || count === 0n) return [];
  const entries = [...hash];
  let picked: Array<[string, Buffer]>;
  if (count < 0n) {
    picked = [];
    for (let left = -count; left > 0n; left -= 1n) picked.push(entries[Math.floor(Math.random() * entries.length)]!);
  } else if (count >= BigInt(entries.length)) {
    picked = entries;
  } else {
    const chosen = new Set<number>();
    while (chosen.size < Number(count)) chosen.add(Math.floor(Math.random() * entries.length));
    picked = entries.filter((_, index) => chosen.has(index));
  }
  return withValues ? pairs(picked) : picked.map(([field]) => bytes(field));
}

/** Fields of a large hash in HSCAN's order, kept while the key is unchanged (its WATCH version says so). */
const scanOrders = new WeakMap<Hash, { readonly db: Keyspace; readonly version: string; readonly fields: ReadonlyArray<{ readonly field: string; readonly order: number }> }>();

function scanOrder(call: CommandCall, hash: Hash): ReadonlyArray<{ readonly field: string; readonly order: number }> {
  const version = call.db.version(keyId(call.args[0]!));
  const cached = scanOrders.get(hash);
  if (cached !== undefined && cached.db === call.db && cached.version === version) return cached.fields;
  const fields = [...hash.keys()].map((field) => ({ field, order: scanHash(field) })).sort((a, b) => a.order - b.order);
  scanOrders.set(hash, { db: call.db, version, fields });
  return fields;
}

/**
 * HSCAN. A hash Redis would keep as a listpack (at most 512 fields, none and no value over 64
 * bytes) comes back whole with cursor 0, whatever the cursor and COUNT, as Redis does it. A larger
 * one is walked in the order of a 32-bit hash of each field: the cursor is one past the last field
 * hash returned, and fields sharing a hash are returned together, so a field present for the whole
 * walk is returned exactly once, whatever is added or removed meanwhile (an offset into insertion
 * order would skip fields when earlier ones are deleted). Which fields a step returns differs from
 * Redis' own walk of its hash table, which no client can predict either.
 */
function hscan(call: CommandCall): Reply {
  const { args } = call;
  const cursor = scanCursor(args[1]!);
  const hash = hashAt(call);
  if (hash === undefined) return [bulk('0'), []];
  let pattern: string | undefined;
  let count = 10;
  for (let index = 2; index < args.length; index += 2) {
    const option = upper(args[index]);
    if (index + 1 >= args.length) fail(errors.syntax());
    if (option === 'COUNT') {
      const value = bigIntegerArgument(args[index + 1]!);
      if (value < 1n) fail(errors.syntax());
      count = Number(value);
    } else if (option === 'MATCH') pattern = text(args[index + 1]!);
    else fail(errors.syntax());
  }
  // A lone `*` is no pattern, as in Redis' scans (stringmatchlen itself would refuse the empty field).
  if (pattern === '*') pattern = undefined;
  const matching = (fields: Iterable<string>): Reply[] => {
    const reply: Reply[] = [];
    for (const field of fields) {
      const value = hash.get(field);
      if (value !== undefined && (pattern === undefined || globMatch(pattern, field))) reply.push(bytes(field), value);
    }
    return reply;
  };
  const small = hash.size <= LISTPACK_ENTRIES && [...hash].every(([field, value]) => field.length <= LISTPACK_VALUE && value.length <= LISTPACK_VALUE);
  if (small) return [bulk('0'), matching(hash.keys())];
  const order = scanOrder(call, hash);
  // The first field at or past the cursor, by binary search.
  let first = 0;
  for (let last = order.length; first < last; ) {
    const middle = (first + last) >>> 1;
    if (BigInt(order[middle]!.order) < cursor) first = middle + 1;
    else last = middle;
  }
  let end = Math.min(first + count, order.length);
  while (end < order.length && order[end]!.order === order[end - 1]!.order) end += 1;
  const next = end < order.length ? order[end - 1]!.order + 1 : 0;
  return [bulk(String(next)), matching(order.slice(first, end).map(({ field }) => field))];
}

/** Hashes: fields set and read one or many at a time, counters, random fields and HSCAN. */
export const hashCommands: CommandFamily = {
  hset,
  hmset: hset,
  hsetnx: ({ args, db }) => {
    const key = keyId(args[0]!);
    const field = keyId(args[1]!);
    if (db.read(key, 'hash')?.has(field) === true) return 0;
    db.upsert(key, 'hash').set(field, Buffer.from(args[2]!));
    return 1;
  },
  hget: (call) => hashAt(call)?.get(keyId(call.args[1]!)) ?? null,
  hmget: (call) => {
    const hash = hashAt(call);
    return call.args.slice(1).map((field) => hash?.get(keyId(field)) ?? null);
  },
  hgetall: (call) => pairs(hashAt(call) ?? []),
  hkeys: (call) => [...(hashAt(call)?.keys() ?? [])].map(bytes),
  hvals: (call) => [...(hashAt(call)?.values() ?? [])],
  hdel: (call) => {
    const hash = hashAt(call);
    if (hash === undefined) return 0;
    return call.args.slice(1).filter((field) => hash.delete(keyId(field))).length;
  },
  hlen: (call) => hashAt(call)?.size ?? 0,
  hexists: (call) => (hashAt(call)?.has(keyId(call.args[1]!)) === true ? 1 : 0),
  hstrlen: (call) => hashAt(call)?.get(keyId(call.args[1]!))?.length ?? 0,
  hincrby,
  hincrbyfloat,
  hrandfield,
  hscan,
};

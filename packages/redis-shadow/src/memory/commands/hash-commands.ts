import { bigIntegerArgument, inInt64, text, upper } from '../arguments.ts';
import { globMatch } from '../glob-pattern.ts';
import type { CommandCall, CommandFamily } from '../memory-engine.ts';
import { keyId } from '../../shadow/key-state.ts';
import { bulk, bytes, errors, fail, OK, type Reply } from '../replies.ts';
import { formatLongDouble } from './string-commands.ts';

type Hash = Map<string, Buffer>;

const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
/** Redis' defaults for a hash kept as a listpack (hash-max-listpack-entries, hash-max-listpack-value). */
const LISTPACK_ENTRIES = 512;
const LISTPACK_VALUE = 64;
/** The longest text Redis' string2ld reads (MAX_LONG_DOUBLE_CHARS). */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

const STRICT_INTEGER = /^(?:0|-?[1-9][0-9]*)$/;
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEXADECIMAL = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/;
const INFINITE = /^[+-]?inf(?:inity)?$/i;

const hashAt = (call: CommandCall): Hash | undefined => call.db.read(keyId(call.args[0]!), 'hash');

/** A 64-bit integer argument as string2ll reads it: bigIntegerArgument, but `-0` refused too. */
function int64Argument(argument: Buffer, error = errors.notInteger): bigint {
  if (text(argument) === '-0') fail(error());
  return bigIntegerArgument(argument, error);
}

/** A stored hash value read as string2ll does (HINCRBY); undefined when it is not one. */
function storedInteger(value: Buffer): bigint | undefined {
  const printed = text(value);
  if (!STRICT_INTEGER.test(printed)) return undefined;
  const parsed = BigInt(printed);
  return inInt64(parsed) ? parsed : undefined;
}

/**
 * A number as Redis' string2ld reads it (strtold, the whole text, no leading space, no NaN):
 * decimal, hexadecimal (`0x1p-2`) or an infinity; undefined when it is not one, or when strtold
 * would underflow to zero. Values beyond a double's range count as unreadable (a long double would
 * still hold up to about 1.19e4932).
 */
function longDouble(value: Buffer): number | undefined {
  const printed = text(value);
  if (printed.length === 0 || printed.length >= MAX_LONG_DOUBLE_CHARS) return undefined;
  if (INFINITE.test(printed)) return printed.startsWith('-') ? -Infinity : Infinity;
  let parsed: number;
  if (DECIMAL.test(printed)) {
    parsed = Number(printed);
    if (parsed === 0 && underflows(printed)) return undefined;
  } else {
    const hex = HEXADECIMAL.exec(printed);
    if (hex === null) return undefined;
    const [, sign = '', whole = '', fraction = '', exponent = '0'] = hex;
    if (whole.length + fraction.length === 0) return undefined;
    const mantissa = BigInt(`0x${whole}${fraction}`);
    const power = Number(exponent) - 4 * fraction.length;
    // At or below half the smallest long double denormal (2^-16445), strtold underflows to zero.
    const shift = -16446 - power;
    if (mantissa !== 0n && shift >= 0 && (shift > mantissa.toString(2).length || mantissa <= 1n << BigInt(shift))) return undefined;
    parsed = Number(mantissa) * 2 ** power;
    if (sign === '-') parsed = -parsed;
  }
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Whether a decimal that is not zero lies below half the smallest long double (about 1.82e-4951). */
function underflows(decimal: string): boolean {
  const [mantissa = '', exponent = '0'] = decimal.replace(/^[+-]/, '').split(/[eE]/);
  const [whole = '', fraction = ''] = mantissa.split('.');
  const digits = whole + fraction;
  const first = digits.search(/[1-9]/);
  if (first === -1) return false;
  const power = Number(exponent) + whole.length - 1 - first;
  const leading = Number(`${digits[first]}.${digits.slice(first + 1, first + 20)}`);
  return power < -4951 || (power === -4951 && leading <= 1.8225997659412373);
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
  const by = int64Argument(args[2]!);
  const key = keyId(args[0]!);
  const field = keyId(args[1]!);
  const stored = db.read(key, 'hash')?.get(field);
  const current = stored === undefined ? 0n : storedInteger(stored);
  if (current === undefined) fail(errors.custom('ERR hash value is not an integer'));
  const result = current + by;
  if (!inInt64(result)) fail(errors.overflow());
  db.upsert(key, 'hash').set(field, Buffer.from(result.toString()));
  return Number(result);
}

function hincrbyfloat(call: CommandCall): Reply {
  const { args, db } = call;
  const by = longDouble(args[2]!);
  if (by === undefined) fail(errors.notFloat());
  if (!Number.isFinite(by)) fail(errors.custom('ERR value is NaN or Infinity'));
  const key = keyId(args[0]!);
  const field = keyId(args[1]!);
  const stored = db.read(key, 'hash')?.get(field);
  const current = stored === undefined ? 0 : longDouble(stored);
  if (current === undefined) fail(errors.custom('ERR hash value is not a float'));
  const result = current + by;
  if (!Number.isFinite(result)) fail(errors.custom('ERR increment would produce NaN or Infinity'));
  const printed = formatLongDouble(result);
  db.upsert(key, 'hash').set(field, printed);
  return Buffer.from(printed);
}

/** Field/value pairs as one flat reply (HGETALL, HSCAN, HRANDFIELD … WITHVALUES). */
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
  const count = int64Argument(args[1]!);
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

/** A SCAN cursor as Redis' strtoul reads it (sign allowed, empty is 0); ERR invalid cursor otherwise. */
function scanCursor(argument: Buffer): bigint {
  const match = /^([+-]?)([0-9]*)$/.exec(text(argument));
  if (match === null || (match[1] !== '' && match[2] === '')) fail(errors.custom('ERR invalid cursor'));
  const value = BigInt(match[2] || '0');
  if (value > UINT64_MAX) fail(errors.custom('ERR invalid cursor'));
  return match[1] === '-' ? (UINT64_MAX + 1n - value) & UINT64_MAX : value;
}

/** 32-bit FNV-1a of a field: the order a large hash is scanned in. */
function fieldHash(field: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < field.length; index += 1) hash = Math.imul(hash ^ field.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

/**
 * HSCAN. A hash Redis would keep as a listpack (at most 512 fields, none and no value over 64
 * bytes) comes back whole with cursor 0, whatever the cursor and COUNT, as Redis does it. A larger
 * one is walked in the order of a 32-bit hash of each field: the cursor is one past the last field
 * hash returned, and fields sharing a hash are returned together, so a field present for the whole
 * walk is returned exactly once, whatever is added or removed meanwhile (an offset into insertion
 * order would skip fields when earlier ones are deleted).
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
      const value = int64Argument(args[index + 1]!);
      if (value < 1n) fail(errors.syntax());
      count = Number(value);
    } else if (option === 'MATCH') pattern = text(args[index + 1]!);
    else fail(errors.syntax());
  }
  const matching = (entries: Iterable<readonly [string, Buffer]>): Reply[] =>
    pairs([...entries].filter(([field]) => pattern === undefined || globMatch(pattern, field)));
  const small = hash.size <= LISTPACK_ENTRIES && [...hash].every(([field, value]) => field.length <= LISTPACK_VALUE && value.length <= LISTPACK_VALUE);
  if (small) return [bulk('0'), matching(hash)];
  const ahead = [...hash]
    .map(([field, value]) => ({ field, value, order: fieldHash(field) }))
    .filter(({ order }) => BigInt(order) >= cursor)
    .sort((a, b) => a.order - b.order);
  let end = Math.min(count, ahead.length);
  while (end < ahead.length && ahead[end]!.order === ahead[end - 1]!.order) end += 1;
  const next = end < ahead.length ? ahead[end - 1]!.order + 1 : 0;
  return [bulk(String(next)), matching(ahead.slice(0, end).map(({ field, value }) => [field, value] as const))];
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

import { bigIntegerArgument, integerArgument, text, upper } from '../arguments.ts';
import { globMatch } from '../glob-pattern.ts';
import { cloneValue } from '../keyspace.ts';
import { DATABASES, type CommandCall, type CommandFamily } from '../memory-engine.ts';
import { keyId } from '../key-id.ts';
import { bulk, bytes, errors, fail, integerReply, OK, status, type Reply } from '../replies.ts';

const ids = (keys: readonly Buffer[]): string[] => keys.map((key) => keyId(key));

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX, XX, GT, LT. */
function expire(call: CommandCall, unit: 'seconds' | 'milliseconds', absolute: boolean): Reply {
  const { args, db, name } = call;
  const amount = bigIntegerArgument(args[1]!);
  const flags = new Set<string>();
  for (const option of args.slice(2)) {
    const word = upper(option);
    if (!['NX', 'XX', 'GT', 'LT'].includes(word)) fail(errors.custom(`ERR Unsupported option ${text(option)}`));
    flags.add(word);
  }
  if (flags.has('NX') && (flags.has('XX') || flags.has('GT') || flags.has('LT'))) fail(errors.custom('ERR NX and XX, GT or LT options at the same time are not compatible'));
  if (flags.has('GT') && flags.has('LT')) fail(errors.custom('ERR GT and LT options at the same time are not compatible'));
  // As Redis 7.0 does it, in 64-bit arithmetic: seconds that overflow as milliseconds, or a time
  // past LLONG_MAX once the base is added, are refused; anything else is kept exactly.
  const invalid = (): never => fail(errors.custom(`ERR invalid expire time in '${name}' command`));
  if (unit === 'seconds' && (amount > LLONG_MAX / 1000n || amount < LLONG_MIN / 1000n)) invalid();
  const milliseconds = unit === 'seconds' ? amount * 1000n : amount;
  const base = absolute ? 0n : BigInt(db.now());
  if (milliseconds > LLONG_MAX - base) invalid();
  const when = milliseconds + base;
  const key = keyId(args[0]!);
  const current = db.exactExpiresAt(key);
  if (current === undefined) return 0;
  if (flags.has('NX') && current !== 0n) return 0;
  if (flags.has('XX') && current === 0n) return 0;
  // A key with no expiry counts as one that never expires.
  if (flags.has('GT') && (current === 0n || when <= current)) return 0;
  if (flags.has('LT') && current !== 0n && when >= current) return 0;
  db.setExpiry(key, when <= BigInt(db.now()) ? -1 : when);
  return 1;
}

const LLONG_MAX = 2n ** 63n - 1n;
const LLONG_MIN = -(2n ** 63n);

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 without the key, -1 without an expiry; exact past 2^53 ms. */
function timeToLive(call: CommandCall, milliseconds: boolean, absolute: boolean): Reply {
  const expiresAt = call.db.exactExpiresAt(keyId(call.args[0]!));
  if (expiresAt === undefined) return -2;
  if (expiresAt === 0n) return -1;
  const left = absolute ? expiresAt : expiresAt - BigInt(call.db.now());
  const ttl = left < 0n ? 0n : left;
  return integerReply(milliseconds ? ttl : (ttl + 500n) / 1000n);
}

function rename(call: CommandCall, onlyIfNew: boolean): Reply {
  const { args, db } = call;
  const from = keyId(args[0]!);
  const to = keyId(args[1]!);
  const value = db.value(from);
  if (value === undefined) fail(errors.noSuchKey());
  if (from === to) return onlyIfNew ? 0 : OK;
  if (onlyIfNew && db.has(to)) return 0;
  const expiresAt = db.expiresAt(from)!;
  db.delete(from);
  db.delete(to);
  db.set(to, value, { expiresAt });
  db.touch(from);
  return onlyIfNew ? 1 : OK;
}

function copy(call: CommandCall): Reply {
  const { args, db, engine } = call;
  let target = db;
  let replace = false;
  for (let index = 2; index < args.length; index += 1) {
    const option = upper(args[index]);
    if (option === 'REPLACE') replace = true;
    else if (option === 'DB' && index + 1 < args.length) {
      const index_ = integerArgument(args[++index]);
      if (index_ < 0 || index_ >= DATABASES) fail(errors.custom('ERR DB index is out of range'));
      target = engine.database(index_);
    } else fail(errors.syntax());
  }
  const from = keyId(args[0]!);
  const to = keyId(args[1]!);
  if (target === db && from === to) fail(errors.custom('ERR source and destination objects are the same'));
  const value = db.value(from);
  if (value === undefined) return 0;
  if (target.has(to) && !replace) return 0;
  target.delete(to);
  target.set(to, cloneValue(value), { expiresAt: db.expiresAt(from)! });
  target.touch(to);
  return 1;
}

function scan(call: CommandCall): Reply {
  const { args, db } = call;
  const cursorText = text(args[0]!);
  if (!/^[0-9]+$/.test(cursorText)) fail(errors.custom('ERR invalid cursor'));
  let pattern: string | undefined;
  let count = 10;
  let type: string | undefined;
  for (let index = 1; index < args.length; index += 2) {
    const option = upper(args[index]);
    if (index + 1 >= args.length) fail(errors.syntax());
    if (option === 'MATCH') pattern = text(args[index + 1]!);
    else if (option === 'COUNT') {
      count = integerArgument(args[index + 1]);
      if (count < 1) fail(errors.syntax());
    } else if (option === 'TYPE') type = text(args[index + 1]!).toLowerCase();
    else fail(errors.syntax());
  }
  // A lone `*` is no pattern, as in Redis' SCAN (stringmatchlen itself would refuse the empty key).
  if (pattern === '*') pattern = undefined;
  const { next, keys } = db.scan(Number(cursorText), count);
  const kept = keys.filter((key) => (pattern === undefined || globMatch(pattern, key)) && (type === undefined || db.value(key)?.type === type));
  return [bulk(String(next)), kept.map(bytes)];
}

/** Keys and the keyspace: existence, expiry, renames, copies, KEYS, SCAN, RANDOMKEY, flushes. */
export const keyCommands: CommandFamily = {
  del: ({ args, db }) => ids(args).filter((key) => db.delete(key)).length,
  unlink: ({ args, db }) => ids(args).filter((key) => db.delete(key)).length,
  exists: ({ args, db }) => ids(args).filter((key) => db.has(key)).length,
  touch: ({ args, db }) => ids(args).filter((key) => db.has(key)).length,
  type: ({ args, db }) => status(db.value(keyId(args[0]!))?.type ?? 'none'),
  expire: (call) => expire(call, 'seconds', false),
  pexpire: (call) => expire(call, 'milliseconds', false),
  expireat: (call) => expire(call, 'seconds', true),
  pexpireat: (call) => expire(call, 'milliseconds', true),
  ttl: (call) => timeToLive(call, false, false),
  pttl: (call) => timeToLive(call, true, false),
  expiretime: (call) => timeToLive(call, false, true),
  pexpiretime: (call) => timeToLive(call, true, true),
  persist: ({ args, db }) => {
    const key = keyId(args[0]!);
    if (!db.expiresAt(key)) return 0;
    db.setExpiry(key, 0);
    return 1;
  },
  rename: (call) => rename(call, false),
  renamenx: (call) => rename(call, true),
  copy,
  move: ({ args, db, engine }) => {
    const index = integerArgument(args[1]);
    if (index < 0 || index >= DATABASES) fail(errors.custom('ERR DB index is out of range'));
    const target = engine.database(index);
    if (target === db) fail(errors.custom('ERR source and destination objects are the same'));
    const key = keyId(args[0]!);
    const value = db.value(key);
    if (value === undefined || target.has(key)) return 0;
    target.set(key, value, { expiresAt: db.expiresAt(key)! });
    target.touch(key);
    db.delete(key);
    return 1;
  },
  keys: ({ args, db }) => {
    const pattern = text(args[0]!);
    // A lone `*` is every key, as in Redis' KEYS (stringmatchlen itself would refuse the empty key).
    return [...db.keys()].filter((key) => pattern === '*' || globMatch(pattern, key)).map(bytes);
  },
  scan,
  dbsize: ({ db }) => db.size,
  randomkey: ({ db }) => {
    const keys = [...db.keys()];
    return keys.length === 0 ? null : bytes(keys[Math.floor(Math.random() * keys.length)]!);
  },
  flushdb: ({ args, db }) => {
    if (args.length > 1 || (args.length === 1 && !['ASYNC', 'SYNC'].includes(upper(args[0])))) fail(errors.syntax());
    db.flush();
    return OK;
  },
  flushall: ({ args, engine }) => {
    if (args.length > 1 || (args.length === 1 && !['ASYNC', 'SYNC'].includes(upper(args[0])))) fail(errors.syntax());
    for (const db of engine.databases) db.flush();
    return OK;
  },
};

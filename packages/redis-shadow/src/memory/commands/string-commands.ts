import { bigIntegerArgument, inInt64, integerArgument, upper } from '../arguments.ts';
import { addLongDouble, printLongDouble, readLongDouble, ZERO } from '../long-double.ts';
import type { CommandCall, CommandFamily } from '../memory-engine.ts';
import { keyId } from '../key-id.ts';
import { errors, fail, integerReply, OK, type Reply } from '../replies.ts';
import { absoluteExpiry, EXPIRY_UNITS } from './expiry-options.ts';

const MAX_STRING = 512 * 1024 * 1024;

const stringAt = (call: CommandCall, index: number): Buffer | undefined => call.db.read(keyId(call.args[index]!), 'string');

function setString(call: CommandCall, key: Buffer, value: Buffer, expiresAt = 0, keepExpiry = false): void {
  call.db.set(keyId(key), { type: 'string', value }, { expiresAt, keepExpiry });
}

/** INCRBY and friends: the stored string read as a 64-bit integer, changed by `by`. */
function incrementBy(call: CommandCall, by: bigint): Reply {
  const current = stringAt(call, 0);
  const value = current === undefined ? 0n : bigIntegerArgument(current);
  const result = value + by;
  if (!inInt64(result)) fail(errors.overflow());
  setString(call, call.args[0]!, Buffer.from(result.toString()), 0, true);
  return integerReply(result);
}

function set(call: CommandCall): Reply {
  const { args, db } = call;
  let condition: 'NX' | 'XX' | undefined;
  let get = false;
  let keepExpiry = false;
  let expiresAt = 0;
  let expirySeen = false;
  for (let index = 2; index < args.length; index += 1) {
    const option = upper(args[index]);
    if ((option === 'NX' || option === 'XX') && condition === undefined) condition = option;
    else if (option === 'GET' && !get) get = true;
    else if (option === 'KEEPTTL' && !expirySeen) {
      keepExpiry = true;
      expirySeen = true;
    } else if (EXPIRY_UNITS.has(option) && !expirySeen && index + 1 < args.length) {
      expiresAt = absoluteExpiry(option, args[index + 1], db.now(), 'set');
      expirySeen = true;
      index += 1;
    } else fail(errors.syntax());
  }
  const key = keyId(args[0]!);
  const previous = get ? db.read(key, 'string') : undefined;
  const exists = db.has(key);
  if ((condition === 'NX' && exists) || (condition === 'XX' && !exists)) return get ? (previous ?? null) : null;
  db.set(key, { type: 'string', value: Buffer.from(args[1]!) }, { expiresAt, keepExpiry });
  return get ? (previous ?? null) : OK;
}

function getex(call: CommandCall): Reply {
  const { args, db } = call;
  const key = keyId(args[0]!);
  let expiresAt: number | undefined;
  if (args.length > 1) {
    const option = upper(args[1]);
    if (option === 'PERSIST' && args.length === 2) expiresAt = 0;
    else if (EXPIRY_UNITS.has(option) && args.length === 3) expiresAt = absoluteExpiry(option, args[2], db.now(), 'getex');
    else fail(errors.syntax());
  }
  const value = db.read(key, 'string');
  if (value !== undefined && expiresAt !== undefined) db.setExpiry(key, expiresAt);
  return value ?? null;
}

function setWithTime(call: CommandCall, unit: 'EX' | 'PX', command: string): Reply {
  const expiresAt = absoluteExpiry(unit, call.args[1], call.db.now(), command);
  setString(call, call.args[0]!, Buffer.from(call.args[2]!), expiresAt);
  return OK;
}

function range(length: number, startArgument: Buffer, endArgument: Buffer): [number, number] | undefined {
  let start = integerArgument(startArgument);
  let end = integerArgument(endArgument);
  if (start < 0 && end < 0 && start > end) return undefined;
  if (start < 0) start = Math.max(0, length + start);
  if (end < 0) end = Math.max(0, length + end);
  end = Math.min(end, length - 1);
  return start > end || length === 0 ? undefined : [start, end];
}

/** Strings: GET, SET with every option, counters, ranges, and the multi-key forms. */
export const stringCommands: CommandFamily = {
  get: (call) => stringAt(call, 0) ?? null,
  set,
  setnx: (call) => {
    if (call.db.has(keyId(call.args[0]!))) return 0;
    setString(call, call.args[0]!, Buffer.from(call.args[1]!));
    return 1;
  },
  setex: (call) => setWithTime(call, 'EX', 'setex'),
  psetex: (call) => setWithTime(call, 'PX', 'psetex'),
  getset: (call) => {
    const previous = stringAt(call, 0) ?? null;
    setString(call, call.args[0]!, Buffer.from(call.args[1]!));
    return previous;
  },
  getdel: (call) => {
    const value = stringAt(call, 0);
    if (value !== undefined) call.db.delete(keyId(call.args[0]!));
    return value ?? null;
  },
  getex,
  mget: ({ args, db }) => args.map((key) => {
    const value = db.value(keyId(key));
    return value?.type === 'string' ? value.value : null;
  }),
  mset: (call) => {
    if (call.args.length % 2 !== 0) fail(errors.arity('mset'));
    for (let index = 0; index < call.args.length; index += 2) setString(call, call.args[index]!, Buffer.from(call.args[index + 1]!));
    return OK;
  },
  msetnx: (call) => {
    if (call.args.length % 2 !== 0) fail(errors.arity('msetnx'));
    for (let index = 0; index < call.args.length; index += 2) if (call.db.has(keyId(call.args[index]!))) return 0;
    for (let index = 0; index < call.args.length; index += 2) setString(call, call.args[index]!, Buffer.from(call.args[index + 1]!));
    return 1;
  },
  incr: (call) => incrementBy(call, 1n),
  decr: (call) => incrementBy(call, -1n),
  incrby: (call) => incrementBy(call, bigIntegerArgument(call.args[1]!)),
  decrby: (call) => {
    const by = bigIntegerArgument(call.args[1]!);
    if (by === -(2n ** 63n)) fail(errors.custom('ERR decrement would overflow'));
    return incrementBy(call, -by);
  },
  incrbyfloat: (call) => {
    const current = stringAt(call, 0);
    const value = current === undefined ? ZERO : readLongDouble(current);
    const by = readLongDouble(call.args[1]!);
    if (value === undefined || by === undefined) fail(errors.notFloat());
    const result = value.infinite === true ? value : by.infinite === true ? by : addLongDouble(value, by);
    if (result.infinite === true) fail(errors.custom('ERR increment would produce NaN or Infinity'));
    const printed = printLongDouble(result);
    setString(call, call.args[0]!, printed, 0, true);
    return Buffer.from(printed);
  },
  append: (call) => {
    const current = stringAt(call, 0) ?? Buffer.alloc(0);
    const value = Buffer.concat([current, call.args[1]!]);
    setString(call, call.args[0]!, value, 0, true);
    return value.length;
  },
  strlen: (call) => stringAt(call, 0)?.length ?? 0,
  getrange: (call) => {
    const value = stringAt(call, 0) ?? Buffer.alloc(0);
    const bounds = range(value.length, call.args[1]!, call.args[2]!);
    return bounds === undefined ? Buffer.alloc(0) : Buffer.from(value.subarray(bounds[0], bounds[1] + 1));
  },
  substr: (call) => stringCommands.getrange!(call),
  setrange: (call) => {
    const offset = integerArgument(call.args[1]);
    if (offset < 0) fail(errors.custom('ERR offset is out of range'));
    const current = stringAt(call, 0);
    const patch = call.args[2]!;
    if (patch.length === 0) return current?.length ?? 0;
    if (offset + patch.length > MAX_STRING) fail(errors.custom('ERR string exceeds maximum allowed size (proto-max-bulk-len)'));
    const value = Buffer.alloc(Math.max(current?.length ?? 0, offset + patch.length));
    current?.copy(value);
    patch.copy(value, offset);
    setString(call, call.args[0]!, value, 0, true);
    return value.length;
  },
};

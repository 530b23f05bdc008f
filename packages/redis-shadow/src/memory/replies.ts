import { ReplyError } from 'ioredis';

/**
 * RESP2's null array (`*-1`), which Redis sends where an array reply has nothing (LPOP with a count
 * on a missing key, LMPOP, ZMPOP, an EXEC that WATCH aborted); `null` is the null bulk string
 * (`$-1`). A client reads both as nil; the wire tells them apart.
 */
export const NULL_ARRAY: unique symbol = Symbol('mirrorguard.nullArray');

/**
 * A reply of the engine (RESP2, Buffers kept): bulk and status strings as Buffers, integers as
 * numbers (as bigints beyond 2^53, exact on the wire), nil as null, the null array, arrays, and
 * errors as ReplyError values. `parsedReply` gives what ioredis' parser would hand over.
 */
export type Reply = Buffer | number | bigint | null | typeof NULL_ARRAY | ErrorReply | readonly Reply[];

/** An error reply (the class ioredis' parser uses). */
export type ErrorReply = InstanceType<typeof ReplyError>;

/** Status replies (`+OK`), told apart from bulk strings by identity: made by `status` only. */
const STATUS_REPLIES = new WeakSet<Buffer>();

/** A status reply (`+text` on the wire; a client reads it as it reads a bulk string). */
export function status(text: string): Buffer {
  const reply = Buffer.from(text, 'latin1');
  STATUS_REPLIES.add(reply);
  return reply;
}

/** Whether a reply is a status reply rather than a bulk string. */
export const isStatus = (reply: Buffer): boolean => STATUS_REPLIES.has(reply);

export const OK: Buffer = status('OK');
export const QUEUED: Buffer = status('QUEUED');
export const PONG: Buffer = status('PONG');

/** A status or bulk string reply. */
export const bulk = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value, 'latin1') : value);

/** A member or key tracked as a latin1 string, back to its bytes. */
export const bytes = (id: string): Buffer => Buffer.from(id, 'latin1');

/** The error replies, word for word as Redis 7 sends them. */
export const errors = {
  wrongType: (): ErrorReply => new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
  notInteger: (): ErrorReply => new ReplyError('ERR value is not an integer or out of range'),
  notFloat: (): ErrorReply => new ReplyError('ERR value is not a valid float'),
  syntax: (): ErrorReply => new ReplyError('ERR syntax error'),
  noSuchKey: (): ErrorReply => new ReplyError('ERR no such key'),
  overflow: (): ErrorReply => new ReplyError('ERR increment or decrement would overflow'),
  arity: (name: string): ErrorReply => new ReplyError(`ERR wrong number of arguments for '${name}' command`),
  custom: (message: string): ErrorReply => new ReplyError(message),
};

/** Thrown by a command handler to answer with an error reply; the dispatcher turns it into the reply. */
export class CommandFailed extends Error {
  readonly reply: ErrorReply;

  constructor(reply: ErrorReply) {
    super(reply.message);
    this.reply = reply;
  }
}

/** Answers the command with an error reply (ends the handler). */
export function fail(reply: ErrorReply): never {
  throw new CommandFailed(reply);
}

/**
 * A double as Redis 7.0 writes it in a reply (ZSCORE, ZINCRBY, WITHSCORES, …): printf's `%.17g` —
 * 17 significant digits rounded half-to-even from the exact binary value, trailing zeros cut, an
 * exponent below 1e-4 or from 1e17 — and `inf`/`-inf` for infinities.
 */
export function formatDouble(value: number): Buffer {
  if (value === Infinity) return Buffer.from('inf');
  if (value === -Infinity) return Buffer.from('-inf');
  if (value === 0) return Buffer.from(Object.is(value, -0) ? '-0' : '0');
  const sign = value < 0 ? '-' : '';
  let { digits, exponent } = exactDecimal(Math.abs(value));
  if (digits.length > PRECISION) {
    const rest = digits.slice(PRECISION);
    let head = digits.slice(0, PRECISION);
    const tie = rest[0] === '5' && /^50*$/.test(rest);
    if (rest[0]! > '5' || (rest[0] === '5' && !tie) || (tie && Number(head.at(-1)) % 2 === 1)) {
      head = (BigInt(head) + 1n).toString();
      if (head.length > PRECISION) {
        head = head.slice(0, PRECISION);
        exponent += 1;
      }
    }
    digits = head;
  }
  digits = digits.replace(/0+$/, '');
  if (exponent < -4 || exponent >= PRECISION) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return Buffer.from(`${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`);
  }
  if (exponent < 0) return Buffer.from(`${sign}0.${'0'.repeat(-exponent - 1)}${digits}`);
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return Buffer.from(`${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`);
}

const PRECISION = 17;

/** A positive finite double's exact decimal digits (no leading zeros) and the power of ten of the first. */
function exactDecimal(value: number): { digits: string; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const power = (biased === 0 ? 1 : biased) - 1075;
  // value = mantissa × 2^power = mantissa × 5^-power / 10^-power when power < 0.
  const digits = (power >= 0 ? mantissa << BigInt(power) : mantissa * 5n ** BigInt(-power)).toString();
  const pointAt = power >= 0 ? digits.length : digits.length + power;
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed, exponent: pointAt - 1 };
}

/** A 64-bit integer reply: a number while it is exact in a double, else the bigint itself. */
export const integerReply = (value: bigint): number | bigint => (value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value);

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * An integer as ioredis' parser hands it over: its digits summed up in a double, so past 2^53 it is
 * the parser's number (9223372036854775807 reads 9223372036854778000), not Number()'s.
 */
function parsedInteger(value: bigint): number {
  let number = 0;
  for (const digit of (value < 0n ? -value : value).toString()) number = number * 10 + Number(digit);
  return value < 0n ? -number : number;
}

/** What ioredis' parser hands over for a reply: bigints as its numbers, the null array as null. */
export function parsedReply(reply: Reply): Buffer | number | null | ErrorReply | readonly unknown[] {
  if (reply === NULL_ARRAY) return null;
  if (typeof reply === 'bigint') return parsedInteger(reply);
  if (Array.isArray(reply)) return reply.some((item) => item === NULL_ARRAY || typeof item === 'bigint' || Array.isArray(item)) ? reply.map(parsedReply) : reply;
  return reply as Buffer | number | null | ErrorReply;
}

import { ReplyError } from 'ioredis';

/**
 * A reply as ioredis' parser hands it over (RESP2, Buffers kept): bulk and status strings as
 * Buffers, integers as numbers, nil as null, arrays, and errors as ReplyError values.
 */
export type Reply = Buffer | number | null | ErrorReply | readonly Reply[];

/** An error reply (the class ioredis' parser uses). */
export type ErrorReply = InstanceType<typeof ReplyError>;

export const OK: Buffer = Buffer.from('OK');
export const QUEUED: Buffer = Buffer.from('QUEUED');

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
 * A double as Redis 7 writes it in a reply (ZSCORE, INCRBYFLOAT, …): the shortest form that reads
 * back to the same number, `inf`/`-inf` for infinities, and no exponent for integers below 2^53.
 */
export function formatDouble(value: number): Buffer {
  if (value === Infinity) return Buffer.from('inf');
  if (value === -Infinity) return Buffer.from('-inf');
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 53) return Buffer.from(Object.is(value, -0) ? '-0' : value.toFixed(0));
  return Buffer.from(String(value));
}

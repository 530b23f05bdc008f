import { errors, fail, type ErrorReply } from './replies.ts';

// string2ll: no sign on zero, no leading zeros, no spaces.
const INTEGER = /^(?:0|-?[1-9][0-9]*)$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const text = (argument: Buffer): string => argument.toString('latin1');
export const upper = (argument: Buffer | undefined): string => (argument === undefined ? '' : argument.toString('latin1').toUpperCase());

/** A signed 64-bit integer argument, as Redis' string2ll reads it; otherwise the reply error. */
export function bigIntegerArgument(argument: Buffer, error: () => ErrorReply = errors.notInteger): bigint {
  const value = text(argument);
  if (!INTEGER.test(value)) fail(error());
  const parsed = BigInt(value);
  if (parsed < INT64_MIN || parsed > INT64_MAX) fail(error());
  return parsed;
}

/** An integer argument that fits a JS number (counts, indexes, times). */
export function integerArgument(argument: Buffer | undefined, error: () => ErrorReply = errors.notInteger): number {
  if (argument === undefined) fail(errors.syntax());
  return Number(bigIntegerArgument(argument, error));
}

/** Whether a 64-bit integer result stays in range. */
export const inInt64 = (value: bigint): boolean => value >= INT64_MIN && value <= INT64_MAX;

/** An error reply `ERR <message>`, or Redis' own error when there is no message. */
const errorOf = (message: string | undefined, otherwise: () => ErrorReply): (() => ErrorReply) =>
  message === undefined ? otherwise : () => errors.custom(`ERR ${message}`);


/**
 * An integer argument within [min, max], as getRangeLongFromObjectOrReply reads it: `message` for
 * any failure when given, else Redis' own errors.
 */
export function rangedLong(argument: Buffer, min: bigint, max: bigint, message?: string): bigint {
  const value = bigIntegerArgument(argument, errorOf(message, errors.notInteger));
  if (value < min || value > max) fail(errorOf(message, () => errors.custom(`ERR value is out of range, value must between ${min} and ${max}`))());
  return value;
}

/** rangedLong as a JS number (counts, indexes). */
export const rangedArgument = (argument: Buffer, min: bigint, max: bigint, message?: string): number => Number(rangedLong(argument, min, max, message));

/** A count that may not be negative (SPOP, ZPOPMIN, LIMIT …): `message` for any failure. */
export const positiveArgument = (argument: Buffer, message = 'value is out of range, must be positive'): number =>
  rangedArgument(argument, 0n, INT64_MAX, message);

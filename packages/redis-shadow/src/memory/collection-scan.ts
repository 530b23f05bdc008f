import { text, upper, bigIntegerArgument } from './arguments.ts';
import { bulk, errors, fail, type Reply } from './replies.ts';

const UINT64_MAX = 2n ** 64n - 1n;

/** A SCAN cursor as Redis' strtoul reads it: optional sign, decimal digits, at most 2^64 - 1; "" is 0. */
export function scanCursor(argument: Buffer): bigint {
  const value = text(argument);
  if (value === '') return 0n;
  const match = /^([+-]?)([0-9]+)$/.exec(value);
  if (match === null || BigInt(match[2]!) > UINT64_MAX) fail(errors.custom('ERR invalid cursor'));
  const magnitude = BigInt(match[2]!);
  return match[1] === '-' ? (UINT64_MAX + 1n - magnitude) % (UINT64_MAX + 1n) : magnitude;
}

/** SSCAN/ZSCAN's options, read (as Redis does) only once the key is known to exist: COUNT and MATCH. */
export function scanOptions(args: readonly Buffer[], from: number): { count: number; pattern: string | undefined } {
  let count = 10;
  let pattern: string | undefined;
  for (let index = from; index < args.length; index += 2) {
    const option = upper(args[index]);
    if (option === 'COUNT' && index + 1 < args.length) {
      count = Number(bigIntegerArgument(args[index + 1]!));
      if (count < 1) fail(errors.syntax());
    } else if (option === 'MATCH' && index + 1 < args.length) {
      pattern = text(args[index + 1]!);
      if (pattern === '*') pattern = undefined;
    } else fail(errors.syntax());
  }
  return { count, pattern };
}

/** A member's place in a scan of a hash-table collection: FNV-1a of its bytes. */
export function scanHash(member: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < member.length; index += 1) hash = Math.imul(hash ^ member.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

/**
 * One SSCAN/ZSCAN step. A compact collection (intset, listpack) is returned whole with cursor 0, as
 * Redis does. Otherwise members go in hash order from the cursor, about `count` at a time; the
 * cursor is the next hash to look at, so a member there for the whole scan is returned exactly once.
 */
export function scanStep(members: readonly string[], cursor: bigint, count: number, whole: boolean): { next: bigint; page: string[] } {
  if (whole) return { next: 0n, page: [...members] };
  const ahead = members
    .map((member) => ({ member, hash: scanHash(member) }))
    .filter((entry) => BigInt(entry.hash) >= cursor)
    .sort((a, b) => a.hash - b.hash || (a.member < b.member ? -1 : 1));
  if (ahead.length <= count) return { next: 0n, page: ahead.map((entry) => entry.member) };
  let end = count;
  while (end < ahead.length && ahead[end]!.hash === ahead[end - 1]!.hash) end += 1;
  const page = ahead.slice(0, end).map((entry) => entry.member);
  return { next: end === ahead.length ? 0n : BigInt(ahead[end - 1]!.hash) + 1n, page };
}

/** The SCAN reply: the cursor and the members that match the pattern. */
export const scanReply = (next: bigint, items: readonly Buffer[]): Reply => [bulk(String(next)), items];


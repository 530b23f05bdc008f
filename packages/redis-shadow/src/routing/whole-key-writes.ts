/**
 * Writes that replace a key whole — its value, its type and its expiry, whatever it held — and cannot
 * fail on their arguments: nothing of the origin's value is needed, so the first write of such a key
 * copies nothing. Today one: SET key value, with no option but one expiry of a positive integer of at
 * most 12 digits in seconds or 15 in milliseconds (EX, EXAT; PX, PXAT; an EXAT or PXAT in the past sets the key and expires it, as on
 * the origin). NX, XX, GET and KEEPTTL answer by, return or keep what the key held; anything else,
 * or a number the server could refuse (zero, negative, not an integer, too large), is not one.
 */
export function replacesWholeKey(argv: readonly unknown[]): boolean {
  if (String(argv[0]).toLowerCase() !== 'set') return false;
  if (argv.length === 3) return true;
  if (argv.length !== 5) return false;
  const option = text(argv[3]).toUpperCase();
  const value = text(argv[4]);
  if (option === 'EX' || option === 'EXAT') return SECONDS.test(value);
  return (option === 'PX' || option === 'PXAT') && MILLISECONDS.test(value);
}

/** Positive integers the server reads as such and never overflows: seconds times 1,000, plus now, stay far below 2^63. */
const SECONDS = /^[1-9][0-9]{0,11}$/;
const MILLISECONDS = /^[1-9][0-9]{0,14}$/;

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('latin1') : String(value));

import { text } from './arguments.ts';

/** The longest text Redis' string2ld reads (MAX_LONG_DOUBLE_CHARS). */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEXADECIMAL = /^[+-]?0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/;
const INFINITE = /^[+-]?inf(?:inity)?$/i;

/**
 * An x86-64 `long double` (80-bit extended: a 64-bit mantissa), held exactly: ±mantissa × 2^exponent.
 * INCRBYFLOAT and HINCRBYFLOAT read, add and print in it, and its replies show it (5100 - 0.01 answers
 * 5099.99000000000000021), so a double cannot stand in for it.
 */
export interface LongDouble {
  readonly negative: boolean;
  /** Below 2^64; 0n for zero. */
  readonly mantissa: bigint;
  readonly exponent: number;
  readonly infinite?: true;
}

const MANTISSA_BITS = 64;
/** The exponent of the smallest denormal, 2^-16445, and the bound of the range, 2^16384. */
const MIN_EXPONENT = -16445;
const MAX_BINARY_EXPONENT = 16384;
export const ZERO: LongDouble = { negative: false, mantissa: 0n, exponent: 0 };

const bitLength = (value: bigint): number => (value === 0n ? 0 : value.toString(2).length);

/** num/den (both positive) rounded to the nearest long double, ties to even, as strtold and the FPU do. */
function roundLongDouble(negative: boolean, num: bigint, den: bigint): LongDouble {
  if (num === 0n) return { ...ZERO, negative };
  let exponent = Math.max(bitLength(num) - bitLength(den) - MANTISSA_BITS, MIN_EXPONENT);
  const quotient = (shift: number): [bigint, bigint, bigint] => {
    const top = shift < 0 ? num << BigInt(-shift) : num;
    const bottom = shift > 0 ? den << BigInt(shift) : den;
    return [top / bottom, top % bottom, bottom];
  };
  let [mantissa, remainder, divisor] = quotient(exponent);
  while (mantissa >= 1n << 64n) [mantissa, remainder, divisor] = quotient(++exponent);
  while (mantissa < 1n << 63n && exponent > MIN_EXPONENT) [mantissa, remainder, divisor] = quotient(--exponent);
  if (2n * remainder > divisor || (2n * remainder === divisor && (mantissa & 1n) === 1n)) mantissa += 1n;
  if (mantissa === 1n << 64n) {
    mantissa = 1n << 63n;
    exponent += 1;
  }
  if (mantissa !== 0n && exponent + bitLength(mantissa) > MAX_BINARY_EXPONENT) return { negative, mantissa: 0n, exponent: 0, infinite: true };
  return { negative, mantissa, exponent };
}

/** A long double as a fraction with a power-of-two denominator. */
function asFraction(value: LongDouble): [bigint, bigint] {
  return value.exponent >= 0 ? [value.mantissa << BigInt(value.exponent), 1n] : [value.mantissa, 1n << BigInt(-value.exponent)];
}

/**
 * A number as Redis' string2ld reads it (strtold over the whole text: no leading space, no NaN,
 * nothing that overflows or underflows to zero): decimal, hexadecimal (`0x1p-2`) or an infinity;
 * undefined when it is not one.
 */
export function readLongDouble(value: Buffer): LongDouble | undefined {
  const printed = text(value);
  if (printed.length === 0 || printed.length >= MAX_LONG_DOUBLE_CHARS) return undefined;
  const negative = printed.startsWith('-');
  if (INFINITE.test(printed)) return { negative, mantissa: 0n, exponent: 0, infinite: true };
  let num: bigint;
  let den = 1n;
  if (DECIMAL.test(printed)) {
    const [mantissa = '', exponent = '0'] = printed.replace(/^[+-]/, '').split(/[eE]/);
    const [whole = '', fraction = ''] = mantissa.split('.');
    const digits = (whole + fraction).replace(/^0+/, '');
    if (digits === '') return { ...ZERO, negative };
    const power = Number(exponent) - fraction.length;
    // Far outside the range (about 1e-4951 to 1.19e4932): strtold says ERANGE, Redis refuses it.
    if (power + digits.length > 4940 || power + digits.length < -4960) return undefined;
    num = BigInt(digits);
    if (power >= 0) num *= 10n ** BigInt(power);
    else den = 10n ** BigInt(-power);
  } else {
    const hex = HEXADECIMAL.exec(printed);
    if (hex === null) return undefined;
    const [, whole = '', fraction = '', exponent = '0'] = hex;
    if (whole.length + fraction.length === 0) return undefined;
    num = BigInt(`0x${whole}${fraction}`);
    if (num === 0n) return { ...ZERO, negative };
    const power = Number(exponent) - 4 * fraction.length;
    if (power + bitLength(num) > MAX_BINARY_EXPONENT + 1 || power + bitLength(num) < MIN_EXPONENT - 1) return undefined;
    if (power >= 0) num <<= BigInt(power);
    else den = 1n << BigInt(-power);
  }
  const parsed = roundLongDouble(negative, num, den);
  return parsed.infinite === true || parsed.mantissa === 0n ? undefined : parsed;
}

/** The sum of two finite long doubles, rounded once, as the FPU adds them. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  const [aNum, aDen] = asFraction(a);
  const [bNum, bDen] = asFraction(b);
  const den = aDen > bDen ? aDen : bDen;
  const sum = (a.negative ? -1n : 1n) * aNum * (den / aDen) + (b.negative ? -1n : 1n) * bNum * (den / bDen);
  if (sum === 0n) return { ...ZERO, negative: a.negative && b.negative };
  return roundLongDouble(sum < 0n, sum < 0n ? -sum : sum, den);
}

/** A long double as Redis' ld2string prints it for humans: %.17Lf, trailing zeros and point cut, no "-0". */
export function printLongDouble(value: LongDouble): Buffer {
  const [num, den] = asFraction(value);
  const scaled = num * 10n ** 17n;
  let units = scaled / den;
  const remainder = scaled % den;
  if (2n * remainder > den || (2n * remainder === den && (units & 1n) === 1n)) units += 1n;
  const digits = units.toString().padStart(18, '0');
  let printed = `${value.negative ? '-' : ''}${digits.slice(0, -17)}.${digits.slice(-17)}`.replace(/0+$/, '').replace(/\.$/, '');
  if (printed === '-0') printed = '0';
  return Buffer.from(printed);
}


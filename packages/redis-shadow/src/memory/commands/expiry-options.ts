import { integerArgument } from '../arguments.ts';
import { errors, fail } from '../replies.ts';

/** An expiry given as EX/PX/EXAT/PXAT (SET, GETEX), as an absolute Unix time in milliseconds. */
export function absoluteExpiry(unit: string, argument: Buffer | undefined, now: number, command: string): number {
  const value = integerArgument(argument);
  if (value <= 0) fail(errors.custom(`ERR invalid expire time in '${command}' command`));
  const milliseconds = unit === 'EX' || unit === 'EXAT' ? value * 1000 : value;
  if (!Number.isSafeInteger(milliseconds)) fail(errors.custom(`ERR invalid expire time in '${command}' command`));
  return unit === 'EX' || unit === 'PX' ? now + milliseconds : milliseconds;
}

export const EXPIRY_UNITS: ReadonlySet<string> = new Set(['EX', 'PX', 'EXAT', 'PXAT']);

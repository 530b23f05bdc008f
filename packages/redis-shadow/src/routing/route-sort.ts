import type { KeyState } from '../shadow/key-state.ts';
import type { KeyToOwn, Route } from './route.ts';

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('latin1') : String(value));

/**
 * SORT and SORT_RO, whose key specs the server marks incomplete: BY and GET patterns name other
 * keys, and STORE names a destination. Without patterns, the keys are the sorted key and the STORE
 * destination (overwritten whole); SORT runs on the shadow (even without STORE it is flagged a
 * write), SORT_RO reads where its key lives. With patterns the keys cannot be known in advance:
 * SORT_RO reads the origin while the shadow owns nothing; otherwise both sort over both sides.
 */
export function routeSort(name: 'sort' | 'sort_ro', argv: readonly unknown[], state: KeyState, owns: (key: unknown) => boolean): Route {
  let store: unknown;
  let patterns = false;
  for (let index = 2; index < argv.length; index += 1) {
    const word = text(argv[index]).toUpperCase();
    if (word === 'BY') {
      const pattern = text(argv[index + 1] ?? '');
      if (pattern.toLowerCase() !== 'nosort' && pattern.includes('*')) patterns = true;
      index += 1;
    } else if (word === 'GET') {
      if (text(argv[index + 1] ?? '') !== '#') patterns = true;
      index += 1;
    } else if (word === 'STORE') {
      store = argv[index + 1];
      index += 1;
    } else if (word === 'LIMIT') {
      index += 2;
    }
  }
  if (patterns) {
    if (name === 'sort_ro' && state.isEmpty()) return { target: 'origin' };
    // The patterns name keys only the data can tell, on either side: evaluated over both.
    return { target: 'sort-over-both', name, store: store as Buffer | string | undefined };
  }
  const key = argv[1] as Buffer | string;
  if (name === 'sort_ro' && !owns(key)) return { target: 'origin' };
  const keys: KeyToOwn[] = [{ key }];
  if (store !== undefined) keys.push({ key: store as Buffer | string });
  return { target: 'shadow', write: name === 'sort', keys };
}

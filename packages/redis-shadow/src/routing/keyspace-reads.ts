import type { KeyState } from '../shadow/key-state.ts';
import { keyId } from '../memory/key-id.ts';

/** The parts of an ioredis client keyspace reads use (Buffer replies, so binary keys survive). */
export interface KeyspaceClient {
  callBuffer(command: string, ...args: Array<string | Buffer | number>): Promise<unknown>;
}

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('latin1') : String(value));
const asArgs = (argv: readonly unknown[]): Array<string | Buffer> => argv.slice(1).map((arg) => (Buffer.isBuffer(arg) ? arg : String(arg)));

/**
 * Keyspace-wide reads over origin and shadow together: the origin's keys the shadow does not own
 * (owned keys, tombstones included, answer from the shadow), plus the shadow's keys. After FLUSHDB
 * or FLUSHALL the origin is hidden and the shadow answers alone.
 */
export async function mergedKeyspaceRead(
  name: string,
  argv: readonly unknown[],
  origin: KeyspaceClient,
  shadow: KeyspaceClient,
  state: KeyState,
): Promise<unknown> {
  const fromOrigin = (keys: readonly Buffer[]): Buffer[] => (state.originHidden ? [] : keys.filter((key) => !state.isOwned(keyId(key))));
  switch (name) {
    case 'keys': {
      const [originKeys, shadowKeys] = await Promise.all([
        state.originHidden ? [] : (origin.callBuffer('KEYS', ...asArgs(argv)) as Promise<Buffer[]>),
        shadow.callBuffer('KEYS', ...asArgs(argv)) as Promise<Buffer[]>,
      ]);
      return [...fromOrigin(originKeys), ...shadowKeys];
    }
    case 'dbsize': {
      const shadowSize = Number(await shadow.callBuffer('DBSIZE'));
      if (state.originHidden) return shadowSize;
      const owned = [...state.owned()].map((id) => Buffer.from(id, 'latin1'));
      const originSize = Number(await origin.callBuffer('DBSIZE'));
      // Owned keys the origin also holds are counted once, on the shadow's side.
      let shared = 0;
      for (let start = 0; start < owned.length; start += 1_000) shared += Number(await origin.callBuffer('EXISTS', ...owned.slice(start, start + 1_000)));
      return originSize - shared + shadowSize;
    }
    case 'randomkey': {
      for (let attempt = 0; attempt < 8 && !state.originHidden; attempt += 1) {
        const key = (await origin.callBuffer('RANDOMKEY')) as Buffer | null;
        if (key === null) break;
        if (!state.isOwned(keyId(key))) return key;
      }
      return shadow.callBuffer('RANDOMKEY');
    }
    case 'scan':
      return mergedScan(argv, origin, shadow, state);
    default:
      throw new Error(`${name} is not a keyspace read`);
  }
}

/**
 * SCAN over the origin, then the shadow, with one cursor: 2c for the origin's cursor c, 2c + 1 for
 * the shadow's. Cursors stay decimal strings (big integers), so a client that treats them as
 * numbers still works; 0 starts and ends the iteration, as with a single server.
 */
async function mergedScan(argv: readonly unknown[], origin: KeyspaceClient, shadow: KeyspaceClient, state: KeyState): Promise<unknown> {
  const cursor = BigInt(text(argv[1] ?? '0'));
  const options = asArgs(argv).slice(1);
  // 2c and 2c + 1 both halve (rounding down) to c.
  const inner = cursor / 2n;
  if (cursor % 2n === 0n && !state.originHidden) {
    const [next, keys] = (await origin.callBuffer('SCAN', inner.toString(), ...options)) as [Buffer, Buffer[]];
    const nextCursor = BigInt(text(next));
    const kept = keys.filter((key) => !state.isOwned(keyId(key)));
    // The origin is done: the shadow's iteration starts, at its cursor 0 (encoded as 1).
    return [nextCursor === 0n ? '1' : (nextCursor * 2n).toString(), kept];
  }
  const [next, keys] = (await shadow.callBuffer('SCAN', inner.toString(), ...options)) as [Buffer, Buffer[]];
  const nextCursor = BigInt(text(next));
  return [nextCursor === 0n ? '0' : (nextCursor * 2n + 1n).toString(), keys];
}

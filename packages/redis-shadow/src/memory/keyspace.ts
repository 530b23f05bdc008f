import { errors, fail } from './replies.ts';
import { SortedSet } from './sorted-set.ts';

/** A value of one of the types the memory engine holds. Members and fields are latin1 strings of their bytes. */
export type MemoryValue =
  | { readonly type: 'string'; value: Buffer }
  | { readonly type: 'hash'; readonly value: Map<string, Buffer> }
  | { readonly type: 'list'; readonly value: Buffer[] }
  | { readonly type: 'set'; readonly value: Set<string> }
  | { readonly type: 'zset'; readonly value: SortedSet };

export type MemoryType = MemoryValue['type'];
interface ValueTypes {
  string: Buffer;
  hash: Map<string, Buffer>;
  list: Buffer[];
  set: Set<string>;
  zset: SortedSet;
}
type ValueOf<T extends MemoryType> = ValueTypes[T];

interface Entry {
  value: MemoryValue;
  /** Absolute expiry in Unix milliseconds; 0 for none. */
  expiresAt: number;
  /** The expiry as given when it is past 2^53 ms (expiresAt is then its nearest double), for exact replies. */
  exact?: bigint;
  /** Creation order: SCAN's cursor is the last sequence number returned. */
  readonly seq: number;
}

const EMPTY: { readonly [T in MemoryType]: () => ValueOf<T> } = {
  string: () => Buffer.alloc(0),
  hash: () => new Map(),
  list: () => [],
  set: () => new Set(),
  zset: () => new SortedSet(),
};

export function cloneValue(value: MemoryValue): MemoryValue {
  switch (value.type) {
    case 'string':
      return { type: 'string', value: Buffer.from(value.value) };
    case 'hash':
      return { type: 'hash', value: new Map(value.value) };
    case 'list':
      return { type: 'list', value: [...value.value] };
    case 'set':
      return { type: 'set', value: new Set(value.value) };
    case 'zset':
      return { type: 'zset', value: value.value.clone() };
  }
}

/** How many elements an aggregate holds (a string counts as one): an empty aggregate is no key at all. */
const sizeOf = (value: MemoryValue): number => (value.type === 'string' ? 1 : value.type === 'list' ? value.value.length : value.value.size);

/**
 * One database of the memory engine: keys (latin1 strings of their bytes) to values, with expiry as
 * Redis does it (a key past its time is gone when next looked at, and a sweep removes those nobody
 * looks at), and a version per watched key for WATCH.
 */
export class Keyspace {
  readonly #entries = new Map<string, Entry>();
  /** Versions of the keys some connection watches (only those: an unwatched key needs none). */
  readonly #versions = new Map<string, number>();
  readonly #watchers = new Map<string, number>();
  /** Keys with an expiry, for the active sweep. */
  readonly #volatile = new Set<string>();
  #seq = 0;

  /** Unix milliseconds; a test can replace it to move time. */
  now: () => number = Date.now;

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.now()) {
      this.#entries.delete(key);
      this.touch(key);
      return undefined;
    }
    return entry;
  }

  has(key: string): boolean {
    return this.#live(key) !== undefined;
  }

  value(key: string): MemoryValue | undefined {
    return this.#live(key)?.value;
  }

  /** The key's value when it has type `type`; undefined when there is no key; WRONGTYPE otherwise. */
  read<T extends MemoryType>(key: string, type: T): ValueOf<T> | undefined {
    const entry = this.#live(key);
    if (entry === undefined) return undefined;
    if (entry.value.type !== type) fail(errors.wrongType());
    return entry.value.value as ValueOf<T>;
  }

  /** The key's value of type `type`, created empty if there is no key (the caller adds to it). */
  upsert<T extends MemoryType>(key: string, type: T): ValueOf<T> {
    const existing = this.read(key, type);
    if (existing !== undefined) return existing as ValueOf<T>;
    const value = EMPTY[type]() as ValueOf<T>;
    this.#entries.set(key, { value: { type, value } as MemoryValue, expiresAt: 0, seq: ++this.#seq });
    return value;
  }

  /** Sets the value; the expiry is cleared unless `keepExpiry`. */
  set(key: string, value: MemoryValue, { keepExpiry = false, expiresAt = 0 }: { keepExpiry?: boolean; expiresAt?: number } = {}): void {
    const entry = this.#live(key);
    if (entry === undefined) this.#entries.set(key, { value, expiresAt, seq: ++this.#seq });
    else {
      entry.value = value;
      if (!keepExpiry) {
        entry.expiresAt = expiresAt;
        delete entry.exact;
      }
    }
    if (expiresAt !== 0) this.#volatile.add(key);
  }

  delete(key: string): boolean {
    const existed = this.#live(key) !== undefined;
    this.#entries.delete(key);
    return existed;
  }

  expiresAt(key: string): number | undefined {
    return this.#live(key)?.expiresAt;
  }

  /** The expiry exactly as it was set (0n for none), also past 2^53 ms. */
  exactExpiresAt(key: string): bigint | undefined {
    const entry = this.#live(key);
    return entry === undefined ? undefined : (entry.exact ?? BigInt(entry.expiresAt));
  }

  /** Sets an absolute expiry (a bigint past 2^53 ms is kept exactly); one already past deletes the key, as Redis does. */
  setExpiry(key: string, expiresAt: number | bigint): void {
    const entry = this.#live(key);
    if (entry === undefined) return;
    if (expiresAt !== 0 && expiresAt !== 0n && expiresAt <= this.now()) this.#entries.delete(key);
    else {
      entry.expiresAt = Number(expiresAt);
      if (typeof expiresAt === 'bigint' && !Number.isSafeInteger(entry.expiresAt)) entry.exact = expiresAt;
      else delete entry.exact;
      if (expiresAt !== 0 && expiresAt !== 0n) this.#volatile.add(key);
    }
  }

  /** After a write: an aggregate left empty is removed. */
  dropIfEmpty(key: string): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined && sizeOf(entry.value) === 0 && entry.value.type !== 'string') this.#entries.delete(key);
  }

  /** Marks a key changed, for WATCH. */
  touch(key: string): void {
    if (this.#watchers.has(key)) this.#versions.set(key, (this.#versions.get(key) ?? 0) + 1);
  }

  /** A connection watches the key (WATCH) until it unwatches it (EXEC, DISCARD, UNWATCH). */
  watch(key: string): void {
    this.#watchers.set(key, (this.#watchers.get(key) ?? 0) + 1);
  }

  unwatch(key: string): void {
    const count = (this.#watchers.get(key) ?? 1) - 1;
    if (count > 0) this.#watchers.set(key, count);
    else {
      this.#watchers.delete(key);
      this.#versions.delete(key);
    }
  }

  /**
   * Removes up to `limit` keys whose time has passed, so that keys written with an expiry and never
   * looked at again do not stay in memory (Redis' active expiry does the same).
   */
  sweepExpired(limit = 200): void {
    const now = this.now();
    let looked = 0;
    for (const key of this.#volatile) {
      if (looked++ >= limit) break;
      const entry = this.#entries.get(key);
      if (entry === undefined || entry.expiresAt === 0) this.#volatile.delete(key);
      else if (entry.expiresAt <= now) {
        this.#entries.delete(key);
        this.#volatile.delete(key);
        this.touch(key);
      }
    }
  }

  /** What WATCH remembers of a key; different after any change to it (or a flush). */
  version(key: string): string {
    return String(this.#versions.get(key) ?? 0);
  }

  flush(): void {
    // Only a watched key that existed changes (Redis signals the keys it deletes).
    for (const key of this.#watchers.keys()) if (this.has(key)) this.touch(key);
    this.#entries.clear();
    this.#volatile.clear();
  }

  /** Live keys, in creation order. */
  *keys(): IterableIterator<string> {
    for (const key of [...this.#entries.keys()]) if (this.#live(key) !== undefined) yield key;
  }

  get size(): number {
    let count = 0;
    for (const _ of this.keys()) count += 1;
    return count;
  }

  /**
   * Up to `count` live keys created after the key of sequence number `cursor`, and the cursor to
   * go on from (0 when done). A key that lives through the whole iteration is returned exactly
   * once, whatever is added or removed meanwhile.
   */
  scan(cursor: number, count: number): { readonly next: number; readonly keys: string[] } {
    const keys: string[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.seq <= cursor || this.#live(key) === undefined) continue;
      keys.push(key);
      if (keys.length >= count) return { next: entry.seq, keys };
    }
    return { next: 0, keys };
  }
}

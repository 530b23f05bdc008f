/** A key as the shadow tracks it: its raw bytes, as a latin1 string (binary-safe, usable in a Set). */
export type KeyId = string;

export function keyId(key: string | Buffer | Uint8Array): KeyId {
  return (typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key)).toString('latin1');
}

/**
 * Which keys the shadow owns. A key becomes owned on its first write (or delete) and stays owned
 * for the shadow's life: its reads go to the shadow from then on, so a deleted key is a tombstone
 * (the origin's value never shows through again), also after the shadow's copy expires.
 * FLUSHDB/FLUSHALL hide the whole origin.
 */
export class KeyState {
  readonly #owned = new Set<KeyId>();
  #originHidden = false;

  isOwned(key: KeyId): boolean {
    return this.#originHidden || this.#owned.has(key);
  }

  markOwned(key: KeyId): void {
    this.#owned.add(key);
  }

  /** After FLUSHDB or FLUSHALL: from now on every key is the shadow's. */
  hideOrigin(): void {
    this.#originHidden = true;
  }

  get originHidden(): boolean {
    return this.#originHidden;
  }

  /** The owned keys, for keyspace-wide reads (SCAN, KEYS, DBSIZE) to leave out of the origin's side. */
  owned(): ReadonlySet<KeyId> {
    return this.#owned;
  }
}

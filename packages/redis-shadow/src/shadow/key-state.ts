import type { KeyId } from '../memory/key-id.ts';

/**
 * Which keys the shadow owns. A key becomes owned on its first write (or delete) and stays owned
 * for the shadow's life: its reads go to the shadow from then on, so a deleted key is a tombstone
 * (the origin's value never shows through again), also after the shadow's copy expires.
 * FLUSHDB/FLUSHALL hide the whole origin.
 */
export class KeyState {
  readonly #owned = new Set<KeyId>();
  readonly #claimed = new Map<KeyId, number>();
  /** Writes on their way to the shadow whose keys are not known yet: until they land, every key reads from the shadow. */
  #unnamed = 0;
  #originHidden = false;
  /** Keys a script may have written (undeclared) where the mirror could not tell: refused, never read stale from the origin. */
  readonly #distrusted = new Set<KeyId>();
  /** What a script wrote could not be learnt: every key not owned is distrusted. */
  #distrustAll = false;
  /** Claims made so far, and the number of each key's last claim: whether a key was claimed since some moment. */
  #claims = 0;
  readonly #lastClaim = new Map<KeyId, number>();

  /** The shadow holds the key (or the whole origin is hidden). */
  isOwned(key: KeyId): boolean {
    return this.#originHidden || this.#owned.has(key);
  }

  /** Reads of the key go to the shadow: it is owned, or a write to it is on its way there. */
  routesToShadow(key: KeyId): boolean {
    return this.#unnamed > 0 || this.isOwned(key) || this.#claimed.has(key);
  }

  /** A write whose keys the origin has yet to name is on its way to the shadow. */
  claimUnnamed(): void {
    this.#unnamed += 1;
  }

  releaseUnnamed(): void {
    this.#unnamed -= 1;
  }

  /** A write to the key has been routed to the shadow but not applied yet. */
  claim(key: KeyId): void {
    this.#claimed.set(key, (this.#claimed.get(key) ?? 0) + 1);
    this.#claims += 1;
    this.#lastClaim.set(key, this.#claims);
  }

  /** The number of claims made so far: compare with claimedSince. */
  get claims(): number {
    return this.#claims;
  }

  /** A write to the key (other than the caller's `own` claims) is on its way, or was routed after `claims` claims had been made. */
  claimedSince(key: KeyId, claims: number, own = 0): boolean {
    return (this.#claimed.get(key) ?? 0) > own || (this.#lastClaim.get(key) ?? 0) > claims;
  }

  release(key: KeyId): void {
    const count = (this.#claimed.get(key) ?? 1) - 1;
    if (count <= 0) this.#claimed.delete(key);
    else this.#claimed.set(key, count);
  }

  markOwned(key: KeyId): void {
    this.#owned.add(key);
  }

  /** The shadow gives the key back to the origin (a copy made for a read that left it as it was). */
  disown(key: KeyId): void {
    this.#owned.delete(key);
  }

  /** A script may have written the key, and the mirror cannot tell: from now on it is refused. */
  distrust(key: KeyId): void {
    this.#distrusted.add(key);
  }

  /** What a script wrote could not be learnt: every key not owned is refused from now on. */
  distrustAll(): void {
    this.#distrustAll = true;
  }

  /** Refused: a script may have written it on the shadow (the origin's value could be stale). */
  isDistrusted(key: KeyId): boolean {
    return !this.#originHidden && !this.#owned.has(key) && (this.#distrustAll || this.#distrusted.has(key));
  }

  /** After FLUSHDB or FLUSHALL: from now on every key is the shadow's. */
  hideOrigin(): void {
    this.#originHidden = true;
  }

  get originHidden(): boolean {
    return this.#originHidden;
  }

  /** Nothing owned, claimed or hidden: the origin alone answers keyspace-wide reads. */
  isEmpty(): boolean {
    return !this.#originHidden && this.#owned.size === 0 && this.#claimed.size === 0 && this.#unnamed === 0 && this.#distrusted.size === 0 && !this.#distrustAll;
  }

  /** The owned keys, for keyspace-wide reads (SCAN, KEYS, DBSIZE) to leave out of the origin's side. */
  owned(): ReadonlySet<KeyId> {
    return this.#owned;
  }
}

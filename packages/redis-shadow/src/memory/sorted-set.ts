/** A member of a sorted set: latin1 bytes and score. */
export interface ScoredMember {
  readonly member: string;
  readonly score: number;
}

/** Redis' order: by score, then by member bytes (latin1 strings compare as bytes do). */
export const compareScored = (a: ScoredMember, b: ScoredMember): number =>
  a.score !== b.score ? (a.score < b.score ? -1 : 1) : a.member < b.member ? -1 : a.member > b.member ? 1 : 0;

/** The most members, and the longest member, a sorted set Redis keeps as a listpack may have (the defaults). */
export const LISTPACK_ENTRIES = 128;
export const LISTPACK_VALUE = 64;

/**
 * A sorted set: scores by member, and the members kept in Redis' order in an array (binary search
 * to find a place; a splice to insert or remove — O(n), plenty for a test or mirror's data).
 */
export class SortedSet {
  readonly #scores = new Map<string, number>();
  readonly #ordered: ScoredMember[] = [];
  /**
   * Whether Redis would hold this set as a listpack: small, short members. A listpack stores -0 as 0,
   * and ZSCAN returns it whole. Growing past the limits makes it a skiplist for good, as in Redis.
   */
  compact: boolean;

  constructor(compact = true) {
    this.compact = compact;
  }

  get size(): number {
    return this.#scores.size;
  }

  score(member: string): number | undefined {
    return this.#scores.get(member);
  }

  /** Sets a member's score; returns whether it was new. */
  add(member: string, score: number): boolean {
    const previous = this.#scores.get(member);
    if (previous === undefined && this.compact && (this.size + 1 > LISTPACK_ENTRIES || member.length > LISTPACK_VALUE)) this.compact = false;
    // A listpack writes the score as text and reads "-0" back as the integer 0.
    if (this.compact && score === 0) score = 0;
    if (previous !== undefined) {
      if (previous === score) return false;
      this.#ordered.splice(this.#position({ member, score: previous }), 1);
    }
    this.#scores.set(member, score);
    this.#ordered.splice(this.#position({ member, score }), 0, { member, score });
    return previous === undefined;
  }

  remove(member: string): boolean {
    const score = this.#scores.get(member);
    if (score === undefined) return false;
    this.#scores.delete(member);
    this.#ordered.splice(this.#position({ member, score }), 1);
    return true;
  }

  /** The 0-based rank of a member in ascending order. */
  rank(member: string): number | undefined {
    const score = this.#scores.get(member);
    return score === undefined ? undefined : this.#position({ member, score });
  }

  /** Members in ascending order (a view: do not change the set while iterating it). */
  ordered(): readonly ScoredMember[] {
    return this.#ordered;
  }

  clone(): SortedSet {
    const copy = new SortedSet(this.compact);
    for (const entry of this.#ordered) {
      copy.#scores.set(entry.member, entry.score);
      copy.#ordered.push(entry);
    }
    return copy;
  }

  /** The index of the first member not below `probe`. */
  #position(probe: ScoredMember): number {
    let low = 0;
    let high = this.#ordered.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareScored(this.#ordered[middle]!, probe) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

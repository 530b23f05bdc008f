/**
 * One conformance case: commands run in order on a flushed database, once against a real Redis and
 * once against the memory engine; every reply (or error message) must be the same.
 */
export interface ConformanceCase {
  readonly name: string;
  readonly commands: ReadonlyArray<readonly string[]>;
  /** Commands whose reply order is a hash table's (SMEMBERS, HKEYS, …): compared sorted. */
  readonly unordered?: readonly string[];
}

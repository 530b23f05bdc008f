/** What the classifier says of a statement: classifyStatement's (classify-statement.ts) and classifySqlite's answer. */

/**
 * - `read`, `transaction`, `session`: allowed (reads; transaction control that keeps read-only;
 *   session settings that cannot write).
 * - `write`, `ddl`: data or schema changes; the `simulate` policy may answer them.
 * - `lock`, `escape`, `side-effect`: locks, ways out of read-only or out of the database, and server
 *   side effects; refused under every policy.
 * - `unknown`: not lexable, or a statement kind the classifier does not know; refused.
 */
export type StatementKind = 'read' | 'transaction' | 'session' | 'write' | 'ddl' | 'lock' | 'escape' | 'side-effect' | 'unknown';

export interface StatementClassification {
  readonly allowed: boolean;
  readonly kind: StatementKind;
  /** Why, in a sentence fragment a person can act on. */
  readonly reason: string;
  /** The statement's leading keyword, upper-cased (`SELECT`, `SET`, …), or `''` when there is none. */
  readonly keyword: string;
}

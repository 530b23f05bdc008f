/** Where a command goes: what routeCommand (route-command.ts) and its helpers decide. */

/**
 * A key the shadow must own (its origin value copied first) before the command runs there. Every
 * key is copied, even one the write overwrites whole (OW): SETNX, MSETNX, COPY and RESTORE without
 * REPLACE answer by whether the key exists, and a write that fails must not leave the origin's value
 * hidden behind an empty shadow key.
 */
export interface KeyToOwn {
  readonly key: Buffer | string;
  /** The key's database when it is not the client's current one (MOVE, COPY … DB). */
  readonly db?: number;
}

export type Route =
  /** Send to the origin as it is. */
  | { readonly target: 'origin' }
  /**
   * Send to the shadow once these keys are owned. `write` says whether the command changes the
   * shadow. `askOrigin` holds commands whose keys the specs cannot name: the origin names them
   * (COMMAND GETKEYSANDFLAGS) and they are owned too.
   */
  | {
      readonly target: 'shadow';
      readonly keys: readonly KeyToOwn[];
      readonly write: boolean;
      readonly askOrigin?: ReadonlyArray<readonly unknown[]>;
      /** An argument to replace before the shadow gets the command (a database index, mapped to the shadow's). */
      readonly rewrite?: { readonly index: number; readonly value: string };
      /**
       * A script or function: `write` (EVAL, EVALSHA, FCALL) may write keys it did not declare, which
       * the mirror learns from the shadow; `read` (their _RO forms) writes nothing, and the copies of
       * its declared keys made for it alone are dropped after it.
       */
      readonly script?: 'write' | 'read';
    }
  /** SORT with BY/GET patterns once the shadow owns keys: evaluated here over both sides (see sortOverBoth). */
  | { readonly target: 'sort-over-both'; readonly name: 'sort' | 'sort_ro'; readonly store: Buffer | string | undefined }
  /** Keyspace-wide reads merged over origin and shadow (SCAN, KEYS, DBSIZE, RANDOMKEY). */
  | { readonly target: 'merge'; readonly name: string }
  /** Answer 0 without sending (PUBLISH). */
  | { readonly target: 'suppress'; readonly reason: string }
  /** Fail; nothing is sent. */
  | { readonly target: 'refuse'; readonly code: 'MG_ERR_REDIS_REFUSED' | 'MG_ERR_REDIS_UNSUPPORTED'; readonly reason: string };

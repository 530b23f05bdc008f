import type { Journal } from '@mirrorguard/core';
import type { Mysql2Config } from './mysql2-shapes.ts';

// mysql2's id of utf8mb4_unicode_ci, its own default collation.
const UTF8MB4_UNICODE_CI = 224;
// Configs pinned by any guard: a config shared by two guarded modules is pinned once.
const PINNED = new WeakSet<object>();

/**
 * Every guarded connection speaks utf8mb4: the classifier reads JavaScript strings, and only in
 * UTF-8 are the bytes the server lexes the same characters (no multi-byte character ends in a
 * 0x5C backslash, no character outside the set turns into a quote). A collation of utf8mb4 the app
 * chose is kept; any other character set is replaced, and the change journaled.
 */
export class CharsetPin {
  readonly #collations: ReadonlySet<number>;
  readonly #journal: Journal;

  /** `charsets`: mysql2's `Charsets` (collation and character-set names → ids). */
  constructor(charsets: Readonly<Record<string, number>> | undefined, journal: Journal) {
    const ids = Object.entries(charsets ?? {}).filter(([name]) => name.startsWith('UTF8MB4')).map(([, id]) => id);
    this.#collations = new Set(ids.length > 0 ? ids : [UTF8MB4_UNICODE_CI]);
    this.#journal = journal;
  }

  /** Whether a collation id is one of utf8mb4's. */
  allows(collation: unknown): boolean {
    return typeof collation === 'number' && this.#collations.has(collation);
  }

  /** Makes a parsed connection config ask for utf8mb4 in its handshake. */
  /**
   * Makes a parsed connection config ask for utf8mb4 in its handshake and keep it: mysql2 encodes
   * each statement in the config's character set when it sends it, so the field stays utf8mb4 for
   * good (a later assignment of another character set, by the app or by mysql2 following the
   * server, is ignored and journaled).
   */
  pin(config: Mysql2Config & { charsetNumber?: number }): void {
    if (PINNED.has(config)) return;
    PINNED.add(config);
    // A pool copies its pinned config's descriptors into each connection's config: already pinned,
    // sharing the pool's utf8mb4 collation.
    const descriptor = Object.getOwnPropertyDescriptor(config, 'charsetNumber');
    if (descriptor?.get !== undefined && descriptor.configurable === false) return;
    let collation = UTF8MB4_UNICODE_CI;
    const assign = (value: unknown, why: string): void => {
      if (this.allows(value)) collation = value as number;
      else this.#journal.record({ dependency: 'db', action: 'warned', operation: `(connection character set ${String(value)})`, reason: `a guarded connection speaks utf8mb4: ${why}` });
    };
    assign(config.charsetNumber, 'the charset option was replaced by utf8mb4_unicode_ci');
    Object.defineProperty(config, 'charsetNumber', {
      configurable: false,
      enumerable: true,
      get: () => collation,
      set: (value: unknown) => assign(value, 'a change of the connection character set was ignored'),
    });
  }
}

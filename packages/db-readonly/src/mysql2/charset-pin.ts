import type { Journal } from '@mirrorguard/core';
import type { Mysql2Config } from './mysql2-shapes.ts';

// mysql2's id of utf8mb4_unicode_ci, its own default collation.
const UTF8MB4_UNICODE_CI = 224;

/**
 * Every guarded connection speaks utf8mb4: the classifier reads JavaScript strings, and only in
 * UTF-8 are the bytes the server lexes the same characters (no multi-byte character ends in a
 * 0x5C backslash, no character outside the set turns into a quote). A collation of utf8mb4 the app
 * chose is kept; any other character set is replaced, and the change journaled.
 */
export class CharsetPin {
  readonly #collations: ReadonlySet<number>;
  readonly #journal: Journal;
  readonly #pinned = new WeakSet<object>();

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
  pin(config: Mysql2Config & { charsetNumber?: number }): void {
    if (this.#pinned.has(config)) return;
    this.#pinned.add(config);
    if (this.allows(config.charsetNumber)) return;
    this.#journal.record({
      dependency: 'db',
      action: 'warned',
      operation: `(connection character set ${String(config.charsetNumber)})`,
      reason: 'a guarded connection speaks utf8mb4: the charset option was replaced by utf8mb4_unicode_ci',
    });
    config.charsetNumber = UTF8MB4_UNICODE_CI;
  }
}

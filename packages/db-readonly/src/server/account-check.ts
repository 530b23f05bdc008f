import { MirrorGuardError } from '@mirrorguard/core';
import type { ResolvedGuardOptions } from '../policy/guard-options.ts';
import { readAccountPrivileges, type AccountPrivileges } from './account-privileges.ts';

/**
 * What is known of one account's privileges (one per pool, or per connection made on its own).
 * A writable account is journaled once as a warning; with `requireReadOnlyAccount` every connection
 * of it is refused.
 */
export class AccountCheck {
  readonly #options: ResolvedGuardOptions;
  #privileges: AccountPrivileges | undefined;

  constructor(options: ResolvedGuardOptions) {
    this.#options = options;
  }

  get privileges(): AccountPrivileges | undefined {
    return this.#privileges;
  }

  /** Whether the next connection should read SHOW GRANTS. */
  get needed(): boolean {
    return this.#privileges === undefined;
  }

  record(rows: unknown): void {
    if (this.#privileges !== undefined) return;
    const privileges = readAccountPrivileges(rows);
    this.#privileges = privileges;
    if (privileges.canWrite) {
      this.#options.journal.record({
        dependency: 'db',
        action: 'warned',
        operation: 'SHOW GRANTS FOR CURRENT_USER()',
        reason: `the account can write (${privileges.writePrivileges.join(', ')}); give the mirror a SELECT-only account`,
      });
    }
  }

  /** The error that refuses connections, when the account can write and a read-only one is required. */
  failure(): MirrorGuardError | undefined {
    if (!this.#options.requireReadOnlyAccount || this.#privileges === undefined || !this.#privileges.canWrite) return undefined;
    return new MirrorGuardError(
      'MG_ERR_DB_ACCOUNT_CAN_WRITE',
      `requireReadOnlyAccount is set but the database account can write: ${this.#privileges.writePrivileges.join(', ')}`,
    );
  }
}

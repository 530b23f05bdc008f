import { MirrorGuardError, warnAtStartUp } from '@mirrorguard/core';
import type { ResolvedGuardOptions } from '../policy/guard-options.ts';
import { readAccountPrivileges, type AccountPrivileges } from './account-privileges.ts';

/**
 * What is known of one account's privileges (one per pool, or per connection made on its own).
 * A writable account is journaled once as a warning, and printed (a `MirrorGuardWarning`); with
 * `requireReadOnlyAccount` every connection of it is refused instead.
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
    if (!privileges.canWrite) return;
    if (this.#options.requireReadOnlyAccount) {
      // Refused: every connection of it fails with failure(); journaled once.
      this.#options.journal.record({ dependency: 'db', action: 'blocked', operation: 'SHOW GRANTS FOR CURRENT_USER()', reason: this.failure()!.message });
    } else {
      warnAtStartUp(
        this.#options.journal,
        {
          dependency: 'db',
          operation: 'SHOW GRANTS FOR CURRENT_USER()',
          reason: `the account can write (${privileges.writePrivileges.join(', ')}); give the mirror a SELECT-only account, or refuse it with requireReadOnlyAccount (strict)`,
        },
        'MG_ERR_DB_ACCOUNT_CAN_WRITE',
      );
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

import type { Journal } from './journal.ts';
import type { JournalEntry } from './journal-event.ts';

/**
 * A weakness found at start-up that a guard carries on with (an account that can write, a Redis
 * user that can reach other servers): journaled as `warned`, and printed where people look — a
 * Node process warning of type `MirrorGuardWarning` with `code`, which Node writes to stderr
 * (`process.on('warning')` sees it too). `strict` guards refuse instead of calling this.
 */
export function warnAtStartUp(journal: Journal, entry: Omit<JournalEntry, 'action'>, code: string): void {
  journal.record({ ...entry, action: 'warned' });
  process.emitWarning(`mirrorguard ${entry.dependency}: ${entry.reason}`, { type: 'MirrorGuardWarning', code });
}

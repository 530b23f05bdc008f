import type { Profile } from '../profile/resolve-profile.ts';

/** The dependency a side effect was aimed at. The guards use the first three; custom providers may add their own. */
export type Dependency = 'db' | 'redis' | 'http' | (string & {});

/**
 * What a guard did with an intercepted side effect.
 * - `blocked`: refused; it did not reach the dependency.
 * - `simulated`: answered with a plausible result instead of running it.
 * - `shadowed`: run against a shadow copy instead of the real dependency.
 * - `replayed`: answered from a recording.
 * - `recorded`: run for real and recorded (the `record` profile).
 * - `passed`: let through to the real dependency.
 * - `warned`: not a side effect but a weakness a guard found and carried on with (an account that can write).
 */
export type JournalAction = 'blocked' | 'simulated' | 'shadowed' | 'replayed' | 'recorded' | 'passed' | 'warned';

export const JOURNAL_ACTIONS: readonly JournalAction[] = ['blocked', 'simulated', 'shadowed', 'replayed', 'recorded', 'passed', 'warned'];

/** What a guard reports; the journal adds the rest. */
export interface JournalEntry {
  readonly dependency: Dependency;
  readonly action: JournalAction;
  /** The operation as text (an SQL statement, a Redis command, `POST https://…`); secrets are redacted before it is kept. */
  readonly operation: string;
  /** Why, in a few words: `write statement in read-only mode`, `no recording for this request`. */
  readonly reason: string;
}

/** One intercepted side effect, as every sink receives it. */
export interface JournalEvent extends JournalEntry {
  /** 1, 2, 3 … per journal, in the order the effects were intercepted. */
  readonly seq: number;
  /** ISO 8601, UTC. */
  readonly time: string;
  /** The request being handled, or null outside one (start-up, jobs without context). */
  readonly requestId: string | null;
  readonly profile: Profile;
  /** Method and path of the HTTP request being handled, when known. */
  readonly method?: string;
  readonly path?: string;
}

/** Where journal events go. `write` is called synchronously, in order; it must not throw for ordinary events. */
export interface JournalSink {
  write(event: JournalEvent): void;
  /** Flushes and releases what the sink holds. */
  close?(): void | Promise<void>;
}

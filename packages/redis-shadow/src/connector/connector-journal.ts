import type { Journal } from '@mirrorguard/core';
import { describe } from '../client/describe-command.ts';

/**
 * The connector's journal events, in ShadowRedis' words (shadow-redis.ts): refusals and suppressed
 * PUBLISH as `blocked` (always), writes as `shadowed` when they go out to the shadow — described
 * only while the journal is observed, as ShadowRedis does — and a write whose copy failed as
 * `blocked` with the failure.
 */
export class ConnectorJournal {
  readonly journal: Journal;

  constructor(journal: Journal) {
    this.journal = journal;
  }

  /** A command refused (by routing, by the connector's own limits, by the shadow checks) or suppressed (PUBLISH). */
  blocked(argv: readonly unknown[], reason: string): void {
    // ioredis' own CLIENT SETINFO, which a Redis before 7.2 does not know, is no side effect of the app's.
    if (argv.length > 1 && String(argv[0]).toLowerCase() === 'client' && String(argv[1]).toLowerCase() === 'setinfo') return;
    this.journal.record({ dependency: 'redis', action: 'blocked', operation: describe(argv), reason });
  }

  /** A write going out to the shadow (its keys copied): unread, it is not described at all. */
  shadowed(argv: readonly unknown[], inTransaction: boolean): void {
    if (!this.journal.observed) return;
    this.journal.record({ dependency: 'redis', action: 'shadowed', operation: describe(argv), reason: inTransaction ? 'transaction applied to the shadow' : 'write applied to the shadow' });
  }
}

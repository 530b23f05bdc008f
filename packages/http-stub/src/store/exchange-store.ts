import type { DestinationInput } from '@mirrorguard/core';
import type { RecordedExchange } from '../exchange/exchange.ts';

/**
 * Where exchanges are kept: the stub records into it and replays from it. Exchanges reach a store
 * already redacted.
 */
export interface ExchangeStore {
  /** Named in errors: a file path, a Redis key prefix. */
  readonly description: string;
  /** The exchanges recorded under an incoming request id (null: outside any request). */
  exchangesFor(requestId: string | null): Promise<readonly RecordedExchange[]>;
  record(exchange: RecordedExchange): Promise<void>;
  /** Called once when a stub starts recording into the store: a file store drops what an earlier run left. */
  beginRecording?(): void;
  /** Called once when a stub starts replaying from the store: a file store reads its file now, and throws if it is missing or invalid. */
  beginReplay?(): void;
  /**
   * A store that is filled while it is read (a live primary's): the exchanges of `requestId` after the
   * first `known`, as soon as there is one, or none once `deadline` (Unix ms) passed. Replay calls it
   * on a miss, up to `waitMs` after the call was made.
   */
  waitForMore?(requestId: string | null, known: number, deadline: number): Promise<readonly RecordedExchange[]>;
  /** How long replay waits on a miss when the store can be waited on. */
  readonly waitMs?: number;
  /** Where the store connects (a shared Redis), for the mirror's egress lockdown; the provider declares them. */
  readonly destinations?: readonly DestinationInput[];
  /** Writes what is pending and lets go of resources; the stub's dispose() calls it. */
  close(): Promise<void>;
}

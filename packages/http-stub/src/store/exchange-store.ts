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
  /** Writes what is pending and lets go of resources; the stub's dispose() calls it. */
  close(): Promise<void>;
}

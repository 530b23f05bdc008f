import type { CommandTable } from '../commands/command-table.ts';
import type { MemoryEngine } from '../memory/memory-engine.ts';
import type { KeyState } from '../shadow/key-state.ts';

/** Where the writes land: a real Redis, or the memory engine in process. */
export type ShadowTarget =
  | { readonly kind: 'redis'; readonly host: string; readonly port: number; readonly username?: string; readonly password?: string; readonly db?: number }
  | { readonly kind: 'memory'; readonly engine: MemoryEngine; readonly db?: number };

/** What outlives one connection: the command table, and which keys the shadow owns (per origin database). */
export interface ConnectorState {
  readonly table: CommandTable;
  stateFor(db: number): KeyState;
  /** Every database's state so far (a script's writes are not named by database). */
  states?(): Iterable<KeyState>;
}

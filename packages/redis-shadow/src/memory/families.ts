import { connectionCommands } from './commands/connection-commands.ts';
import { hashCommands } from './commands/hash-commands.ts';
import { keyCommands } from './commands/key-commands.ts';
import { listCommands } from './commands/list-commands.ts';
import { setCommands } from './commands/set-commands.ts';
import { sortCommands } from './commands/sort-commands.ts';
import { sortedSetCommands } from './commands/sorted-set-commands.ts';
import { stringCommands } from './commands/string-commands.ts';
import { MemoryEngine, type CommandFamily } from './memory-engine.ts';

/** The command families the memory engine runs, by the family names the README's table uses. */
export const MEMORY_FAMILIES: Readonly<Record<string, CommandFamily>> = {
  connection: connectionCommands,
  keys: keyCommands,
  strings: stringCommands,
  hashes: hashCommands,
  lists: listCommands,
  sets: setCommands,
  'sorted sets': sortedSetCommands,
  sort: sortCommands,
};

export function createMemoryEngine(): MemoryEngine {
  return new MemoryEngine(Object.values(MEMORY_FAMILIES));
}

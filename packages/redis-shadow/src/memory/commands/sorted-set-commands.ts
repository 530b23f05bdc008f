import type { CommandFamily } from '../memory-engine.ts';

/** Sorted sets. */
export const sortedSetCommands: CommandFamily = {};

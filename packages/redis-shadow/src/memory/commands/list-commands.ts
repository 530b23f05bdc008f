import type { CommandFamily } from '../memory-engine.ts';

/** Lists. */
export const listCommands: CommandFamily = {};

import type { CommandFamily } from '../memory-engine.ts';

/** Sets. */
export const setCommands: CommandFamily = {};

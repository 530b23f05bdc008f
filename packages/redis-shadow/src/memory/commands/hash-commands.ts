import type { CommandFamily } from '../memory-engine.ts';

/** Hashes. */
export const hashCommands: CommandFamily = {};

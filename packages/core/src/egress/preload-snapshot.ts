// The preload's first module: evaluated before any other of its modules, none of which imports a
// networking module (they take them through process.getBuiltinModule as they are evaluated, after
// this one). What it records is what was loaded before the preload: by node's bootstrap (none of
// these), by a --require or --import ahead of it, or by the app that loaded the preload late.

import { networkingLoaded } from './networking-modules.ts';

/** The networking modules loaded before the preload's first line. */
export const networkingLoadedBefore: readonly string[] = Object.freeze(networkingLoaded());

/** The token of the `Guards` object `createGuards` built (every provider's instance, `close()`). */
export const MIRRORGUARD_GUARDS: unique symbol = Symbol.for('mirrorguard.nest.guards');

/** The token of the module's options. */
export const MIRRORGUARD_OPTIONS: unique symbol = Symbol.for('mirrorguard.nest.options');

/** The token of one guarded dependency: the instance the provider named `name` built (`db`, `redis`, `http`, …). */
export function getGuardToken(name: string): string {
  return `mirrorguard:guard:${name}`;
}

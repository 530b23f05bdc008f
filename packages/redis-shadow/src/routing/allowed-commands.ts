/**
 * Commands of class "neither" (no read or write flag) that a mirror may send to the origin: they
 * manage the connection or read server state. Every other "neither" command is refused.
 */
export const ALLOWED_NEITHER: ReadonlySet<string> = new Set([
  'auth',
  'client|getname',
  'client|id',
  'client|info',
  'client|setinfo',
  'client|setname',
  'command',
  'command|count',
  'command|docs',
  'command|getkeys',
  'command|getkeysandflags',
  'command|info',
  'command|list',
  'echo',
  'hello',
  'info',
  'lastsave',
  'ping',
  'psubscribe',
  'punsubscribe',
  'quit',
  'readonly',
  'readwrite',
  'select',
  'ssubscribe',
  'subscribe',
  'sunsubscribe',
  'time',
  'unsubscribe',
]);

/**
 * Never sent anywhere: they would reach beyond the shadow, or are script and function
 * administration (flush, delete, restore) no mirror request needs.
 */
export const REFUSED_ALWAYS: ReadonlyMap<string, string> = new Map([
  ['migrate', 'MIGRATE moves keys to another server'],
  ['script|flush', 'SCRIPT FLUSH empties the script cache'],
  ['function|flush', 'FUNCTION FLUSH deletes every function'],
  ['function|delete', 'FUNCTION DELETE deletes a library'],
  ['function|restore', 'FUNCTION RESTORE changes the server\'s functions'],
  ['swapdb', 'SWAPDB swaps whole databases'],
]);

/** Suppressed: answered with 0 subscribers and journaled, never delivered. */
export const SUPPRESSED: ReadonlySet<string> = new Set(['publish', 'spublish']);

/** Flagged read-only, but the server rewrites the value (PFCOUNT caches its cardinality in the HyperLogLog). */
export const READS_THAT_WRITE: ReadonlySet<string> = new Set(['pfcount']);

/** Keyspace-wide reads: the origin's and the shadow's keys must be merged once the shadow owns any. */
export const KEYSPACE_READS: ReadonlySet<string> = new Set(['scan', 'keys', 'dbsize', 'randomkey']);

/** Transaction control: ShadowRedis routes a transaction as a whole, never command by command. */
export const TRANSACTION_COMMANDS: ReadonlySet<string> = new Set(['multi', 'exec', 'discard', 'watch', 'unwatch']);

/**
 * Scripts and functions that may write: their declared keys are copied, and they run on the shadow.
 * The _RO variants are flagged reads, but not `@read`: off the origin's allow-list, they run on the
 * shadow too (see origin-allow-list.ts). No script ever runs on the origin.
 */
export const SCRIPTS_THAT_MAY_WRITE: ReadonlySet<string> = new Set(['eval', 'evalsha', 'fcall']);

/** The shadow's own script cache and function libraries: where the mirror's scripts run. FUNCTION LOAD, flagged a write, goes there as every write does. */
export const SHADOW_SCRIPT_CACHE: ReadonlySet<string> = new Set(['script|load', 'script|exists', 'function|list']);

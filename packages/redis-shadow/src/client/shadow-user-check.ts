import { MirrorGuardError, warnAtStartUp, type Journal } from '@mirrorguard/core';
import { ReplyError } from 'ioredis';
import { bundledCommandTable, loadCommandTable, type CommandSpec, type CommandTable } from '../commands/command-table.ts';

/** What to do when the shadow's user could reach beyond the shadow: refuse every write (the default), or warn and go on. */
export type UnsandboxedShadow = 'refuse' | 'warn';

/**
 * The `@admin` and `@dangerous` commands a shadow user may keep: they touch nothing but the shadow,
 * and the mirror sends them (KEYS, SORT, FLUSHDB, FLUSHALL from the app; RESTORE to copy keys; INFO
 * to tell the shadow from the origin; ACL DRYRUN for this check).
 */
export const SANDBOX_ALLOWANCES: ReadonlySet<string> = new Set(['keys', 'sort', 'sort_ro', 'flushdb', 'flushall', 'restore', 'restore-asking', 'info', 'acl|dryrun', 'acl|getuser']);

/** The user to give the mirror on a real shadow (the README explains each part). */
export const SHADOW_USER_ACL =
  'ACL SETUSER mirror-shadow on >CHANGE-ME ~* &* +@all -@admin -@dangerous +keys +sort +sort_ro +flushdb +flushall +restore +info +acl|dryrun +acl|getuser';

/** The parts of an ioredis client the check uses. */
interface Caller {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/**
 * Every command the shadow's user must not be able to run, as `[name, sub?, …filler]` a dry run
 * accepts: each `@admin` or `@dangerous` command (or subcommand) of the shadow's own COMMAND table,
 * but the allowances. MIGRATE, REPLICAOF, CLUSTER MEET, FAILOVER, CONFIG SET, DEBUG, MODULE, CLIENT
 * KILL, SHUTDOWN, SLOWLOG RESET, … — also from inside a script, which runs with its caller's ACL.
 */
export function commandsOutsideSandbox(table: CommandTable): string[][] {
  return dryRunProbes(table, (spec) => (spec.categories.has('admin') || spec.categories.has('dangerous')) && !SANDBOX_ALLOWANCES.has(spec.name));
}

/**
 * The commands (subcommands in place of their containers) of the shadow's table whose ACL
 * categories the check cannot go by: those of a module (a module files its commands where it
 * likes, and one that reaches other servers need be neither `@admin` nor `@dangerous`). A command
 * the guard's own table (the bundled snapshot of Redis) knows is the server's; one it does not is
 * asked about with COMMAND DOCS (which a newer Redis answers for its own commands, a module's
 * naming the module); one that is a module's, or that the server does not document, is returned.
 */
export async function commandsOfModules(shadow: Caller, table: CommandTable, known: CommandTable = bundledCommandTable()): Promise<CommandSpec[]> {
  const unknown = [...table.names()].filter((name) => known.get(name) === undefined);
  if (unknown.length === 0) return [];
  const reply = await shadow.call('COMMAND', 'DOCS', ...unknown);
  const docs = new Map<string, Map<string, unknown>>();
  const list = Array.isArray(reply) ? reply : [];
  for (let index = 0; index + 1 < list.length; index += 2) {
    const fields = Array.isArray(list[index + 1]) ? (list[index + 1] as unknown[]) : [];
    const byName = new Map<string, unknown>();
    for (let field = 0; field + 1 < fields.length; field += 2) byName.set(String(fields[field]).toLowerCase(), fields[field + 1]);
    docs.set(String(list[index]).toLowerCase(), byName);
  }
  const ofModules: CommandSpec[] = [];
  for (const name of unknown) {
    const doc = docs.get(name);
    if (doc !== undefined && !doc.has('module') && String(doc.get('group')).toLowerCase() !== 'module') continue;
    const spec = table.get(name)!;
    if (spec.subcommands.size === 0) ofModules.push(spec);
    else ofModules.push(...spec.subcommands.values());
  }
  return ofModules;
}

/** `[name, sub?, …filler]` for each command (subcommands in place of their containers) `select` picks: as many words as its arity asks. */
export function dryRunProbes(table: CommandTable, select: (spec: CommandSpec) => boolean): string[][] {
  const probes: string[][] = [];
  const consider = (spec: CommandSpec): void => {
    if (!select(spec)) return;
    const words = spec.name.split('|');
    const length = Math.max(Math.abs(spec.arity), words.length);
    probes.push([...words, ...Array.from({ length: length - words.length }, () => 'x')]);
  };
  for (const name of table.names()) {
    const spec = table.get(name)!;
    if (spec.subcommands.size === 0) consider(spec);
    else for (const sub of spec.subcommands.values()) consider(sub);
  }
  return probes;
}

/** The `commands` rules of an ACL GETUSER reply (the user's own and each selector's), as one list of tokens. */
function commandRules(reply: unknown): string[] {
  const rules: string[] = [];
  const read = (fields: unknown): void => {
    if (!Array.isArray(fields)) return;
    for (let index = 0; index + 1 < fields.length; index += 2) {
      if (String(fields[index]) === 'commands') rules.push(...String(fields[index + 1]).split(/\s+/));
      if (String(fields[index]) === 'selectors' && Array.isArray(fields[index + 1])) for (const selector of fields[index + 1] as unknown[]) read(selector);
    }
  };
  read(reply);
  return rules;
}

/**
 * The first-argument rules (`+migrate|127.0.0.1`) a user has for commands outside the sandbox: a dry
 * run probes one argument and cannot see them, so any is refused. `+name|sub` of a command with
 * subcommands names a subcommand, which the dry run covers.
 */
export function firstArgumentAllowances(reply: unknown, table: CommandTable): string[] {
  const found: string[] = [];
  for (const rule of commandRules(reply)) {
    if (!rule.startsWith('+') || !rule.includes('|')) continue;
    const name = rule.slice(1, rule.indexOf('|')).toLowerCase();
    const spec = table.get(name);
    // An unknown name: the server refused it when the rule was set, or it names a module's command; fail closed.
    if (spec === undefined || (spec.subcommands.size === 0 && (spec.categories.has('admin') || spec.categories.has('dangerous')) && !SANDBOX_ALLOWANCES.has(spec.name))) {
      found.push(rule.slice(1).toUpperCase());
    }
  }
  return found;
}

/** Whether a dry run's reply lets the user run the command: only a denial of the command itself does not (a denied key or channel leaves others). */
export const dryRunAllows = (reply: unknown): boolean => !/no permissions to run the '/.test(String(reply));

/** `MIGRATE`, `CLUSTER MEET`: a probe's command as the error and the journal name it. */
export const probeName = (argv: readonly string[]): string => (argv[1] !== undefined && argv[1] !== 'x' ? `${argv[0]} ${argv[1]}` : argv[0]!).toUpperCase();

/**
 * Asks the shadow, with ACL DRYRUN (which executes nothing), whether this connection's user can run
 * any command outside the sandbox. A denial of the command itself is the only safe answer: a user
 * refused only a key or a channel of the dry run can still run the command on others.
 *
 * Resolves when it cannot; otherwise refuses (MG_ERR_REDIS_SHADOW_NOT_SANDBOXED, for good) or, with
 * `mode: 'warn'`, journals a `warned` event and emits a process warning (once per problem in `warned`). A shadow that could not be
 * asked (down) rejects with its connection error, and the check is made again later.
 */
export async function assertShadowSandboxed(shadow: Caller, mode: UnsandboxedShadow, journal: Journal, warned: Set<string> = new Set()): Promise<void> {
  let user = 'default';
  let problem: string;
  try {
    user = String(await shadow.call('ACL', 'WHOAMI'));
    const table = await loadCommandTable(shadow);
    const probes = commandsOutsideSandbox(table);
    // A module's commands, whatever their categories, must be denied to the user: fail closed.
    const ofModules = new Set((await commandsOfModules(shadow, table)).map((spec) => spec.name));
    const moduleProbes = dryRunProbes(table, (spec) => ofModules.has(spec.name));
    const replies = await Promise.all([...probes, ...moduleProbes].map((argv) => shadow.call('ACL', 'DRYRUN', user, ...argv)));
    const allowed = probes.filter((_, index) => dryRunAllows(replies[index])).map(probeName);
    const allowedOfModules = moduleProbes.filter((_, index) => dryRunAllows(replies[probes.length + index])).map(probeName);
    // What a dry run cannot see: a command allowed for one first argument only.
    allowed.push(...firstArgumentAllowances(await shadow.call('ACL', 'GETUSER', user), table));
    if (allowed.length === 0 && allowedOfModules.length === 0) return;
    const names = [...new Set(allowed)].sort();
    const modules = [...new Set(allowedOfModules)].sort();
    problem = [
      names.length > 0 &&
        `the shadow's user "${user}" can run ${names.length} commands that reach other servers or change a server's role or configuration, also from inside a script: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''}`,
      modules.length > 0 &&
        `the shadow's user "${user}" can run ${modules.length} commands of modules, which the mirror cannot judge (deny them: ${modules.slice(0, 12).map((name) => `-${name.toLowerCase().replace(' ', '|')}`).join(' ')}${modules.length > 12 ? ' …' : ''})`,
    ]
      .filter(Boolean)
      .join('; ');
  } catch (error) {
    // A server that answered but would not say (no ACL DRYRUN, no permission to ask): fail closed.
    if (!(error instanceof ReplyError) && !(error instanceof TypeError)) throw error;
    problem = `whether the shadow's user "${user}" can reach beyond the shadow could not be checked (${(error as Error).message.split('\n')[0]})`;
  }
  const advice = `give the mirror a restricted user on the shadow: ${SHADOW_USER_ACL} (see the README)`;
  if (mode === 'refuse') {
    throw new MirrorGuardError('MG_ERR_REDIS_SHADOW_NOT_SANDBOXED', `${problem}; nothing is sent to the shadow. ${advice}, or pass unsandboxedShadow: 'warn' to run anyway`);
  }
  // Once per problem: every connection is checked again at each connect.
  if (warned.has(problem)) return;
  warned.add(problem);
  warnAtStartUp(journal, { dependency: 'redis', operation: `ACL DRYRUN ${user} …`, reason: `${problem}; ${advice}` }, 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED');
}

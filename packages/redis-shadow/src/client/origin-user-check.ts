import { warnAtStartUp, type Journal } from '@mirrorguard/core';
import type { CommandSpec, CommandTable } from '../commands/command-table.ts';
import { SUPPRESSED } from '../routing/allowed-commands.ts';
import { mayReachOrigin } from '../routing/origin-allow-list.ts';
import { dryRunAllows, dryRunProbes, probeName } from './shadow-user-check.ts';

/** The parts of an ioredis client the check uses. */
interface Caller {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** The user to give the mirror on the origin (the README explains each part). */
export const ORIGIN_USER_ACL =
  'ACL SETUSER mirror on >CHANGE-ME resetkeys %R~* resetchannels -@all +@read +@connection +@transaction -@admin -@dangerous -pfcount +keys +sort_ro +info +acl|whoami +acl|dryrun +function|dump';

/** The guard's own reads of the origin off the allow-list: its check of the user (ACL WHOAMI, ACL DRYRUN), the copy of function libraries (FUNCTION DUMP); none executes anything. */
const OWN_CHECK: ReadonlySet<string> = new Set(['acl|whoami', 'acl|dryrun', 'function|dump']);

/**
 * What the origin's user should not be able to run: every command off the origin's allow-list
 * (writes, admin commands, scripts and functions, SCRIPT/FUNCTION/MEMORY/SLOWLOG/LATENCY …, PFCOUNT)
 * but those that change only the connection itself (@connection, @pubsub, @transaction) — PUBLISH
 * and SPUBLISH excepted: they reach the origin's subscribers.
 */
function beyondAllowList(spec: CommandSpec): boolean {
  if (mayReachOrigin(spec) || OWN_CHECK.has(spec.name)) return false;
  if (SUPPRESSED.has(spec.name)) return true;
  return !['connection', 'pubsub', 'transaction'].some((category) => spec.categories.has(category)) || spec.categories.has('admin') || spec.categories.has('dangerous');
}

/**
 * Asks the origin what this connection's user could run beyond the origin's allow-list, without
 * running it: ACL WHOAMI, then ACL DRYRUN of a SET and of every such command of the origin's table
 * (a dry run executes nothing). Journals one `warned` event, printed as a process warning, when it
 * could, or when the server will not say, and resolves with what it found (undefined when nothing);
 * an ACL user limited to harmless reads is the strongest backstop. Warns rather than refuses: the
 * client's own gate keeps those commands from the origin either way (`redisProvider` under strict
 * guards refuses start-up on what it resolves with).
 */
export async function warnIfOriginUserCanWrite(origin: Caller, journal: Journal, table: () => Promise<CommandTable>): Promise<string | undefined> {
  let user = 'default';
  let verdict: string;
  try {
    user = String(await origin.call('ACL', 'WHOAMI'));
    const write = String(await origin.call('ACL', 'DRYRUN', user, 'SET', 'mirrorguard:acl-probe', 'x')) === 'OK';
    const probes = dryRunProbes(await table(), beyondAllowList);
    const replies = await Promise.all(probes.map((argv) => origin.call('ACL', 'DRYRUN', user, ...argv)));
    const beyond = probes.filter((_, index) => dryRunAllows(replies[index])).map(probeName).sort();
    if (!write && beyond.length === 0) return undefined;
    verdict = `the origin user "${user}" ${write ? 'can write' : 'cannot write'} and can run ${beyond.length} commands off the origin's allow-list (${beyond.slice(0, 8).join(', ')}${beyond.length > 8 ? ', …' : ''})`;
  } catch (error) {
    verdict = `whether the origin user "${user}" can write could not be checked (${(error as Error).message.split('\n')[0]})`;
  }
  const reason = `${verdict}; give the mirror an ACL user limited to reads: ${ORIGIN_USER_ACL} (see the README)`;
  warnAtStartUp(journal, { dependency: 'redis', operation: `ACL DRYRUN ${user} SET`, reason }, 'MG_ERR_REDIS_ORIGIN_NOT_CONFINED');
  return reason;
}

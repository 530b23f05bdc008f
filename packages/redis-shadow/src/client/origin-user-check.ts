import type { Journal } from '@mirrorguard/core';

/** The parts of an ioredis client the check uses. */
interface Caller {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/**
 * Asks the origin whether this connection's user could write, without writing: ACL WHOAMI, then
 * ACL DRYRUN of a SET (a dry run executes nothing). Journals one `warned` event when it could, or
 * when the server will not say; an ACL user limited to reads is the strongest backstop.
 */
export async function warnIfOriginUserCanWrite(origin: Caller, journal: Journal): Promise<void> {
  let user = 'default';
  let verdict: string;
  try {
    user = String(await origin.call('ACL', 'WHOAMI'));
    const reply = String(await origin.call('ACL', 'DRYRUN', user, 'SET', 'mirrorguard:acl-probe', 'x'));
    if (reply !== 'OK') return;
    verdict = `the origin user "${user}" can write`;
  } catch (error) {
    verdict = `whether the origin user "${user}" can write could not be checked (${(error as Error).message.split('\n')[0]})`;
  }
  journal.record({
    dependency: 'redis',
    action: 'warned',
    operation: `ACL DRYRUN ${user} SET`,
    reason: `${verdict}; give the mirror an ACL user limited to reads (see the README)`,
  });
}

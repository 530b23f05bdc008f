import { createGuards, getEgressLockdown, type Guards, type ProviderMap } from '@mirrorguard/core';
import { typeormProvider } from '@mirrorguard/db-readonly';
import { redisProvider } from '@mirrorguard/redis-shadow';
import { once } from 'node:events';
import mysql2 from 'mysql2';
import { afterEach, describe, expect, it } from 'vitest';
import { preloadEgressLockdown } from './support/egress-preloaded.ts';
import { startOriginAndShadow } from './support/redis-server.ts';
import { MYSQL_URL } from './support/servers.ts';

// Start-up safety warnings are printed where people look (a Node process warning, which Node writes
// to stderr) as well as journaled, and `strict` (or MIRROR_STRICT=1) turns each into a refusal at
// start-up. The shared MariaDB's root account can write: the weakness this test needs.
const dataSource = { type: 'mariadb' as const, url: MYSQL_URL };

/** The MirrorGuardWarning process warnings emitted while `work` runs. */
async function warningsDuring(work: () => Promise<unknown>): Promise<Array<{ name: string; code?: string; message: string }>> {
  const warnings: Array<{ name: string; code?: string; message: string }> = [];
  const listener = (warning: Error & { code?: string }): void => {
    if (warning.name === 'MirrorGuardWarning') warnings.push({ name: warning.name, message: warning.message, ...(warning.code !== undefined && { code: warning.code }) });
  };
  process.on('warning', listener);
  try {
    await work();
    // Process warnings are emitted on the next tick.
    await new Promise((resolve) => process.nextTick(resolve));
  } finally {
    process.off('warning', listener);
  }
  return warnings;
}

describe('start-up safety warnings', () => {
  let guards: Guards<ProviderMap> | undefined;
  // Each case locks down before its mirror through the egress preload (a lockdown installed by
  // createGuards or from code is a start-up weakness of its own, tested in egress-preload.test.ts and
  // egress-attacks-2.test.ts), after starting any server of its own, and takes the lockdown out again
  // when it is over.
  const preloaded = preloadEgressLockdown;
  afterEach(async () => {
    await guards?.close();
    guards = undefined;
    getEgressLockdown()?.dispose();
  });

  it('a database account that can write is journaled and printed as a MirrorGuardWarning', async () => {
    await preloaded();
    const warnings = await warningsDuring(async () => {
      guards = await createGuards({ profile: 'mirror', env: {}, providers: { db: typeormProvider({ dataSource, mysql2 }) } });
    });
    expect(warnings).toEqual([expect.objectContaining({ code: 'MG_ERR_DB_ACCOUNT_CAN_WRITE', message: expect.stringContaining('the account can write') })]);
  });

  for (const [how, options] of [
    ['strict: true', { strict: true, env: {} }],
    ['MIRROR_STRICT=1', { env: { MIRROR_STRICT: '1' } }],
  ] as const) {
    it(`${how} refuses start-up instead`, async () => {
      await preloaded();
      const warnings = await warningsDuring(async () => {
        await expect(createGuards({ profile: 'mirror', ...options, providers: { db: typeormProvider({ dataSource, mysql2 }) } })).rejects.toMatchObject({
          code: 'MG_ERR_PROVIDER_BUILD',
          cause: expect.objectContaining({ code: 'MG_ERR_DB_ACCOUNT_CAN_WRITE' }),
        });
      });
      expect(warnings).toEqual([]);
    });
  }

  it('a Redis origin user that can write is printed too, and strict refuses it at start-up', async () => {
    const { origin, shadow, originAdmin, shadowAdmin, stop } = await startOriginAndShadow();
    // The oracle connections are not used here: closed before the preload, which counts a socket
    // already open as one the lockdown never checks (and its lockdown then as not preloaded).
    await Promise.all([originAdmin, shadowAdmin].map(async (admin) => {
      const ended = once(admin, 'end');
      admin.disconnect();
      await ended;
    }));
    await preloaded();
    try {
      // The origin's `default` user can do anything: the weakness.
      const providers = { redis: redisProvider({ origin: origin.url, shadow: shadow.shadowUrl }) };
      const warnings = await warningsDuring(async () => {
        guards = await createGuards({ profile: 'mirror', env: {}, providers });
        await (guards.redis as unknown as { originUserChecked: Promise<unknown> }).originUserChecked;
      });
      expect(warnings).toEqual([expect.objectContaining({ code: 'MG_ERR_REDIS_ORIGIN_NOT_CONFINED', message: expect.stringContaining('can write') })]);
      await guards!.close();
      guards = undefined;
      await expect(createGuards({ profile: 'mirror', strict: true, env: {}, providers })).rejects.toMatchObject({
        code: 'MG_ERR_PROVIDER_BUILD',
        cause: expect.objectContaining({ code: 'MG_ERR_REDIS_ORIGIN_NOT_CONFINED' }),
      });
    } finally {
      await stop();
    }
  });

  it('MIRROR_STRICT with a value that is neither on nor off is an error', async () => {
    await expect(createGuards({ profile: 'mirror', env: { MIRROR_STRICT: 'maybe' }, providers: {} })).rejects.toMatchObject({ code: 'MG_ERR_PROFILE_INVALID' });
  });
});

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { SHADOW_USER_ACL } from '../../packages/redis-shadow/src/client/shadow-user-check.ts';
import { startOriginAndShadow, type OriginAndShadow, type ThrowawayRedis } from '../support/redis-server.ts';

// Attacks on the shadow's sandbox check, judged on private origin and shadow servers (the origin's
// keys, read by its own `default` user), never by ShadowRedis' answers.
//
// `it.fails` marks a hole open today: the test asserts the safe behaviour, so it fails until the
// guard is fixed (then drop `.fails`). Plain `it` marks an attack that is stopped.

const HOST = '127.0.0.1';
const MIGRATE_TO_ORIGIN = "return redis.call('MIGRATE', ARGV[1], ARGV[2], '', 0, 5000, 'COPY', 'REPLACE', 'KEYS', KEYS[1])";

describe('the shadow user check, judged by the origin', () => {
  let servers: OriginAndShadow;
  let origin: ThrowawayRedis;
  let shadow: ThrowawayRedis;
  let originAdmin: Redis;
  let shadowAdmin: Redis;

  beforeAll(async () => {
    servers = await startOriginAndShadow();
    ({ origin, shadow, originAdmin, shadowAdmin } = servers);
  });

  afterAll(() => servers.stop());

  /** A shadow user made from the README's ACL plus `extra` rules; the ShadowRedis that uses it. */
  async function clientWithShadowRules(name: string, extra: string): Promise<ShadowRedis> {
    const rules = SHADOW_USER_ACL.replace(/^ACL SETUSER \S+ /, '').split(' ');
    await shadowAdmin.call('ACL', 'SETUSER', name, 'reset', ...rules.map((rule) => (rule.startsWith('>') ? '>pw' : rule)), ...extra.split(' ').filter(Boolean));
    return new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: `redis://${name}:pw@${HOST}:${shadow.port}` });
  }

  async function migrateFromShadow(client: ShadowRedis, key: string): Promise<unknown> {
    await client.set(key, 'planted by the mirror').catch((error: unknown) => error);
    return client.eval(MIGRATE_TO_ORIGIN, 1, key, HOST, String(origin.port)).catch((error: unknown) => error);
  }

  // shadow-user-check.ts, dryRunProbes: every probe's arguments are the filler 'x', and
  // dryRunAllows counts "no permissions to run the 'migrate' command" as a denial. A shadow user
  // allowed MIGRATE for one first argument only (`+migrate|127.0.0.1`, Redis' first-arg rule) is
  // denied `MIGRATE x x x x x` and passes as sandboxed; a script then MIGRATEs into the origin.
  // Was a hole: the check now also reads the user's rules (ACL GETUSER) for first-argument rules.
  it('a first-argument ACL rule (+migrate|127.0.0.1) does not hide MIGRATE from the shadow check', async () => {
    const client = await clientWithShadowRules('narrow-migrate', `+migrate|${HOST}`);
    try {
      await migrateFromShadow(client, 'planted:first-arg');
    } finally {
      await client.close();
    }
    expect(await originAdmin.exists('planted:first-arg')).toBe(0);
  });

  // The same probes against a Redis 7 ACL selector: `(+migrate ~planted:*)` grants MIGRATE for
  // keys under `planted:` only. The dry run `MIGRATE x x x x x` names key `x`, which no selector
  // allows; the server reports the key, not the command, and dryRunAllows counts that as allowed.
  it('an ACL selector (+migrate ~planted:*) is seen by the dry run: the script never MIGRATEs into the origin', async () => {
    const client = await clientWithShadowRules('selector-migrate', '(+migrate ~planted:*)');
    try {
      const error = (await client.set('planted:selector', 'x').catch((caught: unknown) => caught)) as { code?: string };
      expect(error.code).toBe('MG_ERR_REDIS_SHADOW_NOT_SANDBOXED');
      await migrateFromShadow(client, 'planted:selector');
    } finally {
      await client.close();
    }
    expect(await originAdmin.exists('planted:selector')).toBe(0);
  });

  // The check runs before anything is sent to a real shadow: a script that is the client's very
  // first command, plants its own key and MIGRATEs it, on a shadow whose user is `default` (no ACL
  // at all), sent before the check could have answered, and again on a duplicate().
  it('a first-command EVAL that plants and MIGRATEs a key does not race the shadow check', async () => {
    const script = `redis.call('SET', KEYS[1], 'planted'); ${MIGRATE_TO_ORIGIN}`;
    const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: shadow.url });
    const copy = client.duplicate();
    try {
      const outcomes = await Promise.all([
        client.eval(script, 1, 'planted:race', HOST, String(origin.port)).catch((error: { code?: string }) => error.code),
        client.pipeline().eval(script, 1, 'planted:race-pipeline', HOST, String(origin.port)).exec().catch((error: { code?: string }) => error.code),
        copy.eval(script, 1, 'planted:race-duplicate', HOST, String(origin.port)).catch((error: { code?: string }) => error.code),
      ]);
      expect(outcomes[0]).toBe('MG_ERR_REDIS_SHADOW_NOT_SANDBOXED');
    } finally {
      await copy.close();
      await client.close();
    }
    expect(await originAdmin.exists('planted:race', 'planted:race-pipeline', 'planted:race-duplicate')).toBe(0);
    expect(await shadowAdmin.exists('planted:race', 'planted:race-pipeline', 'planted:race-duplicate')).toBe(0);
  });

  // The app's AUTH / HELLO … AUTH: refused by the gate now (attacks-3.test.ts). Does it
  // also re-authenticate the shadow connection as `default`, after the check, so that a script
  // runs unconfined and MIGRATEs into the origin?
  it('AUTH or HELLO AUTH as `default` does not lift the shadow user\'s confinement for a later script', async () => {
    const script = `redis.call('SET', KEYS[1], 'planted'); ${MIGRATE_TO_ORIGIN}`;
    const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: shadow.shadowUrl });
    try {
      await client.set('warm', 'up');
      await client.call('AUTH', 'default', 'anything').catch(() => undefined);
      await client.eval(script, 1, 'planted:auth', HOST, String(origin.port)).catch(() => undefined);
      await client.call('HELLO', '2', 'AUTH', 'default', 'anything').catch(() => undefined);
      await client.eval(script, 1, 'planted:hello', HOST, String(origin.port)).catch(() => undefined);
    } finally {
      await client.close();
    }
    expect(await originAdmin.exists('planted:auth', 'planted:hello')).toBe(0);
  });

  it('MIGRATE allowed outright is seen by the dry run: nothing is sent to the shadow, nothing reaches the origin', async () => {
    const client = await clientWithShadowRules('open-migrate', '+migrate');
    try {
      const error = (await client.set('planted:open', 'x').catch((caught: unknown) => caught)) as { code?: string };
      expect(error.code).toBe('MG_ERR_REDIS_SHADOW_NOT_SANDBOXED');
      await migrateFromShadow(client, 'planted:open');
    } finally {
      await client.close();
    }
    expect(await originAdmin.exists('planted:open')).toBe(0);
    expect(await shadowAdmin.exists('planted:open')).toBe(0);
  });
});

import { Command, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { ORIGIN_USER_ACL } from '../../packages/redis-shadow/src/client/origin-user-check.ts';
import { startOriginAndShadow, type OriginAndShadow } from '../support/redis-server.ts';
import { commandStats, grown } from '../support/redis-oracles.ts';

// Attacks on what the gate judges: who a connection is (AUTH, HELLO), and whether what it judged is
// what goes out. Private origin and shadow; the oracles are the servers' own (CLIENT LIST's user=,
// INFO commandstats, MONITOR, the keys themselves).

const HOST = '127.0.0.1';

/** The users of a server's connections, but the test's own (`oracle`) and MONITOR's. */
async function connectionUsers(admin: Redis): Promise<string[]> {
  const lines = String(await admin.call('CLIENT', 'LIST')).trim().split('\n');
  return lines.filter((line) => !/ name=oracle /.test(line) && !/ cmd=monitor/.test(line)).map((line) => /\buser=(\S+)/.exec(line)?.[1] ?? '?');
}

const codeOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'ok',
    (error: Error & { code?: string }) => error.code ?? error.message,
  );

describe('re-authentication: AUTH and HELLO name only the user the mirror was given', () => {
  let servers: OriginAndShadow;

  beforeAll(async () => {
    servers = await startOriginAndShadow();
    const { originAdmin, shadowAdmin } = servers;
    await originAdmin.call('ACL', 'SETUSER', ...ORIGIN_USER_ACL.replace(/^ACL SETUSER mirror on >CHANGE-ME /, 'mirror on >mirror-pw ').split(' '));
    // A user more powerful than the checked one, on both servers (the shadow's `default` has no password at all).
    for (const admin of [originAdmin, shadowAdmin]) await admin.call('ACL', 'SETUSER', 'admin', 'on', '>admin-pw', '~*', '&*', '+@all');
    await originAdmin.set('k', 'origin value');
  });

  afterAll(() => servers.stop());

  function mirror(): ShadowRedis {
    const client = new ShadowRedis({ host: HOST, port: servers.origin.port, username: 'mirror', password: 'mirror-pw', connectionName: 'mirror' }, { shadow: servers.shadow.shadowUrl });
    client.on('error', () => undefined);
    return client;
  }

  it('every path an app has (call, sendCommand, pipeline, both transactions, HELLO) is refused; the connections stay the checked users', async () => {
    const client = mirror();
    const statsBefore = await commandStats(servers.originAdmin);
    const outcomes: Record<string, string> = {};
    try {
      await client.set('warm', 'up');
      outcomes.call = await codeOf(client.call('AUTH', 'admin', 'admin-pw'));
      outcomes.auth = await codeOf(client.auth('admin', 'admin-pw'));
      outcomes.shadowDefault = await codeOf(client.call('auth', 'default', 'anything'));
      const raw = new Command('AUTH', ['admin', 'admin-pw']);
      client.sendCommand(raw);
      outcomes.sendCommand = await codeOf(raw.promise);
      outcomes.pipeline = await codeOf(client.pipeline().auth('admin', 'admin-pw').get('k').exec().then((replies) => (replies?.[0]?.[0] ? Promise.reject(replies[0][0]) : replies)));
      // Reads only: the transaction would go to the origin.
      outcomes.multiOrigin = await codeOf(client.multi().auth('admin', 'admin-pw').get('k').exec());
      // A write in it: the transaction would go to the shadow, AUTH with it.
      outcomes.multiShadow = await codeOf(client.multi().set('k', 'mirror value').auth('default', 'anything').exec());
      await client.multi({ pipeline: false });
      outcomes.manualMulti = await codeOf(client.auth('admin', 'admin-pw'));
      await client.exec().catch(() => undefined);
      outcomes.hello = await codeOf(client.call('HELLO', '2', 'AUTH', 'admin', 'admin-pw'));
      outcomes.helloSetname = await codeOf(client.call('HELLO', '2', 'SETNAME', 'other'));
      outcomes.passwordOnly = await codeOf(client.auth('admin-pw'));
      // The configured user itself, as ioredis' own handshake sends it: still answered.
      outcomes.configured = await codeOf(client.call('AUTH', 'mirror', 'mirror-pw'));
      outcomes.helloConfigured = await codeOf(client.call('HELLO', '2', 'AUTH', 'mirror', 'mirror-pw'));
      outcomes.helloPlain = await codeOf(client.call('HELLO', '2'));
      // The refused transaction wrote nothing; the shadow connection still takes writes.
      expect(await client.get('k')).toBe('origin value');
      await client.set('k', 'mirror value');
      expect(await client.get('k')).toBe('mirror value');
      expect(await connectionUsers(servers.originAdmin)).not.toContain('admin');
      expect(await connectionUsers(servers.shadowAdmin)).toEqual(expect.arrayContaining(['mirror-shadow']));
      expect((await connectionUsers(servers.shadowAdmin)).filter((user) => user !== 'mirror-shadow')).toEqual([]);
    } finally {
      await client.close();
    }
    expect(outcomes).toEqual({
      call: 'MG_ERR_REDIS_REFUSED',
      auth: 'MG_ERR_REDIS_REFUSED',
      shadowDefault: 'MG_ERR_REDIS_REFUSED',
      sendCommand: 'MG_ERR_REDIS_REFUSED',
      pipeline: 'MG_ERR_REDIS_REFUSED',
      multiOrigin: 'MG_ERR_REDIS_REFUSED',
      multiShadow: 'MG_ERR_REDIS_REFUSED',
      manualMulti: 'MG_ERR_REDIS_REFUSED',
      hello: 'MG_ERR_REDIS_REFUSED',
      helloSetname: 'MG_ERR_REDIS_REFUSED',
      passwordOnly: 'MG_ERR_REDIS_REFUSED',
      configured: 'ok',
      helloConfigured: 'ok',
      helloPlain: 'ok',
    });
    // The origin ran AUTH and HELLO only for the handshakes and the configured user.
    const ran = grown(statsBefore, await commandStats(servers.originAdmin));
    expect(ran.filter((name) => !['auth', 'hello', 'get', 'dump', 'pexpiretime', 'multi', 'exec', 'client|list', 'client|setname', 'client|setinfo', 'info', 'select', 'quit', 'command', 'acl|whoami', 'acl|dryrun', 'function|dump'].includes(name))).toEqual([]);
    expect(await servers.originAdmin.get('k')).toBe('origin value');
  });

  it('the error says why, with a stable code', async () => {
    const client = mirror();
    try {
      await expect(client.call('AUTH', 'admin', 'admin-pw')).rejects.toMatchObject({
        code: 'MG_ERR_REDIS_REFUSED',
        message: expect.stringMatching(/AUTH would authenticate the connection as another user than the one the mirror was given and checked/),
      });
    } finally {
      await client.close();
    }
  });

  it('credentials changed in the options after construction are refused at the next handshake; duplicate() with others is refused at once', async () => {
    const client = mirror();
    try {
      expect(await client.get('k')).toBe('origin value');
      expect(() => client.duplicate({ username: 'admin', password: 'admin-pw' })).toThrow(expect.objectContaining({ code: 'MG_ERR_REDIS_REFUSED' }));
      const options = client.options as { username?: string; password?: string };
      options.username = 'admin';
      options.password = 'admin-pw';
      // ioredis reconnects with what the options say now: its handshake AUTH is judged like the app's.
      const reconnected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
      await servers.origin.dropClients();
      await reconnected;
      await codeOf(client.get('k'));
      expect(await connectionUsers(servers.originAdmin)).not.toContain('admin');
    } finally {
      client.disconnect();
    }
  });
});

import { Command, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { ORIGIN_USER_ACL } from '../../packages/redis-shadow/src/client/origin-user-check.ts';
import { startOriginAndShadow, type OriginAndShadow } from '../support/redis-server.ts';
import { commandStats, executedStats, grown } from '../support/redis-oracles.ts';
import { startModuleCommandProxy } from '../support/module-command-proxy.ts';

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

describe('a Command changed after it was handed over: what was judged is what is written', () => {
  const MIGRATE_TO = (port: number): string => `return redis.call('MIGRATE', '${HOST}', '${port}', '', 0, 5000, 'COPY', 'REPLACE', 'KEYS', KEYS[1])`;

  it('queued while the origin connects: the origin receives the judged GET and CLIENT INFO, not the SET and CLIENT KILL they became', async () => {
    const servers = await startOriginAndShadow();
    const { origin, originAdmin } = servers;
    try {
      await originAdmin.set('k', 'origin value');
      const statsBefore = await commandStats(originAdmin);
      const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: servers.shadow.shadowUrl });
      try {
        expect(client.status).not.toBe('ready');
        const get = new Command('get', ['k'], { replyEncoding: 'utf8' });
        const subcommand = Buffer.from('INFO');
        const info = new Command('client', [subcommand], { replyEncoding: 'utf8' });
        client.sendCommand(get);
        client.sendCommand(info);
        // Both wait in ioredis' offline queue, judged; app code changes them before they are written.
        get.name = 'set';
        get.args = ['k', 'changed'];
        subcommand.write('KILL');
        expect(await get.promise).toBe('origin value');
        expect(await info.promise).toMatch(/name=mirror/);
      } finally {
        await client.close();
      }
      expect(grown(statsBefore, await commandStats(originAdmin)).filter((name) => ['set', 'client|kill'].includes(name))).toEqual([]);
      expect(await originAdmin.get('k')).toBe('origin value');
    } finally {
      await servers.stop();
    }
  });

  it('resent after a reconnect: the origin receives the GET it judged, not the SET it became; one whose toWritable was replaced is refused', async () => {
    const servers = await startOriginAndShadow({ origin: { persist: true } });
    const { origin, originAdmin } = servers;
    try {
      await originAdmin.set('k', 'origin value');
      const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: servers.shadow.shadowUrl });
      client.on('error', () => undefined);
      try {
        expect(await client.get('k')).toBe('origin value');
        await origin.pause();
        const get = new Command('get', ['k'], { replyEncoding: 'utf8' });
        const rewritten = new Command('get', ['k'], { replyEncoding: 'utf8' });
        client.sendCommand(get);
        client.sendCommand(rewritten);
        // Written to the frozen origin, unanswered; changed; then the connection is lost and ioredis resends them.
        get.name = 'set';
        get.args = ['k', 'changed'];
        rewritten.toWritable = () => '*3\r\n$3\r\nset\r\n$1\r\nk\r\n$9\r\nrewritten\r\n';
        await origin.kill();
        await origin.restart();
        const refused = expect(rewritten.promise).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED', message: expect.stringMatching(/toWritable was replaced after it was judged/) });
        expect(await get.promise).toBe('origin value');
        await refused;
      } finally {
        await client.close();
      }
      // A new process: its commandstats count only what came after the restart.
      const stats = await commandStats(originAdmin);
      expect(stats.get('get')).toBeGreaterThan(0);
      expect(stats.get('set')).toBeUndefined();
      expect(await originAdmin.get('k')).toBe('origin value');
    } finally {
      await servers.stop();
    }
  });

  it('bound for the shadow, changed into AUTH while its key is copied: the shadow connection stays the confined user, a script cannot MIGRATE', async () => {
    const servers = await startOriginAndShadow();
    const { origin, shadowAdmin, originAdmin } = servers;
    try {
      await originAdmin.set('fresh', 'origin value');
      const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: servers.shadow.shadowUrl });
      try {
        // XX: a write that needs the key's copy (a plain SET replaces the key whole and is written at once).
        const set = new Command('set', ['fresh', 'mirror value', 'XX'], { replyEncoding: 'utf8' });
        client.sendCommand(set);
        // The first write waits for its key's copy: app code changes it meanwhile (the shadow's `default` user has no password).
        set.name = 'auth';
        set.args = ['default', 'anything'];
        expect(await set.promise).toBe('OK');
        expect(await shadowAdmin.get('fresh')).toBe('mirror value');
        // Its writer replaced instead: not written at all.
        await originAdmin.set('other', 'origin value');
        const rewritten = new Command('set', ['other', 'mirror value', 'XX'], { replyEncoding: 'utf8' });
        client.sendCommand(rewritten);
        rewritten.toWritable = () => '*3\r\n$4\r\nauth\r\n$7\r\ndefault\r\n$8\r\nanything\r\n';
        await expect(rewritten.promise).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED', message: expect.stringMatching(/toWritable was replaced after it was judged/) });
        expect((await connectionUsers(shadowAdmin)).filter((user) => user !== 'mirror-shadow')).toEqual([]);
        await expect(client.eval(MIGRATE_TO(origin.port), 1, 'fresh')).rejects.toThrow(/NOPERM|no permissions|can't run this command/);
      } finally {
        await client.close();
      }
      expect(await originAdmin.get('fresh')).toBe('origin value');
    } finally {
      await servers.stop();
    }
  });

  it('bound for the memory engine: it runs the words judged, not the ones the command was given afterwards', async () => {
    const servers = await startOriginAndShadow();
    try {
      await servers.originAdmin.set('fresh', 'origin value');
      const client = new ShadowRedis({ host: HOST, port: servers.origin.port }, { shadow: 'memory' });
      try {
        const value = Buffer.from('mirror value');
        const set = new Command('set', ['fresh', value], { replyEncoding: 'utf8' });
        client.sendCommand(set);
        value.write('changed value');
        set.args = ['other', 'changed'];
        expect(await set.promise).toBe('OK');
        expect(await client.mget('fresh', 'other')).toEqual(['mirror value', null]);
      } finally {
        await client.close();
      }
    } finally {
      await servers.stop();
    }
  });

  it('a Command is judged once: handed over again, it is refused; ioredis\' scripts (EVALSHA that writes EVAL) still run', async () => {
    const servers = await startOriginAndShadow();
    try {
      await servers.originAdmin.set('k', 'origin value');
      const client = new ShadowRedis({ host: HOST, port: servers.origin.port }, { shadow: servers.shadow.shadowUrl });
      try {
        const set = new Command('set', ['k', 'mirror value'], { replyEncoding: 'utf8' });
        client.sendCommand(set);
        expect(await set.promise).toBe('OK');
        set.args = ['k', 'sent again'];
        client.sendCommand(set);
        expect(await client.get('k')).toBe('mirror value');
        expect((await executedStats(servers.shadowAdmin)).get('set')).toBe(1);
        client.defineCommand('peek', { numberOfKeys: 1, lua: "return redis.call('GET', KEYS[1])" });
        expect(await (client as unknown as { peek(key: string): Promise<string> }).peek('k')).toBe('mirror value');
        const second = new Command('incr', ['n']);
        client.sendCommand(second);
        const twice = new Command('incr', ['n']);
        // Writes what it says, but its toWritable cannot be pinned: refused, not sent unpinned.
        Object.defineProperty(twice, 'toWritable', { value: () => '*2\r\n$4\r\nincr\r\n$1\r\nn\r\n' });
        client.sendCommand(twice);
        const refused = expect(twice.promise).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED', message: expect.stringMatching(/judged and sent once/) });
        expect(await second.promise).toBe(1);
        await refused;
      } finally {
        await client.close();
      }
    } finally {
      await servers.stop();
    }
  });
});

describe('the shadow\'s user is checked again each time a shadow connection is ready', () => {
  const MIGRATE_TO_ORIGIN = "return redis.call('MIGRATE', ARGV[1], ARGV[2], '', 0, 5000, 'COPY', 'REPLACE', 'KEYS', KEYS[1])";

  it('an ACL loosened between two connects is caught: nothing more is written to the shadow, a script cannot MIGRATE into the origin', async () => {
    const servers = await startOriginAndShadow();
    const { origin, shadow, originAdmin, shadowAdmin } = servers;
    try {
      const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: shadow.shadowUrl });
      client.on('error', () => undefined);
      try {
        expect(await client.set('planted', 'by the mirror')).toBe('OK');
        await shadowAdmin.call('ACL', 'SETUSER', shadow.shadowUser.username, '+migrate');
        await shadow.dropClients();
        const before = await executedStats(shadowAdmin);
        await expect(client.set('after', 'x')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED', message: expect.stringMatching(/MIGRATE/) });
        await expect(client.eval(MIGRATE_TO_ORIGIN, 1, 'planted', HOST, String(origin.port))).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED' });
        expect(await client.get('k').catch(() => 'refused')).toBeNull();
        // The shadow ran the check (ACL, COMMAND, INFO) and the handshakes, nothing of the app's.
        const ran = grown(before, await executedStats(shadowAdmin));
        expect(ran.filter((name) => !/^(acl\||command|info|select|client\||auth|hello|ping)/.test(name))).toEqual([]);
      } finally {
        await client.close();
      }
      expect(await originAdmin.exists('planted')).toBe(0);
      expect(await shadowAdmin.exists('after')).toBe(0);
    } finally {
      await servers.stop();
    }
  });

  it('a check that passes again lets the held commands out, in order; the shadow was asked again', async () => {
    const servers = await startOriginAndShadow();
    const { origin, shadow, shadowAdmin } = servers;
    try {
      const client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: shadow.shadowUrl });
      client.on('error', () => undefined);
      try {
        expect(await client.incr('n')).toBe(1);
        const before = (await executedStats(shadowAdmin)).get('acl|dryrun') ?? 0;
        await shadow.dropClients();
        expect(await Promise.all([client.incr('n'), client.incr('n'), client.get('n')])).toEqual([2, 3, '3']);
        expect((await executedStats(shadowAdmin)).get('acl|dryrun')).toBeGreaterThan(before);
      } finally {
        await client.close();
      }
    } finally {
      await servers.stop();
    }
  });
});

describe('commands of modules: the shadow check does not go by their categories', () => {
  // No module is installed on this machine: a RESP proxy in front of the real shadow adds one
  // module command (test/support/module-command-proxy.ts), filed under @write @slow — neither
  // @admin nor @dangerous — and answers ACL DRYRUN of it as the test says.
  it('a module command the shadow user may run refuses the shadow; denied to it, the shadow is used', async () => {
    const servers = await startOriginAndShadow();
    const { origin, shadow, shadowAdmin } = servers;
    const proxy = await startModuleCommandProxy(shadow, 'mgfake.reach', ['write', 'slow']);
    const shadowUrl = `redis://${shadow.shadowUser.username}:${shadow.shadowUser.password}@127.0.0.1:${proxy.port}`;
    try {
      proxy.allowed = (user) => user === shadow.shadowUser.username;
      const open = new ShadowRedis({ host: HOST, port: origin.port }, { shadow: shadowUrl });
      open.on('error', () => undefined);
      try {
        await expect(open.set('through-proxy', 'v')).rejects.toMatchObject({
          code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED',
          message: expect.stringMatching(/can run 1 commands of modules, which the mirror cannot judge \(deny them: -mgfake\.reach\)/),
        });
      } finally {
        await open.close();
      }
      expect(await shadowAdmin.exists('through-proxy')).toBe(0);
      proxy.allowed = () => false;
      const denied = new ShadowRedis({ host: HOST, port: origin.port }, { shadow: shadowUrl });
      try {
        expect(await denied.set('through-proxy', 'v')).toBe('OK');
      } finally {
        await denied.close();
      }
      expect(await shadowAdmin.get('through-proxy')).toBe('v');
    } finally {
      await proxy.close();
      await servers.stop();
    }
  });
});

import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createJournal, memorySink, type MemorySink } from '@mirrorguard/core';
import { ORIGIN_USER_ACL } from '../../packages/redis-shadow/src/client/origin-user-check.ts';
import { ShadowRedis2, type ShadowRedis2Options } from '../../packages/redis-shadow/src/connector/shadow-connector.ts';
import { commandStats, grown, monitorServer } from '../support/redis-oracles.ts';
import { startOriginAndShadow, type OriginAndShadow } from '../support/redis-server.ts';

// The connector prototype (packages/redis-shadow/src/connector) keeps ShadowRedis' guarantees
// (sandbox.test.ts, shadow-redis.test.ts): the shadow's user is sandboxed and the shadow is not
// the origin, checked on every connect before any app command goes on; the origin's user is asked
// what it could write; refusals, suppressed PUBLISH and shadowed writes are journaled. Private
// origin and shadow servers; the origin's INFO commandstats and its keys, the shadow's MONITOR, are
// the oracles.

const HOST = '127.0.0.1';
const ANY = 'return redis.pcall(unpack(ARGV))';

/** What a mirror may run on the origin: reads, copies, the handshake, the check of its user and of the run_id. */
const ORIGIN_MAY_RUN = new Set(['acl|whoami', 'acl|dryrun', 'auth', 'info', 'get', 'dump', 'pexpiretime', 'multi', 'exec', 'select', 'client|setinfo', 'client|setname', 'ping']);
/** The test's own commands on the origin: the oracle's reads, the users it sets up. */
const TEST_OWN = new Set(['info', 'keys', 'get', 'exists', 'select', 'acl|setuser', 'acl|deluser']);

describe('ShadowRedis2 checks the shadow and the origin, and journals (connector-checks.ts, connector-journal.ts)', () => {
  let servers: OriginAndShadow;
  const clients: ShadowRedis2[] = [];
  let originStats: Map<string, number>;

  const open = (shadow: ShadowRedis2Options['shadow'], options: Omit<ShadowRedis2Options, 'shadow'> = {}, origin: Record<string, unknown> = {}): ShadowRedis2 => {
    const client = new ShadowRedis2({ host: HOST, port: servers.origin.port, connectionName: 'mirror', ...origin }, { shadow, ...options });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const sandboxed = (): ShadowRedis2Options['shadow'] => ({ host: HOST, port: servers.shadow.port, ...servers.shadow.shadowUser });
  const journaled = (sink: MemorySink): Pick<ShadowRedis2Options, 'journal'> => ({ journal: createJournal({ profile: 'mirror', sinks: [sink] }) });

  beforeAll(async () => {
    servers = await startOriginAndShadow();
  });

  beforeEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.quit().catch(() => client.disconnect())));
    await servers.originAdmin.flushall();
    await servers.shadowAdmin.flushall();
    await servers.originAdmin.set('origin:key', 'origin value');
    originStats = await commandStats(servers.originAdmin);
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.quit().catch(() => client.disconnect())));
    await servers?.stop();
  });

  /** The origin ran nothing but what a mirror may, and its keys are as set up (the oracle's own reads aside). */
  async function originUntouched(): Promise<void> {
    const ran = grown(originStats, await commandStats(servers.originAdmin));
    expect(ran.filter((name) => !ORIGIN_MAY_RUN.has(name) && !TEST_OWN.has(name))).toEqual([]);
    expect(await servers.originAdmin.keys('*')).toEqual(['origin:key']);
    expect(await servers.originAdmin.get('origin:key')).toBe('origin value');
  }

  it("refuses a shadow whose user can reach beyond it: every command bound for it fails MG_ERR_REDIS_SHADOW_NOT_SANDBOXED, naming the ACL SETUSER line; nothing is sent; reads go on", async () => {
    const monitor = await monitorServer(servers.shadow.url);
    const users: Array<[string, string]> = [
      ['default', ''],
      // Confined but for MIGRATE on some keys: a dry run refused a key only still runs the command on others.
      ['keyed', 'on >pw ~sweep:* &* +@all -@admin -@dangerous +keys +sort +sort_ro +flushdb +flushall +restore +info +acl|dryrun +migrate'],
      // Cannot be asked: fail closed.
      ['mute', 'on >pw ~* &* +@all -@admin -@dangerous +info'],
    ];
    const sink = memorySink();
    try {
      for (const [user, acl] of users) {
        if (acl !== '') await servers.shadowAdmin.call('ACL', 'SETUSER', user, ...acl.split(' '));
        const client = open({ host: HOST, port: servers.shadow.port, ...(user !== 'default' && { username: user, password: 'pw' }) }, journaled(sink));
        const refusal = client.set('sweep:new', 'v');
        await expect(refusal, user).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED' });
        await expect(refusal).rejects.toThrow(/ACL SETUSER mirror-shadow on >\S+ ~\* &\* \+@all -@admin -@dangerous/);
        await expect(client.shadowChecked).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED' });
        await expect(client.eval(ANY, 1, 'sweep:key', 'MIGRATE', HOST, String(servers.origin.port), 'sweep:key', '0', '5000', 'COPY', 'REPLACE')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED' });
        await expect(client.multi().incr('origin:key').exec()).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED' });
        // Reads of untouched keys still see the origin.
        expect(await client.get('origin:key')).toBe('origin value');
        await client.quit();
      }
      await monitor.caughtUp(servers.shadowAdmin);
      const sent = monitor.received.filter(({ args }) => !args.some((arg) => arg.startsWith('fence-'))).map(({ args }) => args[0]!.toLowerCase());
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.filter((name) => !['auth', 'hello', 'quit', 'info', 'acl', 'command', 'select'].includes(name))).toEqual([]);
    } finally {
      monitor.stop();
      for (const [user, acl] of users) if (acl !== '') await servers.shadowAdmin.call('ACL', 'DELUSER', user);
    }
    expect(await servers.shadowAdmin.dbsize()).toBe(0);
    // Each refused write is journaled, with the refusal.
    expect(sink.events().filter((event) => event.action === 'blocked' && event.operation === 'set sweep:new v' && /can run|could not be checked/.test(event.reason ?? ''))).toHaveLength(3);
    expect(sink.events().filter((event) => event.action === 'shadowed')).toEqual([]);
    await originUntouched();
  });

  it("with unsandboxedShadow: 'warn' it journals one warning (not one per connect) and runs", async () => {
    const sink = memorySink();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const client = open({ host: HOST, port: servers.shadow.port }, { unsandboxedShadow: 'warn', ...journaled(sink) });
      await client.shadowChecked;
      expect(await client.incr('origin:counter')).toBe(1);
      // Reconnected: checked again, warned about once.
      client.disconnect(true);
      await once(client, 'ready');
      expect(await client.incr('origin:counter')).toBe(2);
    } finally {
      process.off('warning', onWarning);
    }
    expect(sink.events().filter((event) => event.action === 'warned' && /the shadow's user "default" can run \d+ commands/.test(event.reason ?? ''))).toHaveLength(1);
    expect(warnings.map((warning) => (warning as Error & { code?: string }).code)).toContain('MG_ERR_REDIS_SHADOW_NOT_SANDBOXED');
    expect(await servers.shadowAdmin.get('origin:counter')).toBe('2');
    await originUntouched();
  });

  it('checks the shadow again on every reconnect: a user loosened in between is refused from then on', async () => {
    const client = open(sandboxed());
    expect(await client.set('before', '1')).toBe('OK');
    await client.shadowChecked;
    const { username } = servers.shadow.shadowUser;
    await servers.shadowAdmin.call('ACL', 'SETUSER', username, '+migrate');
    try {
      client.disconnect(true);
      await once(client, 'ready');
      await expect(client.set('after', '1')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED', message: expect.stringMatching(/MIGRATE/) });
      // For good, as in ShadowRedis: tightened again, the connector still refuses.
      await servers.shadowAdmin.call('ACL', 'SETUSER', username, '-migrate');
      client.disconnect(true);
      await once(client, 'ready');
      await expect(client.set('after', '2')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED' });
    } finally {
      await servers.shadowAdmin.call('ACL', 'SETUSER', username, '-migrate');
    }
    expect(await servers.shadowAdmin.exists('before', 'after')).toBe(1);
    await originUntouched();
  });

  it("refuses a shadow that is the origin's own server (its run_id), directly or behind a proxy; reads go on", async () => {
    const proxy: Server = createServer((socket) => {
      const upstream = connect(servers.origin.port, HOST);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, HOST, resolve));
    try {
      for (const shadow of [{ host: HOST, port: servers.origin.port, db: 5 }, { host: HOST, port: (proxy.address() as AddressInfo).port, db: 5 }]) {
        const sink = memorySink();
        const disguised = open(shadow, journaled(sink));
        await expect(disguised.set('via-proxy', '1'), String(shadow.port)).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_IS_ORIGIN' });
        await expect(disguised.incr('origin:key')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_IS_ORIGIN' });
        await expect(disguised.shadowChecked).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_IS_ORIGIN' });
        expect(await disguised.get('origin:key')).toBe('origin value');
        expect(sink.events().filter((event) => event.action === 'blocked').map((event) => event.operation)).toEqual(['set via-proxy 1', 'incr origin:key']);
        await disguised.quit();
      }
    } finally {
      proxy.close();
    }
    for (const db of [0, 5]) {
      await servers.originAdmin.select(db);
      expect(await servers.originAdmin.exists('via-proxy'), `db ${db}`).toBe(0);
    }
    await servers.originAdmin.select(0);
    await originUntouched();
  });

  it("asks the origin's user what it could write, as the configured user: the README's user gives no warning, the default user one", async () => {
    await servers.originAdmin.call('ACL', 'SETUSER', ...ORIGIN_USER_ACL.replace(/^ACL SETUSER mirror on >CHANGE-ME /, 'mirror on >mirror-pw ').split(' '));
    try {
      const quiet = memorySink();
      const restricted = open(sandboxed(), journaled(quiet), { username: 'mirror', password: 'mirror-pw' });
      const loud = memorySink();
      const powerful = open(sandboxed(), journaled(loud));
      expect(await restricted.get('origin:key')).toBe('origin value');
      expect(await restricted.append('origin:key', '!')).toBe(13);
      expect(await Promise.all([restricted.originUserChecked, powerful.originUserChecked])).toEqual([undefined, expect.stringContaining('the origin user "default" can write')]);
      expect(quiet.events().filter((event) => event.action === 'warned')).toEqual([]);
      expect(loud.events().filter((event) => event.action === 'warned')).toMatchObject([
        { dependency: 'redis', reason: expect.stringMatching(/the origin user "default" can write and can run [1-9]\d* commands off the origin's allow-list/) },
      ]);
      expect(await servers.shadowAdmin.get('origin:key')).toBe('origin value!');
      await Promise.all([restricted.quit(), powerful.quit()]);
    } finally {
      await servers.originAdmin.call('ACL', 'DELUSER', 'mirror');
    }
    await originUntouched();
  });

  it('journals as ShadowRedis does: shadowed writes (in a transaction too), suppressed PUBLISH and refusals as blocked; reads not at all', async () => {
    const sink = memorySink();
    const client = open(sandboxed(), journaled(sink));
    expect(await client.get('origin:key')).toBe('origin value');
    expect(await client.append('origin:key', '+')).toBe(13);
    expect(await client.get('origin:key')).toBe('origin value+');
    expect(await client.publish('news', 'hello')).toBe(0);
    await expect(client.config('SET', 'maxmemory', '1')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED' });
    expect(await client.multi().set('t:1', 'a').get('t:1').exec()).toEqual([[null, 'OK'], [null, 'a']]);
    // The origin's default user can write: its warning aside (tested above).
    const events = sink.events().filter((event) => event.action !== 'warned').map(({ action, operation, reason }) => ({ action, operation, reason }));
    expect(events).toEqual([
      { action: 'shadowed', operation: 'append origin:key +', reason: 'write applied to the shadow' },
      { action: 'blocked', operation: 'publish news hello', reason: expect.stringMatching(/PUBLISH would reach the origin's subscribers/) },
      { action: 'blocked', operation: 'config SET maxmemory 1', reason: expect.any(String) },
      { action: 'shadowed', operation: 'set t:1 a', reason: 'transaction applied to the shadow' },
    ]);
    await originUntouched();
  });

  it('describes no shadowed write while the journal is unobserved (refusals are recorded still)', async () => {
    const journal = createJournal({ profile: 'mirror' });
    const record = vi.spyOn(journal, 'record');
    const client = open(sandboxed(), { journal });
    expect(await client.set('quiet', '1')).toBe('OK');
    expect(await client.publish('news', 'hello')).toBe(0);
    expect(record.mock.calls.map(([entry]) => entry.action)).toEqual(['warned', 'blocked']);
    await originUntouched();
  });
});

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJournal, memorySink } from '@mirrorguard/core';
import { loadCommandTable, type CommandSpec, type CommandTable } from '../../packages/redis-shadow/src/commands/command-table.ts';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { commandsOutsideSandbox, dryRunProbes, SANDBOX_ALLOWANCES } from '../../packages/redis-shadow/src/client/shadow-user-check.ts';
import { ORIGIN_USER_ACL } from '../../packages/redis-shadow/src/client/origin-user-check.ts';
import { ShadowSession } from '../../packages/redis-shadow/src/client/shadow-session.ts';
import { createMemoryEngine } from '../../packages/redis-shadow/src/memory/families.ts';
import { MemoryRedis } from '../../packages/redis-shadow/src/memory/memory-redis.ts';
import { startOriginAndShadow, type OriginAndShadow } from '../support/redis-server.ts';
import { commandStats, executedStats, fingerprint, grown, monitorServer, scriptsCached, strangers, type ServerFingerprint } from '../support/redis-oracles.ts';

// Issue 12, sections 7 and 8, generatively: every command of the origin's own COMMAND table (each
// subcommand too) is sent through ShadowRedis — as the app would send it, and from inside every
// script and function form on the shadow — twice: with filler arguments, and aimed at the origin
// (its host and port, a key the shadow holds: MIGRATE … COPY REPLACE, REPLICAOF, CLUSTER MEET).
// Origin and shadow are private servers. The oracles are the servers' own: the origin's data, dirty
// counter, configuration, role, users, functions, script cache, SLOWLOG and LATENCY unchanged;
// INFO commandstats on the origin grown only for harmless reads; MONITOR on the origin shows no
// script; CLIENT LIST on the origin shows no connection but the mirror's and the test's; the
// shadow's configuration, role, users and replicas unchanged.

const HOST = '127.0.0.1';

/** Commands that change the client's own connection (subscriber mode, transaction state, closing it): covered by their own tests, not by the sweep. */
const CONNECTION_STATE = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'monitor', 'quit', 'reset', 'multi', 'exec', 'discard', 'watch', 'unwatch']);
/** Last in a sweep: they hide the origin's keys from the mirror from then on (the rest of the sweep would reach the origin less). */
const LAST = new Set(['flushall', 'flushdb', 'swapdb']);

/** What the origin may run for a mirror, as the test reads the origin's table: reads that are not scripts, and commands that change nothing. */
function harmlessOnOrigin(table: CommandTable, name: string): boolean {
  const [command, sub] = name.split('|');
  const spec = sub === undefined ? table.get(command!) : table.get(command!)?.subcommands.get(sub);
  if (spec === undefined) return false;
  if (spec.flags.has('readonly') && !spec.flags.has('write') && !spec.flags.has('admin') && !spec.categories.has('scripting') && name !== 'pfcount') return true;
  // The handshake, connection and transaction commands; ACL WHOAMI and ACL DRYRUN (executes nothing) are the guard's own check of
  // its user, FUNCTION DUMP its copy of the origin's function libraries into the shadow.
  return ['auth', 'hello', 'select', 'ping', 'echo', 'info', 'time', 'lastsave', 'command', 'command|count', 'command|docs', 'command|getkeys', 'command|getkeysandflags', 'command|info', 'command|list',
    'client|setname', 'client|getname', 'client|id', 'client|info', 'readonly', 'readwrite', 'multi', 'exec', 'discard', 'quit', 'acl|whoami', 'acl|dryrun', 'function|dump'].includes(name);
}

/** Every command the table describes, subcommands in place of their containers. */
function leaves(table: CommandTable): CommandSpec[] {
  const specs: CommandSpec[] = [];
  for (const name of table.names()) {
    const spec = table.get(name)!;
    if (spec.subcommands.size === 0) specs.push(spec);
    else specs.push(...spec.subcommands.values());
  }
  return specs.sort((a, b) => Number(LAST.has(a.name)) - Number(LAST.has(b.name)) || a.name.localeCompare(b.name));
}

/** Two argument vectors for a command: filler, and aimed at the origin (host, port, a key, db 0, timeout, COPY REPLACE). */
function argvs(spec: CommandSpec, port: number, key: string): string[][] {
  const words = spec.name.split('|');
  const length = Math.max(Math.abs(spec.arity), words.length);
  const filler = [...words, ...Array.from({ length: length - words.length }, () => 'x')];
  const aim = [HOST, String(port), key, '0', '5000', 'COPY', 'REPLACE'];
  const wanted = spec.arity > 0 ? length - words.length : Math.max(length - words.length, aim.length);
  const aimed = [...words, ...Array.from({ length: wanted }, (_, index) => aim[index] ?? 'x')];
  // Aimed, a blocking command would wait the origin's port number of seconds.
  return spec.flags.has('blocking') ? [filler] : [filler, aimed];
}

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');
const ANY = 'return redis.pcall(unpack(ARGV))';
const LIBRARY = `#!lua name=mgsweep
redis.register_function('anything', function(keys, args) return redis.pcall(unpack(args)) end)
redis.register_function{function_name='anything_ro', callback=function(keys, args) return redis.pcall(unpack(args)) end, flags={'no-writes'}}`;

interface Servers extends OriginAndShadow {
  readonly table: CommandTable;
}

async function startServers(): Promise<Servers> {
  // Every command goes to the SLOWLOG (a SLOWLOG RESET would shorten it); DEBUG SLEEP makes a LATENCY event (a LATENCY RESET would clear it).
  const observed = ['--slowlog-log-slower-than', '0', '--slowlog-max-len', '1000000', '--latency-monitor-threshold', '1', '--enable-debug-command', 'yes'];
  const servers = await startOriginAndShadow({ origin: { args: observed }, shadow: { args: observed } });
  const { originAdmin, shadowAdmin } = servers;
  for (const admin of [originAdmin, shadowAdmin]) await admin.call('DEBUG', 'SLEEP', '0.01');
  for (const db of [0, 3]) {
    await originAdmin.select(db);
    await originAdmin.mset('sweep:key', 'origin value', 's:1', 'one', 'x', 'filler');
    await originAdmin.rpush('l:1', 'a', 'b');
    await originAdmin.hset('h:1', 'f', 'v');
    await originAdmin.zadd('z:1', 1, 'a');
    await originAdmin.sadd('set:1', 'a');
    await originAdmin.xadd('x:1', '1-1', 'f', 'v');
  }
  await originAdmin.select(0);
  return { ...servers, table: await loadCommandTable(originAdmin) };
}

async function stopServers(servers: Servers | undefined): Promise<void> {
  await servers?.stop();
}

/** The outcome of a command: ok, its error code, or the server's error's first word. */
const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'ok',
    (error: Error & { code?: string }) => error.code ?? error.message.split(' ')[0]!,
  );

/** The origin's oracles, read before a sweep and checked after it. */
async function originOracles(servers: Servers): Promise<{ check(shas: readonly string[]): Promise<void> }> {
  const monitor = await monitorServer(servers.origin.url);
  const before: ServerFingerprint = await fingerprint(servers.originAdmin);
  const statsBefore = await commandStats(servers.originAdmin);
  return {
    async check(shas) {
      await monitor.caughtUp(servers.originAdmin);
      monitor.stop();
      // Read before the oracles' own admin commands.
      const ran = grown(statsBefore, await commandStats(servers.originAdmin));
      const after = await fingerprint(servers.originAdmin);
      expect({ ...after, slowlogLength: 0, latencyEvents: [] }).toEqual({ ...before, slowlogLength: 0, latencyEvents: [] });
      expect(after.slowlogLength).toBeGreaterThanOrEqual(before.slowlogLength);
      expect(after.latencyEvents).toEqual(expect.arrayContaining([...before.latencyEvents]));
      expect(before.latencyEvents.length).toBeGreaterThan(0);
      expect(ran.filter((name) => !harmlessOnOrigin(servers.table, name))).toEqual([]);
      expect(monitor.received.filter(({ source }) => source.startsWith('lua'))).toEqual([]);
      expect(await scriptsCached(servers.originAdmin, shas)).toBe(false);
      expect(await strangers(servers.originAdmin, ['mirror', 'oracle'])).toEqual([]);
    },
  };
}

async function shadowOracles(servers: Servers): Promise<{ check(): Promise<void> }> {
  const before = await fingerprint(servers.shadowAdmin);
  const executedBefore = await executedStats(servers.shadowAdmin);
  return {
    async check() {
      // Executed on the shadow (a NOPERM refusal is not), read before the oracles' own admin commands:
      // no @admin or @dangerous command but the sandbox allowances, from the app or from a script.
      const executed = grown(executedBefore, await executedStats(servers.shadowAdmin));
      expect(executed.filter((name) => {
        const [command, sub] = name.split('|');
        const spec = sub === undefined ? servers.table.get(command!) : servers.table.get(command!)?.subcommands.get(sub);
        return spec === undefined || ((spec.categories.has('admin') || spec.categories.has('dangerous')) && !SANDBOX_ALLOWANCES.has(name));
      })).toEqual([]);
      const after = await fingerprint(servers.shadowAdmin);
      expect({ config: after.config, role: after.role, acl: after.acl, replicas: after.replicas }).toEqual({ config: before.config, role: before.role, acl: before.acl, replicas: before.replicas });
      expect(after.slowlogLength).toBeGreaterThanOrEqual(before.slowlogLength);
      expect(after.latencyEvents).toEqual(expect.arrayContaining([...before.latencyEvents]));
    },
  };
}

function mirrorOf(servers: Servers, shadow: 'redis' | 'memory', sink = memorySink({ limit: 100_000 })): ShadowRedis {
  const client = new ShadowRedis(
    { host: HOST, port: servers.origin.port, connectionName: 'mirror' },
    { shadow: shadow === 'memory' ? 'memory' : { host: HOST, port: servers.shadow.port, ...servers.shadow.shadowUser, connectionName: 'mirror' }, journal: createJournal({ profile: 'mirror', sinks: [sink] }) },
  );
  client.on('error', () => undefined);
  return client;
}

describe.each(['redis', 'memory'] as const)('every command of the COMMAND table through ShadowRedis, with a %s shadow', (shadowKind) => {
  let servers: Servers;
  beforeAll(async () => {
    servers = await startServers();
  }, 60_000);
  afterAll(() => stopServers(servers));

  it('sent by the app: the origin runs only harmless reads and no script, and no server changes role or configuration', async () => {
    const origin = await originOracles(servers);
    const shadow = await shadowOracles(servers);
    const client = mirrorOf(servers, shadowKind);
    const outcomes = new Map<string, string>();
    try {
      const sweep = leaves(servers.table).filter((spec) => !CONNECTION_STATE.has(spec.name)).flatMap((spec) => argvs(spec, servers.origin.port, 's:1'));
      // Once as one pipeline (every path through a pipeline's stream), then command by command.
      const pipelined = await client.pipeline(sweep.filter((argv) => !LAST.has(argv[0]!)).map((argv) => argv.slice())).exec();
      expect(pipelined).toHaveLength(sweep.filter((argv) => !LAST.has(argv[0]!)).length);
      for (const argv of sweep) outcomes.set(argv.join(' '), await outcome(client.call(argv[0]!, ...argv.slice(1))));
    } finally {
      await client.close();
    }
    await origin.check([sha1('x'), sha1(HOST)]);
    await shadow.check();
    expect(outcomes.size).toBeGreaterThan(300);
    // Each script form ran on the shadow (a real one answers; the memory engine refuses them), never on the origin.
    for (const name of ['eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'fcall', 'fcall_ro']) {
      const result = outcomes.get(`${name} x x`);
      // The shadow's own reply (ERR numkeys, NOSCRIPT): it ran there.
      if (shadowKind === 'memory') expect(result, name).toBe('MG_ERR_REDIS_UNSUPPORTED');
      else expect(['ERR', 'NOSCRIPT'], name).toContain(result);
    }
  });

  it('the origin\'s gate holds on its own: with routing fooled into sending every command to the origin, only harmless reads arrive', async () => {
    const origin = await originOracles(servers);
    const fooled = vi.spyOn(ShadowSession.prototype, 'isPlainRead').mockReturnValue(true);
    const sink = memorySink({ limit: 100_000 });
    const client = mirrorOf(servers, shadowKind, sink);
    const refused: string[] = [];
    try {
      for (const spec of leaves(servers.table)) {
        if (CONNECTION_STATE.has(spec.name)) continue;
        for (const argv of argvs(spec, servers.origin.port, 's:1')) if ((await outcome(client.call(argv[0]!, ...argv.slice(1)))) === 'MG_ERR_REDIS_REFUSED') refused.push(spec.name);
      }
    } finally {
      fooled.mockRestore();
      await client.close();
    }
    await origin.check([sha1('x'), sha1(HOST)]);
    expect(refused).toEqual(expect.arrayContaining(['eval_ro', 'evalsha_ro', 'fcall_ro', 'set', 'migrate', 'script|load', 'memory|purge', 'slowlog|reset']));
    expect(sink.events().some((event) => event.action === 'blocked' && /EVAL_RO is not on the origin's allow-list/.test(event.reason ?? ''))).toBe(true);
  });

  it('from inside every script and function form on the shadow: nothing reaches the origin, no server changes role or configuration', async () => {
    const origin = await originOracles(servers);
    const shadow = await shadowOracles(servers);
    const client = mirrorOf(servers, shadowKind);
    const outcomes: string[] = [];
    try {
      const loaded = await outcome(client.call('FUNCTION', 'LOAD', 'REPLACE', LIBRARY));
      expect(loaded).toBe(shadowKind === 'memory' ? 'MG_ERR_REDIS_UNSUPPORTED' : 'ok');
      for (const spec of leaves(servers.table)) {
        for (const argv of argvs(spec, servers.origin.port, 'sweep:key')) {
          // The declared key is copied to the shadow first, so MIGRATE would have a key to send.
          outcomes.push(
            await outcome(client.eval(ANY, 1, 'sweep:key', ...argv)),
            await outcome(client.eval_ro(ANY, 1, 'sweep:key', ...argv)),
            await outcome(client.fcall('anything', 1, 'sweep:key', ...argv)),
            await outcome(client.fcall_ro('anything_ro', 1, 'sweep:key', ...argv)),
          );
        }
      }
    } finally {
      await client.close();
    }
    await origin.check([sha1(ANY)]);
    await shadow.check();
    if (shadowKind === 'memory') expect(new Set(outcomes)).toEqual(new Set(['MG_ERR_REDIS_UNSUPPORTED']));
    else expect(outcomes.filter((result) => result === 'ok').length).toBeGreaterThan(300);
  });
});

describe('the shadow\'s user is checked at start-up (ACL DRYRUN)', () => {
  let servers: Servers;
  beforeAll(async () => {
    servers = await startServers();
  }, 60_000);
  afterAll(() => stopServers(servers));

  it('asks about every @admin and @dangerous command but the allowances: the README\'s user may run none, the default user all', async () => {
    const probes = commandsOutsideSandbox(await loadCommandTable(servers.shadowAdmin));
    expect(probes.length).toBeGreaterThan(60);
    for (const name of ['migrate', 'replicaof', 'slaveof', 'cluster meet', 'cluster failover', 'cluster setslot', 'failover', 'config set', 'debug', 'module load', 'client kill', 'client pause', 'shutdown', 'slowlog reset', 'latency reset', 'save', 'bgsave', 'monitor']) {
      expect(probes.map((argv) => argv.slice(0, name.split(' ').length).join(' ')), name).toContain(name);
    }
    const dryRun = (user: string): Promise<string[]> => Promise.all(probes.map((argv) => servers.shadowAdmin.call('ACL', 'DRYRUN', user, ...argv).then(String)));
    expect((await dryRun(servers.shadow.shadowUser.username)).filter((reply) => !/no permissions to run the '/.test(reply))).toEqual([]);
    expect((await dryRun('default')).filter((reply) => reply !== 'OK')).toEqual([]);
  });

  it('refuses a shadow whose user can reach beyond it: every write fails with MG_ERR_REDIS_SHADOW_NOT_SANDBOXED, naming the ACL SETUSER line; nothing is sent', async () => {
    const monitor = await monitorServer(servers.shadow.url);
    const users: Array<[string, string]> = [
      ['default', ''],
      // Confined but for MIGRATE, on some keys only: a dry run refused a key only still runs the command on others.
      ['keyed', 'on >pw ~sweep:* &* +@all -@admin -@dangerous +keys +sort +sort_ro +flushdb +flushall +restore +info +acl|dryrun +migrate'],
      // Cannot be asked: fail closed.
      ['mute', 'on >pw ~* &* +@all -@admin -@dangerous +info'],
    ];
    try {
      for (const [user, acl] of users) {
        if (acl !== '') await servers.shadowAdmin.call('ACL', 'SETUSER', user, ...acl.split(' '));
        const client = new ShadowRedis({ host: HOST, port: servers.origin.port, connectionName: 'mirror' }, {
          shadow: { host: HOST, port: servers.shadow.port, ...(user !== 'default' && { username: user, password: 'pw' }) },
        });
        client.on('error', () => undefined);
        try {
          const refusal = client.set('sweep:new', 'v');
          await expect(refusal, user).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED' });
          await expect(refusal).rejects.toThrow(/ACL SETUSER mirror-shadow on >\S+ ~\* &\* \+@all -@admin -@dangerous/);
          await expect(client.eval(ANY, 1, 'sweep:key', 'MIGRATE', HOST, String(servers.origin.port), 'sweep:key', '0', '5000', 'COPY', 'REPLACE')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_SHADOW_NOT_SANDBOXED' });
          // Reads of untouched keys still see the origin.
          expect(await client.get('sweep:key')).toBe('origin value');
        } finally {
          await client.close();
        }
      }
      await monitor.caughtUp(servers.shadowAdmin);
      const sent = monitor.received.map(({ args }) => args[0]!.toLowerCase());
      expect(sent.filter((name) => !['auth', 'hello', 'quit', 'info', 'acl', 'command', 'select', 'client', 'echo'].includes(name))).toEqual([]);
    } finally {
      monitor.stop();
      for (const [user, acl] of users) if (acl !== '') await servers.shadowAdmin.call('ACL', 'DELUSER', user);
    }
    expect(await servers.originAdmin.exists('sweep:new')).toBe(0);
    expect(await servers.shadowAdmin.exists('sweep:new', 'sweep:key')).toBe(0);
  });

  it('with unsandboxedShadow: \'warn\' it journals a warning and runs: the shadow\'s ACL is the layer that keeps scripts in (a MIGRATE from a script then reaches the origin)', async () => {
    const sink = memorySink();
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    const client = new ShadowRedis({ host: HOST, port: servers.origin.port, connectionName: 'mirror' }, {
      shadow: { host: HOST, port: servers.shadow.port },
      unsandboxedShadow: 'warn',
      journal: createJournal({ profile: 'mirror', sinks: [sink] }),
    });
    try {
      // The client-side guard still refuses MIGRATE itself …
      await expect(client.migrate(HOST, servers.origin.port, 'sweep:key', 0, 5000, 'COPY', 'REPLACE')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED' });
      // … but a script runs with the default user's ACL on the shadow: this is the hole the confined user closes.
      await servers.originAdmin.select(5);
      expect(await client.eval(ANY, 1, 'sweep:key', 'MIGRATE', HOST, String(servers.origin.port), 'sweep:key', '5', '5000', 'COPY', 'REPLACE')).toBe('OK');
      expect(await servers.originAdmin.get('sweep:key')).toBe('origin value');
    } finally {
      await servers.originAdmin.del('sweep:key');
      await servers.originAdmin.select(0);
      process.off('warning', onWarning);
      await client.close();
    }
    expect(sink.events().filter((event) => event.action === 'warned' && /the shadow's user "default" can run \d+ commands/.test(event.reason ?? ''))).toHaveLength(1);
    expect(warnings.map((warning) => (warning as Error & { code?: string }).code)).toContain('MG_ERR_REDIS_SHADOW_NOT_SANDBOXED');
  });
});

describe('the origin\'s user is checked at start-up (ACL DRYRUN), and warned about', () => {
  let servers: Servers;
  beforeAll(async () => {
    servers = await startServers();
    await servers.originAdmin.call('ACL', 'SETUSER', ...ORIGIN_USER_ACL.replace(/^ACL SETUSER mirror on >CHANGE-ME /, 'mirror on >mirror-pw ').split(' '));
  }, 60_000);
  afterAll(() => stopServers(servers));

  it('the README\'s origin user: no warning, reads and copy-on-write work; the default user: one warning naming what it could run', async () => {
    const quiet = memorySink();
    const restricted = new ShadowRedis({ host: HOST, port: servers.origin.port, username: 'mirror', password: 'mirror-pw', connectionName: 'mirror' }, {
      shadow: servers.shadow.shadowUrl,
      journal: createJournal({ profile: 'mirror', sinks: [quiet] }),
    });
    const loud = memorySink();
    const powerful = new ShadowRedis({ host: HOST, port: servers.origin.port, connectionName: 'mirror' }, { shadow: servers.shadow.shadowUrl, journal: createJournal({ profile: 'mirror', sinks: [loud] }) });
    try {
      expect(await restricted.get('sweep:key')).toBe('origin value');
      expect(await restricted.append('sweep:key', '!')).toBe(13);
      expect(await restricted.eval_ro("return redis.call('GET', KEYS[1])", 1, 'sweep:key')).toBe('origin value!');
      await Promise.all([restricted.originUserChecked, powerful.originUserChecked]);
      expect(quiet.events().filter((event) => event.action === 'warned')).toEqual([]);
      expect(loud.events().filter((event) => event.action === 'warned')).toMatchObject([
        { reason: expect.stringMatching(/the origin user "default" can write and can run [1-9]\d* commands off the origin's allow-list \([A-Z_ ]+, .*\); give the mirror an ACL user limited to reads: ACL SETUSER mirror on/) },
      ]);
    } finally {
      await Promise.all([restricted.close(), powerful.close()]);
    }
    // The user itself, asked by the server: none of what the origin must not run.
    for (const argv of [['SET', 'k', 'v'], ['EVAL_RO', 'return 1', '0'], ['SCRIPT', 'LOAD', 'return 1'], ['SLOWLOG', 'RESET'], ['MEMORY', 'PURGE'], ['CLIENT', 'KILL', 'ID', '1'], ['CONFIG', 'SET', 'x', 'y'], ['PUBLISH', 'c', 'm'], ['PFCOUNT', 'k']]) {
      expect(String(await servers.originAdmin.call('ACL', 'DRYRUN', 'mirror', ...argv)), argv.join(' ')).toMatch(/no permissions to run/);
    }
    expect(await servers.originAdmin.get('sweep:key')).toBe('origin value');
  });
});

describe('the memory engine is its own sandbox', () => {
  it('runs no script, function, or @admin/@dangerous command of the bundled table but the sandbox allowances: every other one fails MG_ERR_REDIS_UNSUPPORTED', async () => {
    const engine = createMemoryEngine();
    const redis = new MemoryRedis({ engine });
    const escapes = commandsOutsideSandbox(engine.table);
    const scripts = ['eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'fcall', 'fcall_ro', 'script|load', 'function|load'];
    expect(escapes.length).toBeGreaterThan(60);
    for (const argv of [...escapes, ...dryRunProbes(engine.table, (spec) => scripts.includes(spec.name))]) {
      expect(engine.supports(argv[0]!.toLowerCase()) && engine.table.get(argv[0]!)!.subcommands.size === 0, argv.join(' ')).toBe(false);
      await expect(redis.call(argv[0]!, ...argv.slice(1)), argv.join(' ')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED' });
    }
    redis.disconnect();
  });
});

import { createHash } from 'node:crypto';
import { Command, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { startOriginAndShadow, type OriginAndShadow, type ThrowawayRedis } from '../support/redis-server.ts';
import { commandStats, grown, monitorServer } from '../support/redis-oracles.ts';

// Scripts never run on the origin: each way an app (or an attacker's input) can send a script or
// function, kept as a test. Private origin and shadow; MONITOR and commandstats on the origin.

const HOST = '127.0.0.1';
const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');
const READ = "return redis.call('GET', KEYS[1])";
const LIBRARY = "#!lua name=attacks\nredis.register_function{function_name='peek', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}\nredis.register_function('bump', function(keys) return redis.call('INCR', keys[1]) end)";

describe('scripts never run on the origin', () => {
  let servers: OriginAndShadow;
  let origin: ThrowawayRedis;
  let shadow: ThrowawayRedis;
  let originAdmin: Redis;
  let shadowAdmin: Redis;
  let client: ShadowRedis;
  let monitor: Awaited<ReturnType<typeof monitorServer>>;
  let statsBefore: Map<string, number>;

  beforeAll(async () => {
    // A script past 100 ms makes the shadow answer BUSY, so that SCRIPT KILL can stop it.
    servers = await startOriginAndShadow({ shadow: { args: ['--busy-reply-threshold', '100'] } });
    ({ origin, shadow, originAdmin, shadowAdmin } = servers);
  });

  afterAll(() => servers.stop());

  beforeEach(async () => {
    await originAdmin.flushall();
    await shadowAdmin.flushall();
    await shadowAdmin.function('FLUSH');
    await originAdmin.mset('k', 'origin value', 'counter', '10', 'app:k', 'prefixed');
    await originAdmin.select(3);
    await originAdmin.set('k', 'db3 value');
    await originAdmin.select(0);
    monitor = await monitorServer(origin.url);
    statsBefore = await commandStats(originAdmin);
    client = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror' }, { shadow: shadow.shadowUrl });
  });

  afterEach(async () => {
    await client.close();
    await monitor.caughtUp(originAdmin);
    monitor.stop();
    // FUNCTION DUMP is the guard's own read of the origin's libraries, copied into the shadow.
    const scripting = grown(statsBefore, await commandStats(originAdmin)).filter((name) => /^(eval|evalsha|fcall|script|function)/.test(name) && name !== 'function|dump');
    expect(scripting).toEqual([]);
    expect(monitor.received.filter(({ args, source }) => source.startsWith('lua') || (/^(eval|evalsha|fcall|script|function)/i.test(args[0] ?? '') && !/^dump$/i.test(args[1] ?? '')))).toEqual([]);
    expect(await originAdmin.call('SCRIPT', 'EXISTS', sha1(READ))).toEqual([0]);
    expect(await originAdmin.call('FUNCTION', 'LIST')).toEqual([]);
    expect(await originAdmin.mget('k', 'counter')).toEqual(['origin value', '10']);
  });

  it('EVAL_RO as the very first command runs on the shadow, over the origin\'s value copied there', async () => {
    expect(await client.eval_ro(READ, 1, 'k')).toBe('origin value');
    // The copy made for it alone is dropped after it: the key follows the origin again.
    expect(await shadowAdmin.exists('k')).toBe(0);
  });

  it('in any spelling, through call(), sendCommand with a raw Command, and a duplicate()', async () => {
    expect(await client.call('eVaL_rO', READ, '1', 'k')).toBe('origin value');
    const raw = new Command('EVAL_RO', [READ, '1', 'k'], { replyEncoding: 'utf8' });
    client.sendCommand(raw);
    expect(await raw.promise).toBe('origin value');
    const twin = client.duplicate();
    try {
      expect(await twin.call('EVALSHA_RO', sha1(READ), '1', 'k')).toBe('origin value');
    } finally {
      await twin.close();
    }
  });

  it('a Command that rewrites itself when written never reaches the origin; auto-pipelined and readOnly scripts run on the shadow', async () => {
    class Sneaky extends Command {
      override toWritable(socket: object): string | Buffer {
        this.name = 'eval_ro';
        this.args = [READ, '1', 'k'];
        return super.toWritable(socket);
      }
    }
    const sneaky = new Sneaky('get', ['k'], { replyEncoding: 'utf8' });
    client.sendCommand(sneaky);
    await expect(sneaky.promise).rejects.toMatchObject({ code: 'MG_ERR_REDIS_REFUSED' });
    const auto = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror', enableAutoPipelining: true }, { shadow: shadow.shadowUrl });
    try {
      auto.defineCommand('peekReadOnly', { numberOfKeys: 1, lua: READ, readOnly: true });
      const peek = (auto as unknown as { peekReadOnly(key: string): Promise<string> }).peekReadOnly('k');
      expect(await Promise.all([auto.get('counter'), auto.eval_ro(READ, 1, 'k'), peek])).toEqual(['10', 'origin value', 'origin value']);
    } finally {
      await auto.close();
    }
  });

  it('SCRIPT LOAD, then EVALSHA and EVALSHA_RO: loaded into the shadow, run there', async () => {
    expect(await client.script('LOAD', READ)).toBe(sha1(READ));
    expect(await client.script('EXISTS', sha1(READ))).toEqual([1]);
    expect(await client.evalsha_ro(sha1(READ), 1, 'k')).toBe('origin value');
    expect(await client.evalsha(sha1("return redis.call('INCR', KEYS[1])"), 1, 'counter').catch((error: Error) => error.message)).toMatch(/NOSCRIPT/);
    expect(await shadowAdmin.call('SCRIPT', 'EXISTS', sha1(READ))).toEqual([1]);
  });

  it('defineCommand in a pipeline (ioredis sends SCRIPT EXISTS and SCRIPT LOAD first) and alone', async () => {
    client.defineCommand('peekKey', { numberOfKeys: 1, lua: READ });
    interface Scripted { peekKey(key: string): Scripted; get(key: string): Scripted; exec(): Promise<unknown> }
    const scripted = client as unknown as { peekKey(key: string): Promise<string>; pipeline(): Scripted };
    expect(await scripted.pipeline().peekKey('k').get('counter').exec()).toEqual([[null, 'origin value'], [null, '10']]);
    expect(await scripted.peekKey('counter')).toBe('10');
  });

  it('FUNCTION LOAD, then FCALL and FCALL_RO: the library lives in the shadow', async () => {
    expect(await client.call('FUNCTION', 'LOAD', LIBRARY)).toBe('attacks');
    expect(await client.fcall_ro('peek', 1, 'k')).toBe('origin value');
    expect(await client.fcall('bump', 1, 'counter')).toBe(11);
    expect(await client.get('counter')).toBe('11');
    expect(await client.call('FUNCTION', 'LIST')).toHaveLength(1);
  });

  it('inside MULTI … EXEC, pipelined or sent command by command, and in a plain pipeline of origin reads', async () => {
    expect(await client.multi().get('counter').eval_ro(READ, 1, 'k').exec()).toEqual([[null, '10'], [null, 'origin value']]);
    expect(await client.multi({ pipeline: false })).toBe('OK');
    expect(await client.eval_ro(READ, 1, 'counter')).toBe('QUEUED');
    expect(await client.exec()).toEqual([[null, '10']]);
    expect(await client.pipeline().get('counter').evalsha_ro(sha1(READ), 1, 'k').exec()).toEqual([[null, '10'], [null, 'origin value']]);
  });

  it('with a keyPrefix and in a SELECTed database: the prefixed key, the database\'s value', async () => {
    const prefixed = new ShadowRedis({ host: HOST, port: origin.port, connectionName: 'mirror', keyPrefix: 'app:' }, { shadow: shadow.shadowUrl });
    try {
      expect(await prefixed.eval_ro(READ, 1, 'k')).toBe('prefixed');
    } finally {
      await prefixed.close();
    }
    await client.select(3);
    expect(await client.eval_ro(READ, 1, 'k')).toBe('db3 value');
  });

  it('a script calling admin commands by computed names fails on the shadow\'s ACL (NOPERM), from EVAL and EVAL_RO', async () => {
    const computed = "return redis.call(string.lower('SLOW' .. 'LOG'), 'RESET')";
    await expect(client.eval_ro(computed, 0)).rejects.toThrow(/NOPERM|no permissions|can't run this command/);
    const migrate = `return redis.call('MIG' .. 'RATE', '${HOST}', '${origin.port}', KEYS[1], '0', '5000', 'COPY', 'REPLACE')`;
    await expect(client.eval(migrate, 1, 'k')).rejects.toThrow(/NOPERM|no permissions|can't run this command/);
    await expect(client.eval("return redis.call('CLUSTER', 'MEET', '127.0.0.1', '1')", 0)).rejects.toThrow(/NOPERM|no permissions|can't run this command/);
  });

  it('a script that spins holds only the shadow BUSY: the origin answers meanwhile', async () => {
    const spinning = client.eval_ro('while true do end', 0);
    spinning.catch(() => undefined);
    // The shadow answers BUSY once the script is past its threshold; SCRIPT KILL then stops it.
    for (;;) {
      const killed = await shadowAdmin.script('KILL').then(() => true, (error: Error) => (/NOTBUSY/.test(error.message) ? false : Promise.reject(error)));
      if (killed) break;
      expect(await originAdmin.ping()).toBe('PONG');
    }
    await expect(spinning).rejects.toThrow(/killed/i);
    expect(await originAdmin.get('k')).toBe('origin value');
  });

  it('undeclared keys: a script sees the shadow only — absent there, never the origin\'s (stale) value', async () => {
    const undeclared = "return redis.call('GET', ARGV[1])";
    expect(await client.eval_ro(undeclared, 0, 'k')).toBeNull();
    await client.set('k', 'mirror value');
    expect(await client.eval_ro(undeclared, 0, 'k')).toBe('mirror value');
  });
});

describe('function libraries the primary loaded into the origin', () => {
  it('are copied into the shadow when the session starts, so FCALL and FCALL_RO answer as on the primary — on the shadow', async () => {
    const servers = await startOriginAndShadow();
    const { origin, shadow, originAdmin, shadowAdmin } = servers;
    try {
      await originAdmin.call('FUNCTION', 'LOAD', LIBRARY);
      await originAdmin.mset('k', 'origin value', 'counter', '10');
      const statsBefore = await commandStats(originAdmin);
      const mirror = new ShadowRedis({ host: HOST, port: origin.port }, { shadow: shadow.shadowUrl });
      try {
        expect(await mirror.fcall_ro('peek', 1, 'k')).toBe('origin value');
        expect(await mirror.fcall('bump', 1, 'counter')).toBe(11);
      } finally {
        await mirror.close();
      }
      expect(grown(statsBefore, await commandStats(originAdmin)).filter((name) => /^(fcall|function)/.test(name))).toEqual(['function|dump']);
      expect(await originAdmin.get('counter')).toBe('10');
      expect(await shadowAdmin.call('FUNCTION', 'LIST')).toHaveLength(1);
    } finally {
      await servers.stop();
    }
  });
});

import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShadowRedis2 } from '../../packages/redis-shadow/src/connector/shadow-connector.ts';
import { commandStats, grown, keysDigest, monitorServer } from '../support/redis-oracles.ts';
import { startOriginAndShadow, type OriginAndShadow } from '../support/redis-server.ts';

/** What the connector's check of the origin user runs there (read-only probes, see connector-checks.ts). */
const ORIGIN_USER_CHECK = ['acl|whoami', 'acl|dryrun'];

// Scripts through the connector prototype (packages/redis-shadow/src/connector): ioredis'
// defineCommand (EVALSHA, EVAL on NOSCRIPT outside a transaction), SCRIPT LOAD/EXISTS, and what a
// script writes on the shadow (connector-scripts.ts), on private origin and shadow servers. The
// shadow's MONITOR shows what ran there; the origin's commandstats and a digest show it unchanged.

const HOST = '127.0.0.1';
const GET_SCRIPT = 'return redis.call("get", KEYS[1])';
const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

// ioredis' documented typing of a defineCommand script in pipelines and transactions.
declare module 'ioredis' {
  interface ChainableCommander {
    getIt(key: string): ChainableCommander;
  }
}

type Scripted = ShadowRedis2 & {
  getIt(key: string): Promise<string | null>;
};

describe('ShadowRedis2: scripts on a real shadow', () => {
  let servers: OriginAndShadow;
  let clients: ShadowRedis2[] = [];
  let monitor: Awaited<ReturnType<typeof monitorServer>> | undefined;

  const client = (): Scripted => {
    const made = new ShadowRedis2({ host: HOST, port: servers.origin.port }, { shadow: servers.shadow.shadowUrl });
    made.defineCommand('getIt', { numberOfKeys: 1, lua: GET_SCRIPT });
    clients.push(made);
    return made as Scripted;
  };

  /** The commands the shadow ran from now on (its MONITOR), read once `caughtUp`. */
  const watchShadow = async (): Promise<{ names(): Promise<string[]> }> => {
    monitor = await monitorServer(servers.shadow.url);
    const watching = monitor;
    return {
      async names() {
        await watching.caughtUp(servers.shadowAdmin);
        return watching.received.filter(({ args }) => args[0]?.toLowerCase() !== 'echo' && args[0]?.toLowerCase() !== 'ping').map(({ args, source }) => `${source === 'lua' ? 'lua:' : ''}${args[0]!.toLowerCase()}`);
      },
    };
  };

  beforeAll(async () => {
    servers = await startOriginAndShadow();
  });

  beforeEach(async () => {
    await servers.originAdmin.flushall();
    await servers.shadowAdmin.flushall();
    await servers.shadowAdmin.script('FLUSH');
    await servers.originAdmin.set('o:1', 'origin-1');
    await servers.originAdmin.set('undeclared', 'origin-value');
    await servers.originAdmin.hset('h', 'f', 'origin');
  });

  afterEach(() => {
    monitor?.stop();
    monitor = undefined;
    for (const made of clients) made.disconnect();
    clients = [];
  });

  afterAll(async () => {
    await servers.stop();
  });

  it('runs defineCommand scripts in a pipeline on the shadow: EVAL first, EVALSHA after, SCRIPT LOAD/EXISTS there', async () => {
    const before = await keysDigest(servers.originAdmin);
    const originBefore = await commandStats(servers.originAdmin);
    const redis = client();
    const shadow = await watchShadow();
    const first = await redis.pipeline().set('p', 'pipeline').getIt('p').getIt('o:1').exec();
    expect(first).toEqual([
      [null, 'OK'],
      [null, 'pipeline'],
      [null, 'origin-1'],
    ]);
    const second = await redis.pipeline().getIt('p').exec();
    expect(second).toEqual([[null, 'pipeline']]);
    // ioredis sends the script's text on the first use per connection, its digest after.
    const names = await shadow.names();
    expect(names.filter((name) => name === 'eval' || name === 'evalsha')).toEqual(['eval', 'evalsha', 'evalsha']);
    expect(names.filter((name) => name === 'lua:get')).toHaveLength(3);
    // SCRIPT LOAD and SCRIPT EXISTS answer for the shadow's script cache, where the scripts run.
    const lua = 'return "loaded"';
    expect(await redis.script('LOAD', lua)).toBe(sha1(lua));
    expect(await redis.script('EXISTS', sha1(lua), sha1('never loaded'))).toEqual([1, 0]);
    // The origin ran no script command (nor any write): only copies (DUMP in MULTI), the handshake and the oracle's INFO.
    expect(grown(originBefore, await commandStats(servers.originAdmin)).filter((name) => !['dump', 'pexpiretime', 'multi', 'exec', 'info', 'client|setinfo', ...ORIGIN_USER_CHECK].includes(name))).toEqual([]);
    expect(await servers.shadowAdmin.script('EXISTS', sha1(lua))).toEqual([1]);
    expect(await servers.originAdmin.script('EXISTS', sha1(lua), sha1(GET_SCRIPT))).toEqual([0, 0]);
    expect(await keysDigest(servers.originAdmin)).toBe(before);
  });

  it('answers NOSCRIPT inside MULTI without falling back to EVAL (regular and manual transaction)', async () => {
    const redis = client();
    expect(await redis.getIt('o:1')).toBe('origin-1');
    expect(await redis.getIt('o:1')).toBe('origin-1');
    await servers.shadowAdmin.script('FLUSH');
    const shadow = await watchShadow();
    const regular = await redis.multi().getIt('foo').getIt('bar').exec();
    expect(regular?.map(([error]: [Error | null, unknown]) => error?.message)).toEqual(['NOSCRIPT No matching script. Please use EVAL.', 'NOSCRIPT No matching script. Please use EVAL.']);
    const manual = await redis.pipeline([['multi'], ['getIt', 'foo'], ['getIt', 'bar'], ['exec']]).exec();
    // A manual transaction's EXEC answers as the server does: its queued commands' errors.
    expect(manual?.slice(0, 3)).toEqual([
      [null, 'OK'],
      [null, 'QUEUED'],
      [null, 'QUEUED'],
    ]);
    const exec = manual?.at(-1)?.[1] as Error[];
    expect(exec.map((error) => error.message)).toEqual(['NOSCRIPT No matching script. Please use EVAL.', 'NOSCRIPT No matching script. Please use EVAL.']);
    const names = await shadow.names();
    expect(names.filter((name) => name.includes('eval'))).toEqual(['evalsha', 'evalsha', 'evalsha', 'evalsha']);
    expect(await servers.shadowAdmin.script('EXISTS', sha1(GET_SCRIPT))).toEqual([0]);
  });

  it('falls back to EVAL after the shadow lost its scripts (NOSCRIPT outside MULTI), and SCRIPT FLUSH reaches the shadow alone', async () => {
    const redis = client();
    expect(await redis.getIt('o:1')).toBe('origin-1');
    await servers.shadowAdmin.script('FLUSH');
    const shadow = await watchShadow();
    expect(await redis.getIt('o:1')).toBe('origin-1');
    expect(await redis.getIt('o:1')).toBe('origin-1');
    expect((await shadow.names()).filter((name) => name.includes('eval'))).toEqual(['evalsha', 'eval', 'evalsha']);
    // The app's own SCRIPT FLUSH empties the shadow's cache (where its scripts are), never the origin's.
    await servers.originAdmin.script('LOAD', 'return "origin"');
    expect(await redis.script('FLUSH')).toBe('OK');
    expect(await servers.shadowAdmin.script('EXISTS', sha1(GET_SCRIPT))).toEqual([0]);
    expect(await servers.originAdmin.script('EXISTS', sha1('return "origin"'))).toEqual([1]);
    expect(await redis.getIt('o:1')).toBe('origin-1');
  });

  it('answers a script with a numkeys the server refuses with the server\'s own error', async () => {
    const redis = client();
    await expect(redis.call('EVAL', GET_SCRIPT, 'k1', 'k2')).rejects.toThrow(/value is not an integer/);
    await expect(redis.call('EVAL', GET_SCRIPT, '3', 'k1')).rejects.toThrow(/greater than number of args/);
  });

  it('reads the keys a script wrote without declaring them from the shadow, in the same pipeline too', async () => {
    const before = await keysDigest(servers.originAdmin);
    const redis = client();
    const script = 'redis.call("set", "undeclared", "shadow-value"); redis.call("hset", "h", "f", "shadow"); return 1';
    const originBefore = await commandStats(servers.originAdmin);
    // The GET is written with the EVAL: it must wait to be routed until the script's writes are known.
    const results = await redis.pipeline().eval(script, 0).get('undeclared').hget('h', 'f').exec();
    expect(results).toEqual([
      [null, 1],
      [null, 'shadow-value'],
      [null, 'shadow'],
    ]);
    expect(await redis.get('undeclared')).toBe('shadow-value');
    expect(await redis.hgetall('h')).toEqual({ f: 'shadow' });
    // The script's writes reached the shadow alone; the origin was not even read for those keys.
    expect(await servers.shadowAdmin.get('undeclared')).toBe('shadow-value');
    expect(await keysDigest(servers.originAdmin)).toBe(before);
    const originGrown = grown(originBefore, await commandStats(servers.originAdmin));
    expect(originGrown.filter((name) => !['info', 'keys', 'dump', 'pexpiretime', ...ORIGIN_USER_CHECK].includes(name))).toEqual([]);
    // An untouched key still reads from the origin.
    expect(await redis.get('o:1')).toBe('origin-1');
  });

  it('learns what a script queued in MULTI wrote, at EXEC', async () => {
    const redis = client();
    const results = await redis.multi().eval('redis.call("set", "undeclared", "in-multi"); return 2', 0).exec();
    expect(results).toEqual([[null, 2]]);
    expect(await redis.get('undeclared')).toBe('in-multi');
  });

  it('drops the copies an EVAL_RO made: its keys follow the origin again', async () => {
    const redis = client();
    await servers.originAdmin.set('ro', 'origin-ro');
    const before = await keysDigest(servers.originAdmin);
    expect(await redis.call('EVAL_RO', GET_SCRIPT, 1, 'ro')).toBe('origin-ro');
    expect(await keysDigest(servers.originAdmin)).toBe(before);
    // The copy ran the script on the shadow, then was dropped there.
    expect(await servers.shadowAdmin.exists('ro')).toBe(0);
    const originBefore = await commandStats(servers.originAdmin);
    await servers.originAdmin.set('ro', 'origin-ro-2');
    expect(await redis.get('ro')).toBe('origin-ro-2');
    expect((await commandStats(servers.originAdmin)).get('get')).toBe((originBefore.get('get') ?? 0) + 1);
    // A key some write owns keeps its copy.
    await redis.set('kept', 'shadow');
    expect(await redis.call('EVAL_RO', GET_SCRIPT, 1, 'kept')).toBe('shadow');
    expect(await servers.shadowAdmin.get('kept')).toBe('shadow');
    expect(await redis.get('kept')).toBe('shadow');
  });

  it('with the memory engine as shadow, a script is refused by the engine (no tracking) and the origin is untouched', async () => {
    const before = await keysDigest(servers.originAdmin);
    const redis = new ShadowRedis2({ host: HOST, port: servers.origin.port }, { shadow: 'memory' });
    clients.push(redis);
    await expect(redis.eval('redis.call("set", "undeclared", "x"); return 1', 0)).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED', message: expect.stringMatching(/does not run EVAL/) });
    expect(await redis.get('undeclared')).toBe('origin-value');
    expect(await keysDigest(servers.originAdmin)).toBe(before);
  });
});

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShadowRedis } from '../../packages/redis-shadow/src/client/shadow-redis.ts';
import { startOriginAndShadow, type OriginAndShadow } from '../support/redis-server.ts';
import { monitorServer } from '../support/redis-oracles.ts';

// What a script writes on the shadow, the mirror learns (the shadow's client tracking), so reads
// of a key it wrote without declaring it are not answered by the origin's stale value; and the
// copies made for a script that wrote nothing are dropped, so those keys follow the origin again.
// Private origin and shadow; the oracles are MONITOR on the origin (which reads reached it) and the
// shadow's own keys.

const HOST = '127.0.0.1';
const WRITE_UNDECLARED = "redis.call('SET', ARGV[1], ARGV[2]); return 1";
const READ_DECLARED = "return redis.call('GET', KEYS[1])";
const LIBRARY = "#!lua name=writes\nredis.register_function('plant', function(keys, args) return redis.call('SET', args[1], args[2]) end)";

describe('keys a script writes on the shadow', () => {
  let servers: OriginAndShadow;
  let originAdmin: Redis;
  let shadowAdmin: Redis;
  let client: ShadowRedis;
  let monitor: Awaited<ReturnType<typeof monitorServer>>;

  beforeAll(async () => {
    servers = await startOriginAndShadow();
    ({ originAdmin, shadowAdmin } = servers);
  });

  afterAll(() => servers.stop());

  beforeEach(async () => {
    await originAdmin.flushall();
    await shadowAdmin.flushall();
    await shadowAdmin.function('FLUSH');
    await originAdmin.mset('k', 'origin value', 'u1', 'origin 1', 'u2', 'origin 2', 'u3', 'origin 3', 'u4', 'origin 4', 'u5', 'origin 5');
    // MONITOR first: ioredis takes lines that come with MONITOR's own answer for answers to nothing.
    monitor = await monitorServer(servers.origin.url);
    client = new ShadowRedis({ host: HOST, port: servers.origin.port, connectionName: 'mirror' }, { shadow: servers.shadow.shadowUrl });
    client.on('error', () => undefined);
  });

  afterEach(async () => {
    await client.close();
    monitor.stop();
  });

  /** The keys the mirror read from the origin (GET/MGET), since the monitor started. */
  async function readFromOrigin(): Promise<string[]> {
    await monitor.caughtUp(originAdmin);
    return monitor.received.filter(({ args }) => /^(get|mget)$/i.test(args[0] ?? '')).flatMap(({ args }) => args.slice(1));
  }

  it('undeclared, by EVAL, FCALL, in a pipeline and in both kinds of transaction: read back from the shadow, never the origin', async () => {
    expect(await client.eval(WRITE_UNDECLARED, 0, 'u1', 'script 1')).toBe(1);
    expect(await client.get('u1')).toBe('script 1');
    // Pipelined behind the script: routed before it ran, it waits until what it wrote is known.
    expect(await client.pipeline().eval(WRITE_UNDECLARED, 0, 'u2', 'script 2').get('u2').exec()).toEqual([[null, 1], [null, 'script 2']]);
    expect(await client.multi().eval(WRITE_UNDECLARED, 0, 'u3', 'script 3').exec()).toEqual([[null, 1]]);
    expect(await client.get('u3')).toBe('script 3');
    await client.multi({ pipeline: false });
    await client.eval(WRITE_UNDECLARED, 0, 'u4', 'script 4');
    expect(await client.exec()).toEqual([[null, 1]]);
    expect(await client.get('u4')).toBe('script 4');
    await client.call('FUNCTION', 'LOAD', LIBRARY);
    expect(await client.fcall('plant', 0, 'u5', 'script 5')).toBe('OK');
    expect(await client.mget('u5', 'k')).toEqual(['script 5', 'origin value']);
    // The origin was asked for k alone.
    expect((await readFromOrigin()).filter((key) => key !== 'k')).toEqual([]);
    expect(await shadowAdmin.mget('u1', 'u2', 'u3', 'u4', 'u5')).toEqual(['script 1', 'script 2', 'script 3', 'script 4', 'script 5']);
    expect(await originAdmin.mget('u1', 'u2', 'u3', 'u4', 'u5')).toEqual(['origin 1', 'origin 2', 'origin 3', 'origin 4', 'origin 5']);
  });

  it('a script that PUBLISHes to the invalidation channel is not taken for a flush: the origin stays visible', async () => {
    expect(await client.eval("redis.call('PUBLISH', '__redis__:invalidate', 'forged'); redis.call('SET', ARGV[1], 'script 1'); return 1", 0, 'u1')).toBe(1);
    expect(await client.mget('u1', 'k')).toEqual(['script 1', 'origin value']);
  });

  it('a read-only script, and a script that wrote none of its declared keys, leave them to the origin; one that wrote it keeps it', async () => {
    expect(await client.eval_ro(READ_DECLARED, 1, 'u1')).toBe('origin 1');
    expect(await client.eval(READ_DECLARED, 1, 'u2')).toBe('origin 2');
    expect(await client.eval("return redis.call('SET', KEYS[1], 'script 3')", 1, 'u3')).toBe('OK');
    expect(await shadowAdmin.exists('u1', 'u2')).toBe(0);
    await originAdmin.mset('u1', 'new 1', 'u2', 'new 2', 'u3', 'new 3');
    expect(await client.mget('u1', 'u2')).toEqual(['new 1', 'new 2']);
    expect(await client.get('u3')).toBe('script 3');
  });

  it('a copy something else wrote meanwhile is kept: a SET behind a read-only script', async () => {
    const [read, set] = await Promise.all([client.eval_ro(READ_DECLARED, 1, 'u1'), client.set('u1', 'mirror value')]);
    expect([read, set]).toEqual(['origin 1', 'OK']);
    await originAdmin.set('u1', 'new 1');
    expect(await client.get('u1')).toBe('mirror value');
    expect(await shadowAdmin.get('u1')).toBe('mirror value');
  });

  it('a key the server names that another database of the mirror owns is refused (the server does not say which database)', async () => {
    await client.select(1);
    await client.set('u1', 'db 1 value');
    await client.select(0);
    expect(await client.eval(WRITE_UNDECLARED, 0, 'u1', 'script value')).toBe(1);
    await expect(client.get('u1')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED', message: expect.stringMatching(/may have written key "u1" without declaring it/) });
    await expect(client.set('u1', 'x')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED' });
    expect(await client.get('k')).toBe('origin value');
    expect((await readFromOrigin()).filter((key) => key !== 'k')).toEqual([]);
  });

  it('a script whose answer never came (its commandTimeout): what it wrote cannot be learnt, so every key the shadow does not own is refused, none read stale', async () => {
    const impatient = new ShadowRedis({ host: HOST, port: servers.origin.port, connectionName: 'mirror', commandTimeout: 1_000 }, { shadow: servers.shadow.shadowUrl });
    impatient.on('error', () => undefined);
    try {
      expect(await impatient.eval(WRITE_UNDECLARED, 0, 'u1', 'script 1')).toBe(1);
      // Spins past the timeout, then writes: the mirror cannot know when, or what.
      const spin = "local t = redis.call('TIME'); local stop = t[1] * 1000000 + t[2] + 1500000; repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] > stop; redis.call('SET', ARGV[1], 'spun'); return 1";
      await expect(impatient.eval(spin, 0, 'u2')).rejects.toThrow(/timed out/);
      await expect(impatient.get('u2')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED' });
      await expect(impatient.get('u3')).rejects.toMatchObject({ code: 'MG_ERR_REDIS_UNSUPPORTED' });
      expect(await impatient.get('u1')).toBe('script 1');
      expect(await shadowAdmin.get('u2')).toBe('spun');
    } finally {
      await impatient.close();
    }
    expect(await readFromOrigin()).toEqual([]);
  });
});

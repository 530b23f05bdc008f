// What the suite's `lib/Redis` and `lib` (its index) resolve to while it runs (see preload.cts):
// the client under test, chosen by MG_IOREDIS_CLIENT, carrying the index's exports as ioredis' own
// module does (`Redis.Cluster`, `Redis.Command`, `default`, …). Everything else the tests import
// from lib is the installed ioredis' own module.
//
// CommonJS on purpose: ts-node compiles it with the suite's settings, inside the suite's process.
import type * as IORedisModule from 'ioredis';
import type * as RedisShadowModule from '@mirrorguard/redis-shadow';

type RedisClass = typeof IORedisModule.Redis;
type RedisOptions = IORedisModule.RedisOptions;
type ShadowRedisClass = typeof RedisShadowModule.ShadowRedis;
type MemoryRedisClass = typeof RedisShadowModule.MemoryRedis;

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`conformance client: ${name} is not set (run through conformance/ioredis-suite/run.ts)`);
  return value;
};

const ioredisIndex: RedisClass & Record<string, unknown> = require(env('MG_IOREDIS_PACKAGE'));
const Redis: RedisClass = ioredisIndex;

/** ioredis' own reading of `new Redis(port?, host?, options?)`, `new Redis(url, options?)`, `new Redis(options)`. */
function parseArguments(args: readonly unknown[]): RedisOptions {
  const target: { options?: RedisOptions } = {};
  (Redis.prototype as unknown as { parseOptions(this: object, ...args: unknown[]): void }).parseOptions.call(target, ...args);
  if (target.options === undefined) throw new Error('conformance client: ioredis parseOptions set no options');
  return { ...target.options };
}

/** The index's exports, carried by the client class as ioredis' module carries them on Redis. */
const CARRIED = ['Cluster', 'Command', 'ScanStream', 'Pipeline', 'AbstractConnector', 'SentinelConnector', 'SentinelIterator', 'ReplyError', 'print'] as const;

function asModule<T extends object>(client: T): T {
  for (const key of CARRIED) Object.defineProperty(client, key, { value: ioredisIndex[key], configurable: true, writable: true });
  Object.defineProperty(client, 'default', { value: client, configurable: true, writable: true });
  Object.defineProperty(client, 'Redis', { value: client, configurable: true, writable: true });
  Object.defineProperty(client, '__esModule', { value: true, configurable: true });
  return client;
}

/** The shared memory engine's holder: one per test, as the suite's server is flushed after each. */
let sharedEngine: InstanceType<MemoryRedisClass>['engine'] | undefined;
// preload.cts' root afterEach hook drops it (a module of its own would be a second copy of this one).
(globalThis as Record<symbol, unknown>)[Symbol.for('mirrorguard.conformance.resetMemoryEngine')] = (): void => {
  sharedEngine = undefined;
};

function build(kind: string): object {
  if (kind === 'ioredis') return ioredisIndex;
  const shadowModule: typeof RedisShadowModule = require('@mirrorguard/redis-shadow');
  if (kind === 'shadow' || kind === 'shadow-memory') {
    const ShadowRedis: ShadowRedisClass = shadowModule.ShadowRedis;
    const shadow: RedisShadowModule.ShadowRedisOptions =
      kind === 'shadow' ? { shadow: { host: '127.0.0.1', port: Number(env('MG_SHADOW_PORT')) }, unsandboxedShadow: 'warn' } : { shadow: 'memory' };
    class ConformanceShadowRedis extends ShadowRedis {
      constructor(...args: unknown[]) {
        super(parseArguments(args), shadow);
      }
      static override createClient(...args: unknown[]): ConformanceShadowRedis {
        return new ConformanceShadowRedis(...args);
      }
    }
    return asModule(ConformanceShadowRedis);
  }
  if (kind === 'shadow-connector') {
    // The connector prototype (not exported by the package), built by run.ts into dist/connector/.
    const { ShadowRedis2 }: typeof import('../../packages/redis-shadow/src/connector/shadow-connector.ts') = require(
      require.resolve('@mirrorguard/redis-shadow').replace(/index\.cjs$/, 'connector/shadow-connector.cjs'),
    );
    const shadow = { host: '127.0.0.1', port: Number(env('MG_SHADOW_PORT')) };
    class ConformanceShadowRedis2 extends ShadowRedis2 {
      constructor(...args: unknown[]) {
        // As the 'shadow' client: the suite's shadow is a plain redis-server with its default user.
        super(parseArguments(args), { shadow, unsandboxedShadow: 'warn' });
      }
      static override createClient(...args: unknown[]): ConformanceShadowRedis2 {
        return new ConformanceShadowRedis2(...args);
      }
    }
    return asModule(ConformanceShadowRedis2);
  }
  if (kind === 'memory') {
    const MemoryRedis: MemoryRedisClass = shadowModule.MemoryRedis;
    class ConformanceMemoryRedis extends MemoryRedis {
      constructor(...args: unknown[]) {
        const options = parseArguments(args);
        sharedEngine ??= new MemoryRedis().engine;
        super({ engine: sharedEngine, ...(options.db !== undefined && { db: options.db }), ...(options.keyPrefix !== undefined && { keyPrefix: options.keyPrefix }) });
      }
      static override createClient(...args: unknown[]): ConformanceMemoryRedis {
        return new ConformanceMemoryRedis(...args);
      }
    }
    return asModule(ConformanceMemoryRedis);
  }
  throw new Error(`conformance client: unknown client ${kind}`);
}

module.exports = build(env('MG_IOREDIS_CLIENT'));

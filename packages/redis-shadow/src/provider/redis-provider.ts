import { defineProvider, MirrorGuardError, type Provider } from '@mirrorguard/core';
import { Redis, type RedisOptions } from 'ioredis';
import { RecordingRedis } from '../client/recording-redis.ts';
import { ShadowRedis } from '../client/shadow-redis.ts';
import { MemoryRedis } from '../memory/memory-redis.ts';
import { redisDestinations } from './redis-destinations.ts';

export interface RedisProviderOptions {
  /** The app's Redis: a URL or ioredis options, the same in every profile (the test profile keeps only its `keyPrefix`). */
  readonly origin: string | RedisOptions;
  /** Mirror only: where the writes land, a real Redis (URL or options) or `'memory'`. Default `'memory'`. */
  readonly shadow?: string | RedisOptions;
  /** Mirror only: a real shadow whose ACL user could reach beyond it — `'refuse'` (default) or `'warn'` (see ShadowRedisOptions). */
  readonly unsandboxedShadow?: 'refuse' | 'warn';
  /** Test only: fills each new memory client's engine before the app gets it (fixtures). */
  readonly seed?: (redis: Redis) => void | Promise<void>;
}

/**
 * A `createGuards` provider of an ioredis client:
 * - `live`: a plain `Redis`;
 * - `record`: a `RecordingRedis` (a plain `Redis` that journals its writes, for `mirrorguard diff`);
 * - `mirror`: a `ShadowRedis` journaling into the guards' journal;
 * - `test`: a `MemoryRedis`, the embedded engine with no origin at all, seeded by `seed`.
 */
export function redisProvider(options: RedisProviderOptions): Provider<Redis> {
  const plain = (): Redis => (typeof options.origin === 'string' ? new Redis(options.origin) : new Redis(options.origin));
  return defineProvider<Redis>({
    live: plain,
    record: ({ journal }) => new RecordingRedis(options.origin, { journal }),
    mirror: async ({ journal, strict, allowDestination }) => {
      // The egress lockdown lets the mirror reach the origin (reads) and a real shadow, and nothing else.
      for (const destination of redisDestinations(options.origin)) allowDestination(destination, 'origin Redis');
      if (options.shadow !== undefined && options.shadow !== 'memory') {
        for (const destination of redisDestinations(options.shadow)) allowDestination(destination, 'shadow Redis');
      }
      const unsandboxedShadow = strict ? 'refuse' : options.unsandboxedShadow;
      const client = new ShadowRedis(options.origin, { shadow: options.shadow ?? 'memory', journal, ...(unsandboxedShadow !== undefined && { unsandboxedShadow }) });
      if (!strict) return client;
      // Strict: an origin user that could do more than read, or a shadow user that could reach
      // beyond the shadow, refuses start-up.
      const [originProblem, shadowCheck] = await Promise.all([client.originUserChecked, client.shadowChecked.then(() => undefined, (error: unknown) => error)]);
      if (originProblem === undefined && shadowCheck === undefined) return client;
      await client.close();
      if (shadowCheck !== undefined) throw shadowCheck;
      throw new MirrorGuardError('MG_ERR_REDIS_ORIGIN_NOT_CONFINED', `strict guards refuse an origin Redis user that is not confined to reads: ${originProblem}`);
    },
    test: async () => {
      const keyPrefix = typeof options.origin === 'string' ? undefined : options.origin.keyPrefix;
      const redis = new MemoryRedis(keyPrefix === undefined ? {} : { keyPrefix });
      await options.seed?.(redis);
      return redis;
    },
    close: async (client) => {
      if (client instanceof ShadowRedis) await client.close();
      else await client.quit().catch(() => client.disconnect());
    },
  });
}

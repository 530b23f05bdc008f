import { defineProvider, type Provider } from '@mirrorguard/core';
import { Redis, type RedisOptions } from 'ioredis';
import { ShadowRedis } from '../client/shadow-redis.ts';

export interface RedisProviderOptions {
  /** The app's Redis: a URL or ioredis options, the same in every profile. */
  readonly origin: string | RedisOptions;
  /** Mirror only: the shadow Redis the writes land in. */
  readonly shadow: string | RedisOptions;
}

/**
 * A `createGuards` provider of an ioredis client:
 * - `live`, `record`: a plain `Redis`;
 * - `mirror`: a `ShadowRedis` journaling into the guards' journal.
 * The `test` profile (the embedded engine, no origin at all) is not available yet, so `createGuards`
 * refuses it at start-up.
 */
export function redisProvider(options: RedisProviderOptions): Provider<Redis> {
  const plain = (): Redis => (typeof options.origin === 'string' ? new Redis(options.origin) : new Redis(options.origin));
  return defineProvider<Redis>({
    live: plain,
    record: plain,
    mirror: ({ journal }) => new ShadowRedis(options.origin, { shadow: options.shadow, journal }),
    close: async (client) => {
      if (client instanceof ShadowRedis) await client.close();
      else await client.quit().catch(() => client.disconnect());
    },
  });
}

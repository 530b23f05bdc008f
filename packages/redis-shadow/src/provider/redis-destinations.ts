import type { DestinationInput } from '@mirrorguard/core';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Where an ioredis client given this URL or these options connects — read by ioredis itself (a
 * client made with `lazyConnect`, which opens nothing, then let go): its host and port or Unix
 * path, and each Sentinel it asks. The master a Sentinel names is not known in advance: declare
 * it with `egress.allow`.
 */
export function redisDestinations(target: string | RedisOptions): DestinationInput[] {
  const probe = typeof target === 'string' ? new Redis(target, { lazyConnect: true }) : new Redis({ ...target, lazyConnect: true });
  try {
    const { host, port, path, sentinels } = probe.options;
    if (sentinels !== null && sentinels !== undefined && sentinels.length > 0) {
      return sentinels.map((sentinel) => ({ host: sentinel.host ?? 'localhost', port: sentinel.port ?? 26_379 }));
    }
    if (path !== undefined && path !== null && path !== '') return [{ path }];
    return [{ host: host ?? 'localhost', port: port ?? 6379 }];
  } finally {
    probe.disconnect();
  }
}

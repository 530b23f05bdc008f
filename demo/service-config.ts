import type { RedisOptions } from 'ioredis';
import type { OrdersGuardsOptions } from '../examples/orders-express/guards.ts';

/** What the services' Redis connections are named after (`CLIENT SETNAME`): the prefix, then the service. */
export const CLIENT_NAME_PREFIX = 'mirrorguard-demo-';

/** What the demo hands each orders service process (as JSON in DEMO_SERVICE). */
export interface ServiceConfig {
  /** primary, mirror, candidate: also the name its Redis connections give themselves (CLIENT SETNAME). */
  readonly name: string;
  readonly database: OrdersGuardsOptions['database'];
  /** The shared Redis (a server, or the embedded engine served on loopback). */
  readonly redisUrl: string;
  /** Every key the demo writes starts with it: the app's keys and the payments recordings. */
  readonly keyPrefix: string;
  /** Where the primary's recorded payments calls are shared with the mirrors. */
  readonly recordingsUrl: string;
  readonly paymentsUrl: string;
  /** The JSONL journal this process writes. */
  readonly journal: string;
}

/** ioredis options for a `redis://host:port/db` URL, the app's keys under `keyPrefix + 'app:'`, the connections named `connectionName`. */
export function redisOptions(url: string, keyPrefix: string, connectionName: string): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    db: Number(parsed.pathname.slice(1) || 0),
    ...(parsed.password !== '' && { password: decodeURIComponent(parsed.password) }),
    ...(parsed.username !== '' && { username: decodeURIComponent(parsed.username) }),
    keyPrefix: `${keyPrefix}app:`,
    connectionName,
  };
}

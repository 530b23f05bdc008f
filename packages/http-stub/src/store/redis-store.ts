import type { RecordedExchange } from '../exchange/exchange.ts';
import type { ExchangeStore } from './exchange-store.ts';

/** The parts of an ioredis client (or any alike) the store uses; give it a plain client to the shared Redis. */
export interface RedisStoreClient {
  rpush(key: string, ...values: string[]): Promise<number>;
  pexpire(key: string, milliseconds: number): Promise<number>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
}

export interface RedisStoreOptions {
  /** A client of the Redis the primary and the mirror share (a plain one: never the mirror's ShadowRedis). */
  readonly redis: RedisStoreClient;
  /** Key prefix; each incoming request's exchanges are one list under `prefix + requestId`. Default `mirrorguard:http:`. */
  readonly prefix?: string;
  /** How long exchanges are kept, in seconds. Default 300. */
  readonly ttlSeconds?: number;
  /** Replay: how long a miss waits for the primary's exchange to appear, in milliseconds. Default 2000. */
  readonly waitMs?: number;
  /** How often a waiting replay looks again, in milliseconds. Default 5. */
  readonly pollMs?: number;
}

interface StoredExchange {
  readonly requestId: string | null;
  readonly request: { readonly method: string; readonly url: string; readonly headers: ReadonlyArray<readonly [string, string]>; readonly body: string };
  readonly response: { readonly status: number; readonly statusText: string; readonly headers: ReadonlyArray<readonly [string, string]>; readonly body: string };
  readonly startedAt: string;
  readonly durationMs: number;
}

const encode = (exchange: RecordedExchange): string =>
  JSON.stringify({
    ...exchange,
    request: { ...exchange.request, body: exchange.request.body.toString('base64') },
    response: { ...exchange.response, body: exchange.response.body.toString('base64') },
  } satisfies StoredExchange);

function decode(text: string): RecordedExchange {
  const stored = JSON.parse(text) as StoredExchange;
  return {
    ...stored,
    request: { ...stored.request, body: Buffer.from(stored.request.body, 'base64') },
    response: { ...stored.response, body: Buffer.from(stored.response.body, 'base64') },
  };
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * A Redis list per incoming request id, shared by a live primary and its mirror: the primary
 * appends each exchange as it completes (and renews the TTL); the mirror, handling the same
 * mirrored request (the same `x-request-id`), reads them — and on a miss waits, up to `waitMs`, for
 * the primary's exchange to appear, since the mirror may get its copy of the request first.
 */
export function redisStore(options: RedisStoreOptions): ExchangeStore {
  const { redis } = options;
  const prefix = options.prefix ?? 'mirrorguard:http:';
  const ttl = (options.ttlSeconds ?? 300) * 1000;
  const waitMs = options.waitMs ?? 2000;
  const pollMs = options.pollMs ?? 5;
  const keyOf = (requestId: string | null): string => `${prefix}${requestId ?? '-'}`;
  const pending = new Set<Promise<unknown>>();
  const from = async (requestId: string | null, start: number): Promise<RecordedExchange[]> => (await redis.lrange(keyOf(requestId), start, -1)).map(decode);
  return {
    description: `Redis ${prefix}*`,
    waitMs,
    exchangesFor: (requestId) => from(requestId, 0),
    async waitForMore(requestId, known, deadline) {
      for (;;) {
        const more = await from(requestId, known);
        if (more.length > 0 || Date.now() >= deadline) return more;
        await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
      }
    },
    async record(exchange) {
      const key = keyOf(exchange.requestId);
      const work = redis.rpush(key, encode(exchange)).then(() => redis.pexpire(key, ttl));
      pending.add(work);
      try {
        await work;
      } finally {
        pending.delete(work);
      }
    },
    async close() {
      await Promise.allSettled([...pending]);
    },
  };
}

import { isValidRequestId, MirrorGuardError, type DestinationInput } from '@mirrorguard/core';
import type { IncomingRequest, RecordedExchange } from '../exchange/exchange.ts';
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
  /** Key prefix; each incoming request's exchanges are one list under `prefix + 'id:' + requestId`. Default `mirrorguard:http:`. */
  readonly prefix?: string;
  /** How long exchanges are kept, in seconds. Default 300. */
  readonly ttlSeconds?: number;
  /** Replay: how long a miss waits for the primary's exchange to appear, in milliseconds. Default 2000. */
  readonly waitMs?: number;
  /**
   * Replay: how long the first read of a request's exchanges may take, in milliseconds. Default
   * 1000. A store that does not answer it in time, or fails, fails the call with
   * `MG_ERR_HTTP_STORE_UNAVAILABLE`; so does one that never answers while a miss waits.
   */
  readonly readTimeoutMs?: number;
  /** How often a waiting replay looks again, in milliseconds. Default 5. */
  readonly pollMs?: number;
}

interface StoredExchange {
  readonly requestId: string | null;
  readonly incoming: IncomingRequest | null;
  readonly request: { readonly method: string; readonly url: string; readonly headers: ReadonlyArray<readonly [string, string]>; readonly body: string };
  readonly response: { readonly status: number; readonly statusText: string; readonly headers: ReadonlyArray<readonly [string, string]>; readonly body: string };
  readonly startedAt: string;
  readonly durationMs: number;
}

const encode = (exchange: RecordedExchange): string =>
  JSON.stringify({
    ...exchange,
    incoming: exchange.incoming ?? null,
    request: { ...exchange.request, body: exchange.request.body.toString('base64') },
    response: { ...exchange.response, body: exchange.response.body.toString('base64') },
  } satisfies StoredExchange);

/**
 * An entry of `requestId`'s list, or undefined when it cannot be one the primary wrote for that
 * request: not an exchange, another request id, or no binding to an incoming request. Such an entry
 * is never replayed.
 */
function decode(text: string, requestId: string): RecordedExchange | undefined {
  let stored: StoredExchange;
  try {
    stored = JSON.parse(text) as StoredExchange;
  } catch {
    return undefined;
  }
  if (typeof stored !== 'object' || stored === null || stored.requestId !== requestId || !('incoming' in stored)) return undefined;
  if (typeof stored.request?.body !== 'string' || typeof stored.response?.body !== 'string') return undefined;
  return {
    ...stored,
    request: { ...stored.request, body: Buffer.from(stored.request.body, 'base64') },
    response: { ...stored.response, body: Buffer.from(stored.response.body, 'base64') },
  };
}

/**
 * Where the store's client connects, when it says (an ioredis client keeps its parsed options):
 * the mirror's egress lockdown must let the pairing store through. A client that does not say is
 * declared with `egress.allow`.
 */
function clientDestinations(redis: RedisStoreClient): DestinationInput[] {
  const options = (redis as { options?: { host?: unknown; port?: unknown; path?: unknown } }).options;
  if (typeof options !== 'object' || options === null) return [];
  if (typeof options.path === 'string' && options.path !== '') return [{ path: options.path }];
  if (typeof options.host === 'string' && typeof options.port === 'number') return [{ host: options.host, port: options.port }];
  return [];
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * `work`, or a rejection with `MG_ERR_HTTP_STORE_UNAVAILABLE` once `deadline` (Unix ms) passes or
 * the client fails: a store that is down or slow fails the call in time, with a stable code.
 */
function beforeDeadline<T>(work: Promise<T>, deadline: number, description: string): Promise<T> {
  const unavailable = (cause?: unknown): MirrorGuardError =>
    new MirrorGuardError(
      'MG_ERR_HTTP_STORE_UNAVAILABLE',
      `mirrorguard http-stub: the pairing store (${description}) ${cause === undefined ? 'did not answer in time' : `failed: ${(cause as Error)?.message ?? String(cause)}`}`,
      { cause },
    );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable()), Math.max(0, deadline - Date.now()));
  });
  // Whatever the client answers after the deadline is dropped, never an unhandled rejection.
  const answered = work.catch((cause: unknown) => Promise.reject(unavailable(cause)));
  answered.catch(() => undefined);
  return Promise.race([answered, late]).finally(() => clearTimeout(timer));
}

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
  const readTimeoutMs = options.readTimeoutMs ?? 1000;
  const description = `Redis ${prefix}*`;
  // Only a valid request id pairs: a call outside any request (or with an id no context would carry)
  // has no list, so it can never read another's.
  const keyOf = (requestId: string | null): string | undefined => (requestId !== null && isValidRequestId(requestId) ? `${prefix}id:${requestId}` : undefined);
  const pending = new Set<Promise<unknown>>();
  const read = async (key: string, requestId: string, start: number): Promise<RecordedExchange[]> =>
    (await redis.lrange(key, start, -1)).map((text) => decode(text, requestId)).filter((exchange) => exchange !== undefined);
  return {
    description,
    destinations: clientDestinations(redis),
    waitMs,
    async exchangesFor(requestId) {
      const key = keyOf(requestId);
      if (key === undefined) return [];
      return beforeDeadline(read(key, requestId!, 0), Date.now() + readTimeoutMs, description);
    },
    async waitForMore(requestId, known, deadline) {
      const key = keyOf(requestId);
      if (key === undefined) return [];
      let answered = false;
      let over = false;
      const poll = async (): Promise<RecordedExchange[]> => {
        while (!over && Date.now() < deadline) {
          const more = await read(key, requestId!, known);
          answered = true;
          if (more.length > 0) return more;
          await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
        }
        return [];
      };
      try {
        return await beforeDeadline(poll(), deadline, description);
      } catch (error) {
        // A read in flight at the deadline of a store that has answered is a miss; one that never answered is down.
        if (answered && (error as MirrorGuardError).cause === undefined) return [];
        throw error;
      } finally {
        over = true;
      }
    },
    async record(exchange) {
      const key = keyOf(exchange.requestId);
      if (key === undefined) {
        throw new MirrorGuardError('MG_ERR_HTTP_STORE_UNAVAILABLE', `mirrorguard http-stub: a call made outside any request (no valid request id) is not stored in ${description}: no mirror could pair it`);
      }
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

import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuards, createJournal, memorySink, withRequestContext, type MemorySink } from '@mirrorguard/core';
import { Redis } from 'ioredis';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, harStore, httpStubProvider, redisStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { rng } from '../support/seeded-random.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';

// The pairing store, attacked: request ids that collide or are forged, a store that is down or
// frozen, safe-looking requests that ask the server to act as another method, recordings that are
// missing or broken. The oracles are the store server's own counters (INFO commandstats), what the
// sentinel service received, and the entries in the store.
const WAIT_MS = 300;
const POLL_MS = 5;

/** What a call through `stub` in the context `{ requestId, method, path }` got: the sentinel's token, or the error code. */
async function callFor(stub: HttpStub, origin: string, context: { requestId: string; method?: string; path?: string }, path = '/quote'): Promise<string> {
  return withRequestContext(context, async () => {
    try {
      const response = await fetch(`${origin}${path}`, { dispatcher: stub.dispatcher } as unknown as RequestInit);
      return `token ${((await response.json()) as { answer: string }).answer}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      return `error ${cause?.code ?? (error as { code?: string }).code}`;
    }
  });
}

async function lrangeCalls(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/cmdstat_lrange:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('the pairing store cannot be steered', () => {
  let sentinel: SentinelServer;
  let storeServer: ThrowawayRedis;
  let storeRedis: Redis;
  let primary: HttpStub;
  let mirror: HttpStub;
  let mirrorSink: MemorySink;
  const prefix = `pairing-attacks:${randomUUID()}:`;

  beforeAll(async () => {
    sentinel = await startSentinelServer(() => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answer: randomUUID() }) }));
    storeServer = await startRedisServer();
    storeRedis = new Redis(storeServer.url);
    mirrorSink = memorySink();
    primary = createHttpStub({ mode: 'record', store: redisStore({ redis: storeRedis, prefix }) });
    mirror = createHttpStub({ mode: 'replay', store: redisStore({ redis: storeRedis, prefix, waitMs: WAIT_MS, pollMs: POLL_MS }), journal: createJournal({ profile: 'mirror', sinks: [mirrorSink] }) });
  });

  afterAll(async () => {
    await primary.dispose();
    await mirror.dispose();
    storeRedis.disconnect();
    await storeServer.kill();
    await sentinel.close();
  });

  it('pairs a call only with the primary\'s call for the same request id, method and path (generated ids and contexts)', async () => {
    const random = rng(0x9a17);
    const ids = ['-', 'a', 'A', 'id:a', 'x'.repeat(200), 'null', 'undefined', '%2D', 'a-b', `r-${randomUUID()}`];
    const contexts = [
      { method: 'GET', path: '/orders' },
      { method: 'POST', path: '/orders' },
      { method: 'GET', path: '/orders/' },
      {},
    ];
    const recorded = new Map<string, string>();
    const keyOf = (requestId: string, context: { method?: string; path?: string }): string => `${requestId} ${context.method ?? '-'} ${context.path ?? '-'}`;
    // The primary: each id once, under one context.
    for (const requestId of ids) {
      const context = contexts[Math.floor(random() * contexts.length)]!;
      recorded.set(requestId, keyOf(requestId, context));
      recorded.set(keyOf(requestId, context), await callFor(primary, sentinel.origin, { requestId, ...context }));
    }
    const seenByPrimary = sentinel.seen.length;
    // The mirror: random ids under random contexts, a call beyond what was recorded included.
    for (let n = 0; n < 60; n += 1) {
      const requestId = ids[Math.floor(random() * ids.length)]!;
      const context = contexts[Math.floor(random() * contexts.length)]!;
      const answer = await callFor(mirror, sentinel.origin, { requestId, ...context });
      const expected = recorded.get(keyOf(requestId, context));
      // Each primary answer is replayed once; a repeated call misses.
      if (expected !== undefined && answer.startsWith('token')) {
        expect(answer, keyOf(requestId, context)).toBe(expected);
        recorded.delete(keyOf(requestId, context));
      } else expect(answer, keyOf(requestId, context)).toBe('error MG_ERR_HTTP_NO_RECORDING');
    }
    expect(sentinel.seen.length).toBe(seenByPrimary);
  }, 60_000);

  it('a call outside any request is never stored, and the id "-" does not read it', async () => {
    const entries = mirrorSink.events().length;
    // Every list of the store and its length: the call outside a request must add to none.
    const lists = async (): Promise<string[]> => Promise.all((await storeRedis.keys('*')).sort().map(async (key) => `${key} ${await storeRedis.llen(key)}`));
    const before = await lists();
    await fetch(`${sentinel.origin}/outside`, { dispatcher: primary.dispatcher } as unknown as RequestInit).then((response) => response.arrayBuffer());
    await primary.dispose();
    primary = createHttpStub({ mode: 'record', store: redisStore({ redis: storeRedis, prefix }) });
    expect(await lists()).toEqual(before);
    expect(await callFor(mirror, sentinel.origin, { requestId: '-' }, '/outside')).toBe('error MG_ERR_HTTP_NO_RECORDING');
    expect(mirrorSink.events().length).toBeGreaterThan(entries);
  });

  it('a miss reads the store a bounded number of times, and settles at its deadline', async () => {
    const before = await lrangeCalls(storeRedis);
    const started = performance.now();
    expect(await callFor(mirror, sentinel.origin, { requestId: `never-${randomUUID()}` })).toBe('error MG_ERR_HTTP_NO_RECORDING');
    const elapsed = performance.now() - started;
    const calls = (await lrangeCalls(storeRedis)) - before;
    // One read, then one per poll until the deadline: never a spin.
    expect(calls).toBeLessThanOrEqual(WAIT_MS / POLL_MS + 2);
    expect(elapsed).toBeGreaterThanOrEqual(WAIT_MS - 5);
  });

  it('entries the primary did not write for that request are refused: another id, no binding, not JSON', async () => {
    const requestId = `forged-${randomUUID()}`;
    const key = `${prefix}id:${requestId}`;
    const forged = (fields: object): string =>
      JSON.stringify({
        requestId,
        request: { method: 'GET', url: `${sentinel.origin}/quote`, headers: [], body: '' },
        response: { status: 200, statusText: 'OK', headers: [['content-type', 'application/json']], body: Buffer.from('{"token":"FORGED"}').toString('base64') },
        startedAt: new Date().toISOString(),
        durationMs: 1,
        ...fields,
      });
    await storeRedis.rpush(key, forged({}), forged({ requestId: 'someone-else', incoming: null }), 'not json', forged({ incoming: { method: 'POST', path: '/elsewhere' } }));
    const seen = sentinel.seen.length;
    expect(await callFor(mirror, sentinel.origin, { requestId, method: 'GET', path: '/checkout' })).toBe('error MG_ERR_HTTP_NO_RECORDING');
    expect(await callFor(mirror, sentinel.origin, { requestId })).toBe('error MG_ERR_HTTP_NO_RECORDING');
    expect(sentinel.seen.length).toBe(seen);
  });

  it('with safe requests allowed out, a method override never goes out', async () => {
    const host = new URL(sentinel.origin).host;
    const allowing = createHttpStub({ mode: 'replay', store: redisStore({ redis: storeRedis, prefix, waitMs: 0 }), allowHosts: [host] });
    try {
      const seen = sentinel.seen.length;
      const send = (path: string, options: { headers?: Record<string, string>; body?: string; method?: 'GET' | 'HEAD' | 'OPTIONS' } = {}) =>
        withRequestContext({ requestId: `override-${randomUUID()}` }, () =>
          undiciRequest(`${sentinel.origin}${path}`, { dispatcher: allowing.dispatcher, method: options.method ?? 'GET', headers: options.headers ?? {}, body: options.body ?? null }).then(
            async (response) => `status ${response.statusCode} ${await response.body.text()}`.slice(0, 10),
            (error: { code?: string }) => `error ${error.code}`,
          ),
        );
      for (const header of ['X-HTTP-Method-Override', 'x-http-method', 'X-Method-Override']) {
        expect(await send('/items/1', { headers: { [header]: 'DELETE' } })).toBe('error MG_ERR_HTTP_UNSAFE');
      }
      expect(await send('/items/1?_method=DELETE')).toBe('error MG_ERR_HTTP_UNSAFE');
      expect(await send('/items/1?_METHOD=delete')).toBe('error MG_ERR_HTTP_UNSAFE');
      expect(await send('/items/1', { method: 'OPTIONS', body: '_method=DELETE', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).toBe('error MG_ERR_HTTP_UNSAFE');
      expect(sentinel.seen.length).toBe(seen);
      // A plain safe request still goes out: the oracle can see one.
      expect(await send('/items/1')).toBe('status 200');
      expect(sentinel.seen.length).toBe(seen + 1);
    } finally {
      await allowing.dispose();
    }
  });
});

describe('a pairing store that is down or frozen fails each call in time, with a stable code', () => {
  for (const fault of ['killed', 'paused'] as const) {
    it(`store ${fault}: the call rejects with MG_ERR_HTTP_STORE_UNAVAILABLE within its read timeout, and nothing goes out`, async () => {
      const sentinel = await startSentinelServer();
      const server = await startRedisServer();
      const redis = new Redis(server.url, { maxRetriesPerRequest: null });
      const errors: unknown[] = [];
      redis.on('error', (error) => errors.push(error));
      const stub = createHttpStub({ mode: 'replay', store: redisStore({ redis, prefix: 'down:', waitMs: WAIT_MS, readTimeoutMs: WAIT_MS }) });
      try {
        await redis.ping();
        if (fault === 'killed') await server.kill();
        else await server.pause();
        const started = performance.now();
        expect(await callFor(stub, sentinel.origin, { requestId: `down-${randomUUID()}` })).toBe('error MG_ERR_HTTP_STORE_UNAVAILABLE');
        // Bounded by the read timeout (a generous margin for a loaded machine), not by the client's retries.
        expect(performance.now() - started).toBeLessThan(WAIT_MS + 2000);
        expect(sentinel.seen).toEqual([]);
      } finally {
        if (fault === 'paused') server.resume();
        redis.disconnect();
        await stub.dispose();
        await server.kill();
        await sentinel.close();
      }
    });
  }
});

describe('a replay\'s recording is read at start-up', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-recording-faults-'));
  const malformed = join(folder, 'malformed.har');
  writeFileSync(malformed, '{"log": {"entries": [');
  const notHar = join(folder, 'not-har.har');
  writeFileSync(notHar, '{"entries": []}');
  const cases = [
    ['missing', join(folder, 'missing.har'), 'MG_ERR_HTTP_RECORDING_MISSING'],
    ['a directory', folder, 'MG_ERR_HTTP_RECORDING_MISSING'],
    ['not JSON', malformed, 'MG_ERR_HTTP_RECORDING_INVALID'],
    ['not HAR', notHar, 'MG_ERR_HTTP_RECORDING_INVALID'],
  ] as const;

  for (const [what, file, code] of cases) {
    it(`${what}: createHttpStub refuses in replay; createGuards refuses in mirror and test; record starts`, async () => {
      expect(() => createHttpStub({ mode: 'replay', store: harStore({ file }) })).toThrow(expect.objectContaining({ code }));
      for (const profile of ['mirror', 'test'] as const) {
        await expect(createGuards({ profile, providers: { http: httpStubProvider({ recording: file }) } })).rejects.toMatchObject({
          code: 'MG_ERR_PROVIDER_BUILD',
          cause: expect.objectContaining({ code }),
        });
      }
      if (what !== 'a directory') {
        const recording = createHttpStub({ mode: 'record', store: harStore({ file: join(folder, `recorded-${randomUUID()}.har`) }) });
        await recording.dispose();
      }
    });
  }
});

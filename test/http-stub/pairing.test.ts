import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createJournal, memorySink, requestContextMiddleware } from '@mirrorguard/core';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpStub, redisStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { startSentinelServer, type SentinelServer } from '../support/sentinel-server.ts';

// A primary (record) and its mirror (replay) share a Redis store: a redis-server of the test's own,
// so that it holds nothing but what they store. The same 100 requests, each with its own
// x-request-id, reach both — to the mirror in another, random order, all at once — and each makes
// outbound calls that differ per request. The mirror must get exactly its own primary's answers and
// call out zero times.
const REQUESTS = 100;

/** The orders app: two calls to the payments service per request, both depending on the request. */
function ordersApp(stub: HttpStub, payments: string): express.Express {
  const app = express();
  app.use(requestContextMiddleware());
  app.get('/checkout/:order', async (request, response) => {
    const amount = Number(request.params.order) * 10;
    const init = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher: stub.dispatcher }) as unknown as RequestInit;
    const approval = await (await fetch(`${payments}/authorize`, init({ order: request.params.order, amount }))).json();
    const capture = await (await fetch(`${payments}/capture?order=${request.params.order}`, init({ approval }))).json();
    response.json({ approval, capture });
  });
  return app;
}

async function listen(app: express.Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const shuffled = <T>(items: readonly T[]): T[] => {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
};

describe('a live primary and its mirror, paired through the Redis store', () => {
  let payments: SentinelServer;
  let storeServer: ThrowawayRedis;
  let storeRedis: Redis;
  const mirrorSink = memorySink({ limit: 10_000 });
  let primaryStub: HttpStub;
  let mirrorStub: HttpStub;
  let primary: Awaited<ReturnType<typeof listen>>;
  let mirror: Awaited<ReturnType<typeof listen>>;
  const prefix = `pairing:${randomUUID()}:`;

  beforeAll(async () => {
    // Every answer carries a receipt no replay could invent. (Not named `token` nor `authorization`:
    // values under such names are secret by default, and replay gets them redacted.)
    payments = await startSentinelServer((request) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: request.url, body: request.body, receipt: randomUUID() }) }));
    storeServer = await startRedisServer();
    storeRedis = new Redis(storeServer.url);
    primaryStub = createHttpStub({ mode: 'record', store: redisStore({ redis: storeRedis, prefix, ttlSeconds: 60 }) });
    mirrorStub = createHttpStub({ mode: 'replay', store: redisStore({ redis: storeRedis, prefix, waitMs: 10_000 }), journal: createJournal({ profile: 'mirror', sinks: [mirrorSink] }) });
    primary = await listen(ordersApp(primaryStub, payments.origin));
    mirror = await listen(ordersApp(mirrorStub, payments.origin));
  });

  afterAll(async () => {
    await primary.close();
    await mirror.close();
    await primaryStub.dispose();
    await mirrorStub.dispose();
    storeRedis.disconnect();
    await storeServer.kill();
    await payments.close();
  });

  it('gives every mirror request exactly its own primary\'s answers, with no outbound call', async () => {
    const ids = Array.from({ length: REQUESTS }, (_, order) => ({ order, requestId: `pair-${order}-${randomUUID()}` }));
    const call = (base: string, { order, requestId }: { order: number; requestId: string }) =>
      fetch(`${base}/checkout/${order}`, { headers: { 'x-request-id': requestId } }).then(async (response) => ({ status: response.status, body: (await response.json()) as { capture: { receipt: string } } }));
    // The mirror gets its copies in random order, all at once, while the primary is still working.
    const [primaryAnswers, mirrorAnswers] = await Promise.all([
      Promise.all(ids.map((id) => call(primary.url, id))),
      Promise.all(shuffled(ids).map(async (id) => ({ id, answer: await call(mirror.url, id) }))),
    ]);
    for (const { id, answer } of mirrorAnswers) {
      expect(answer.status, id.requestId).toBe(200);
      expect(answer.body, id.requestId).toEqual(primaryAnswers[id.order]!.body);
    }
    expect(new Set(primaryAnswers.map((answer) => answer.body.capture.receipt)).size).toBe(REQUESTS);
    // Only the primary's calls reached the payments service.
    expect(payments.seen.length).toBe(2 * REQUESTS);
    expect(mirrorSink.events().filter((event) => event.action === 'replayed').length).toBe(2 * REQUESTS);
    expect(mirrorSink.events().filter((event) => event.action !== 'replayed')).toEqual([]);
    // Each request's exchanges are one list, kept for the TTL (60 s here).
    const ttl = await storeRedis.pttl(`${prefix}id:${ids[0]!.requestId}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await storeRedis.llen(`${prefix}id:${ids[0]!.requestId}`)).toBe(2);
    // The store is the test's own: it holds those lists and nothing else.
    expect((await storeRedis.keys('*')).sort()).toEqual(ids.map(({ requestId }) => `${prefix}id:${requestId}`).sort());
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffJournals, getEgressLockdown, memorySink, type JournalEvent, type Profile } from '@mirrorguard/core';
import { Redis } from 'ioredis';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type ThrowawayRedis } from '../../test/support/redis-server.ts';
import { createOrdersGuards } from './guards.ts';
import { createOrdersApp } from './orders-app.ts';
import { listen, ordersDatabase, sendRequests, type Answers, type OrdersRequest } from './orders-test-support.ts';
import { createPaymentsApp } from './payments-service.ts';

// The orders service, the same code in every profile: the primary (record) really writes, charges
// and journals; the mirror (mirror) answers the same requests alike while MariaDB, Redis and the
// payments service see nothing of it; the test profile needs no payments service at all; live is the
// plain service, really writing and charging.
const database = ordersDatabase('mirrorguard_orders');
const mysqlUrl = database.url;
// Its Redis is a redis-server of the test's own (database 3), started in beforeAll.
let redisUrl: string;
const recording = join(mkdtempSync(join(tmpdir(), 'mirrorguard-orders-')), 'payments.har');

/** The same requests, with the same request ids, as a mirror would get them. */
const REQUESTS = [
  { id: 'o-1', method: 'GET', path: '/products/1' },
  { id: 'o-2', method: 'POST', path: '/orders', body: { productId: 1, quantity: 2 } },
  { id: 'o-3', method: 'POST', path: '/orders', body: { productId: 2, quantity: 1 } },
  { id: 'o-4', method: 'POST', path: '/orders', body: { productId: 1, quantity: 50 } },
] as const satisfies readonly OrdersRequest[];

describe('the orders service on Express, in every profile', () => {
  const payments = createPaymentsApp();
  let paymentsServer: Awaited<ReturnType<typeof listen>>;
  let redisServer: ThrowawayRedis;
  let redis: Redis;
  const driver = new Agent();
  const primaryAnswers: Answers = new Map();
  const journals = new Map<Profile, JournalEvent[]>();

  async function run(profile: Profile): Promise<Answers> {
    const sink = memorySink({ limit: 10_000 });
    const guards = await createOrdersGuards({ database: { type: 'mariadb', url: mysqlUrl }, redis: redisUrl, recording, profile, journal: { sinks: [sink] } });
    const service = await listen(createOrdersApp({ db: guards.db, redis: guards.redis, http: guards.http, paymentsUrl: paymentsServer.url }));
    // A mirror refuses every connection it was not told of, this test's own calls to the service too.
    getEgressLockdown()?.allow(new URL(service.url).host, 'the service under test', 'orders.test');
    let answers: Answers;
    try {
      answers = await sendRequests(service.url, REQUESTS, driver);
    } finally {
      await service.close();
      await guards.close();
      // A closed mirror or test stub keeps this process off the network; the next profile's run needs it.
      guards.http.reopenNetwork();
      // The lockdown outlives the guards (a closing mirror keeps refusing); the next test runs another profile.
      getEgressLockdown()?.dispose();
    }
    journals.set(profile, sink.events());
    return answers;
  }

  beforeAll(async () => {
    await database.create();
    redisServer = await startRedisServer();
    redisUrl = `${redisServer.url}/3`;
    redis = new Redis(redisUrl);
    paymentsServer = await listen(payments);
  });
  afterAll(async () => {
    await paymentsServer.close();
    await driver.close();
    redis?.disconnect();
    await redisServer?.kill();
  });

  it('record: the primary serves, writes, charges, records the payments calls and journals its writes', async () => {
    for (const [id, answer] of await run('record')) primaryAnswers.set(id, answer);
    expect(primaryAnswers.get('o-1')).toEqual({ status: 200, body: { id: 1, name: 'lamp', price: 12, stock: 10 } });
    expect(primaryAnswers.get('o-2')).toMatchObject({ status: 201, body: { status: 'paid', payment: expect.stringMatching(/^ch_/) } });
    expect(primaryAnswers.get('o-3')).toMatchObject({ status: 402, body: { status: 'declined' } });
    expect(primaryAnswers.get('o-4')).toEqual({ status: 409, body: { error: 'out of stock' } });
    expect(payments.charges).toHaveLength(2);
    expect(await redis.get('stock:1')).toBe('8');
    const recorded = journals.get('record')!.filter((event) => event.action === 'recorded').map((event) => `${event.dependency} ${event.operation.split(' ')[0]}`);
    expect(recorded).toEqual(expect.arrayContaining(['db INSERT', 'db UPDATE', 'redis decrby', 'http POST']));
  });

  it('mirror: the same requests get the same answers, and nothing outside the mirror changes', async () => {
    const databaseBefore = await database.state();
    const keys = (await redis.keys('*')).sort();
    const dumps = await Promise.all(keys.map((key) => redis.dumpBuffer(key)));
    const charges = payments.charges.length;
    const answers = await run('mirror');
    expect(answers.get('o-1')).toEqual(primaryAnswers.get('o-1'));
    // The same charge, replayed; the order id is one the mirror simulated.
    expect(answers.get('o-2')).toMatchObject({ status: 201, body: { status: 'paid', payment: primaryAnswers.get('o-2')!.body.payment } });
    expect(answers.get('o-3')).toMatchObject({ status: 402, body: { status: 'declined' } });
    expect(answers.get('o-4')).toEqual(primaryAnswers.get('o-4'));
    expect(await database.state()).toBe(databaseBefore);
    expect((await redis.keys('*')).sort()).toEqual(keys);
    expect(await Promise.all(keys.map((key) => redis.dumpBuffer(key)))).toEqual(dumps);
    expect(payments.charges).toHaveLength(charges);
    // What the mirror would have written, against what the primary wrote.
    // What the mirror would have written, against what the primary wrote: the same SQL and the same
    // calls. Redis differs where the mirror ran after the primary: the product cache was warm.
    const diff = diffJournals(journals.get('record')!, journals.get('mirror')!);
    const differences = diff.requests.flatMap((request) => request.differences.map((difference) => ({ request: request.requestId, ...difference })));
    expect(differences.filter((difference) => difference.dependency !== 'redis')).toEqual([]);
    expect(differences).toEqual([
      { request: 'o-1', kind: 'missing', dependency: 'redis', primary: expect.stringMatching(/^set product:1 /) },
      { request: 'o-3', kind: 'missing', dependency: 'redis', primary: expect.stringMatching(/^set product:2 /) },
    ]);
  });

  it('test: replays the payments service from the recording, with Redis in memory', async () => {
    const charges = payments.charges.length;
    const answers = await run('test');
    expect(answers.get('o-2')).toMatchObject({ status: 201, body: { status: 'paid', payment: primaryAnswers.get('o-2')!.body.payment } });
    expect(payments.charges).toHaveLength(charges);
  });

  it('live: plain dependencies — the service really writes orders and charges the payments service, and journals nothing', async () => {
    const rows = database.query;
    const [{ n: ordersBefore }] = (await rows('SELECT COUNT(*) AS n FROM orders')) as [{ n: number }];
    const [{ stock: stockBefore }] = (await rows('SELECT stock FROM products WHERE id = 1')) as [{ stock: number }];
    const counterBefore = Number(await redis.get('stock:1'));
    const charges = payments.charges.length;
    const answers = await run('live');
    expect(answers.get('o-1')).toMatchObject({ status: 200, body: { id: 1, name: 'lamp', price: 12 } });
    expect(answers.get('o-2')).toEqual({ status: 201, body: { order: expect.any(Number), status: 'paid', payment: expect.stringMatching(/^ch_/) } });
    expect(answers.get('o-3')).toEqual({ status: 402, body: { order: expect.any(Number), status: 'declined' } });
    expect(answers.get('o-4')).toEqual({ status: 409, body: { error: 'out of stock' } });
    const paid = answers.get('o-2')!.body.order as number;
    const declined = answers.get('o-3')!.body.order as number;
    // The payments service was really called, the orders really written, the stock really taken.
    expect(payments.charges.slice(charges)).toEqual([{ order: paid, amount: 24 }, { order: declined, amount: 1500 }]);
    expect(await rows('SELECT COUNT(*) AS n FROM orders')).toEqual([{ n: ordersBefore + 2 }]);
    expect(await rows(`SELECT id, status, payment_id FROM orders WHERE id IN (${paid}, ${declined}) ORDER BY id`)).toEqual([
      { id: paid, status: 'paid', payment_id: answers.get('o-2')!.body.payment },
      { id: declined, status: 'declined', payment_id: null },
    ]);
    expect(await rows('SELECT stock FROM products WHERE id = 1')).toEqual([{ stock: stockBefore - 2 }]);
    expect(Number(await redis.get('stock:1'))).toBe(counterBefore - 2);
    // Plain clients: nothing intercepted, nothing journaled.
    expect(journals.get('live')!.filter((event) => event.action !== 'warned')).toEqual([]);
  });
});

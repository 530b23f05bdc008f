import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffJournals, getEgressLockdown, memorySink, type JournalEvent, type Profile } from '@mirrorguard/core';
import { startTestTransaction, type TestTransaction } from '@mirrorguard/db-readonly';
import { getGuardToken } from '@mirrorguard/nest';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type ThrowawayRedis } from '../../test/support/redis-server.ts';
import { listen, ordersDatabase, sendRequests, type Answers, type OrdersRequest } from '../orders-express/orders-test-support.ts';
import { createPaymentsApp } from '../orders-express/payments-service.ts';
import { OrdersModule } from './orders.module.ts';

// The orders service on NestJS, the same code in every profile: the primary (record) really writes,
// charges and journals; the mirror (mirror) answers the same requests alike while MariaDB, Redis and
// the payments service see nothing of it; the test profile runs with no payments service at all;
// live is the plain service. The payments calls go through @nestjs/axios (node:http).
const database = ordersDatabase('mirrorguard_orders_nest');
const mysqlUrl = database.url;
const { query } = database;
// Its Redis is a redis-server of the test's own (database 3), started in beforeAll.
let redisUrl: string;
const recording = join(mkdtempSync(join(tmpdir(), 'mirrorguard-orders-nest-')), 'payments.har');

/** The same requests, with the same request ids, as a mirror would get them. */
const REQUESTS = [
  { id: 'n-1', method: 'GET', path: '/products/1' },
  { id: 'n-2', method: 'POST', path: '/orders', body: { productId: 1, quantity: 2 } },
  { id: 'n-3', method: 'POST', path: '/orders', body: { productId: 2, quantity: 1 } },
  { id: 'n-4', method: 'POST', path: '/orders', body: { productId: 1, quantity: 50 } },
  { id: 'n-5', method: 'POST', path: '/orders', body: { productId: 9, quantity: 1 } },
  { id: 'n-6', method: 'GET', path: '/products/9' },
] as const satisfies readonly OrdersRequest[];

describe('the orders service on NestJS, in every profile', () => {
  const payments = createPaymentsApp();
  let paymentsServer: Awaited<ReturnType<typeof listen>>;
  let redisServer: ThrowawayRedis;
  let redis: Redis;
  // The test's own agent: the stub, installed process-wide, is for the service's outbound calls,
  // not for the test's calls into the service.
  const driver = new Agent();
  const primaryAnswers: Answers = new Map();
  const journals = new Map<Profile, JournalEvent[]>();

  const redisState = async (): Promise<{ keys: string[]; dumps: Array<Buffer | null> }> => {
    const keys = (await redis.keys('*')).sort();
    return { keys, dumps: await Promise.all(keys.map((key) => redis.dumpBuffer(key))) };
  };

  /** Starts the Nest app in `profile`, sends REQUESTS in order, shuts the app down (which closes the guards). */
  async function run(profile: Profile, paymentsUrl: string, options: { inTestTransaction?: boolean } = {}): Promise<Answers> {
    const sink = memorySink({ limit: 10_000 });
    const app = await NestFactory.create(OrdersModule.forRoot({ database: { type: 'mariadb', url: mysqlUrl }, redis: redisUrl, recording, paymentsUrl, profile, journal: { sinks: [sink] } }), { logger: false });
    let answers: Answers = new Map();
    let transaction: TestTransaction | undefined;
    try {
      await app.listen(0, '127.0.0.1');
      const url = await app.getUrl();
      // A mirror refuses every connection it was not told of, this test's own calls to the service too.
      getEgressLockdown()?.allow(new URL(url).host, 'the service under test', 'orders.test');
      // The test profile's database is the real one: the test rolls back whatever the service wrote.
      if (options.inTestTransaction === true) transaction = await startTestTransaction(app.get<string, DataSource>(getGuardToken('db')));
      answers = await sendRequests(url, REQUESTS, driver);
    } finally {
      await transaction?.rollback();
      const http = app.get<string, { reopenNetwork(): void }>(getGuardToken('http'));
      await app.close();
      // A closed mirror or test stub keeps this process off the network; the next profile's run needs it.
      http.reopenNetwork();
      // The lockdown outlives the guards (a closing mirror keeps refusing); the next test runs another profile.
      getEgressLockdown()?.dispose();
    }
    journals.set(profile, sink.events());
    return answers;
  }

  const guarded = (profile: Profile): string[] =>
    journals
      .get(profile)!
      .filter((event) => event.action !== 'warned')
      .map((event) => `${event.requestId} ${event.dependency} ${event.action} ${event.operation.split(' ')[0]}`);

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

  it('record: the primary serves, writes, charges, records the payments calls (axios) and journals its writes', async () => {
    for (const [id, answer] of await run('record', paymentsServer.url)) primaryAnswers.set(id, answer);
    expect(primaryAnswers.get('n-1')).toEqual({ status: 200, body: { id: 1, name: 'lamp', price: 12, stock: 10 } });
    expect(primaryAnswers.get('n-2')).toEqual({ status: 201, body: { order: 1, status: 'paid', payment: expect.stringMatching(/^ch_/) } });
    expect(primaryAnswers.get('n-3')).toEqual({ status: 402, body: { order: 2, status: 'declined' } });
    expect(primaryAnswers.get('n-4')).toEqual({ status: 409, body: { error: 'out of stock' } });
    expect(primaryAnswers.get('n-5')).toEqual({ status: 404, body: { error: 'no such product' } });
    expect(primaryAnswers.get('n-6')).toEqual({ status: 404, body: { error: 'no such product' } });
    // Really written and charged.
    expect(payments.charges).toEqual([{ order: 1, amount: 24 }, { order: 2, amount: 1500 }]);
    expect(await query('SELECT id, product_id, quantity, total, status, payment_id FROM orders ORDER BY id')).toEqual([
      { id: 1, product_id: 1, quantity: 2, total: 24, status: 'paid', payment_id: primaryAnswers.get('n-2')!.body.payment },
      { id: 2, product_id: 2, quantity: 1, total: 1500, status: 'declined', payment_id: null },
    ]);
    expect(await query('SELECT id, stock FROM products ORDER BY id')).toEqual([{ id: 1, stock: 8 }, { id: 2, stock: 3 }]);
    expect(await redis.get('stock:1')).toBe('8');
    expect(await redis.get('stock:2')).toBe('3');
    // The writes it really made, journaled as recorded under their request ids.
    const recorded = journals.get('record')!.filter((event) => event.action === 'recorded').map((event) => `${event.requestId} ${event.dependency} ${event.operation.split(' ')[0]}`);
    expect(recorded).toEqual(expect.arrayContaining(['n-2 db INSERT', 'n-2 db UPDATE', 'n-2 redis decrby', 'n-2 http POST', 'n-3 http POST', 'n-3 redis incrby']));
    expect(journals.get('record')!.filter((event) => event.dependency === 'http')).toMatchObject([
      { requestId: 'n-2', action: 'recorded', method: 'POST', path: '/orders' },
      { requestId: 'n-3', action: 'recorded', method: 'POST', path: '/orders' },
    ]);
  });

  it('mirror: the same requests get the same answers, and nothing outside the mirror changes', async () => {
    const databaseBefore = await database.state();
    const before = await redisState();
    const charges = payments.charges.length;
    const answers = await run('mirror', paymentsServer.url);
    expect(answers.get('n-1')).toEqual(primaryAnswers.get('n-1'));
    // The same charge, replayed from the primary's recording; the order id is one the mirror simulated.
    expect(answers.get('n-2')).toEqual({ status: 201, body: { order: expect.any(Number), status: 'paid', payment: primaryAnswers.get('n-2')!.body.payment } });
    expect(answers.get('n-3')).toEqual({ status: 402, body: { order: expect.any(Number), status: 'declined' } });
    for (const id of ['n-4', 'n-5', 'n-6']) expect(answers.get(id)).toEqual(primaryAnswers.get(id));
    // MariaDB, Redis and the payments service saw nothing of the mirror.
    expect(await database.state()).toBe(databaseBefore);
    expect(await redisState()).toEqual(before);
    expect(payments.charges).toHaveLength(charges);
    // The payments calls were replayed, the writes simulated (database) or shadowed (Redis).
    expect(guarded('mirror')).toEqual(expect.arrayContaining(['n-2 http replayed POST', 'n-3 http replayed POST', 'n-2 db simulated INSERT', 'n-2 redis shadowed decrby']));
    expect(journals.get('mirror')!.filter((event) => event.action === 'recorded' || event.action === 'passed')).toEqual([]);
    // What the mirror would have written, against what the primary wrote: the same SQL and the same
    // calls. Redis differs where the mirror ran after the primary: the product cache was warm.
    const diff = diffJournals(journals.get('record')!, journals.get('mirror')!);
    const differences = diff.requests.flatMap((request) => request.differences.map((difference) => ({ request: request.requestId, ...difference })));
    expect(differences).toEqual([
      { request: 'n-1', kind: 'missing', dependency: 'redis', primary: expect.stringMatching(/^set product:1 /) },
      { request: 'n-3', kind: 'missing', dependency: 'redis', primary: expect.stringMatching(/^set product:2 /) },
    ]);
  });

  it('test: no payments service at all — the calls are replayed from the recording, and nothing outside changes', async () => {
    const recordedUrl = paymentsServer.url;
    await paymentsServer.close();
    const databaseBefore = await database.state();
    const before = await redisState();
    const charges = payments.charges.length;
    // The same URL as recorded (matching includes it), with nothing listening there any more.
    const answers = await run('test', recordedUrl, { inTestTransaction: true });
    // Redis starts empty (in memory): the product comes from the database, where the primary's order took 2.
    expect(answers.get('n-1')).toEqual({ status: 200, body: { id: 1, name: 'lamp', price: 12, stock: 8 } });
    expect(answers.get('n-2')).toEqual({ status: 201, body: { order: expect.any(Number), status: 'paid', payment: primaryAnswers.get('n-2')!.body.payment } });
    expect(answers.get('n-3')).toEqual({ status: 402, body: { order: expect.any(Number), status: 'declined' } });
    for (const id of ['n-4', 'n-5', 'n-6']) expect(answers.get(id)).toEqual(primaryAnswers.get(id));
    expect(payments.charges).toHaveLength(charges);
    // Redis was the in-memory engine; the database writes were rolled back with the test transaction.
    expect(await redisState()).toEqual(before);
    expect(await database.state()).toBe(databaseBefore);
    expect(guarded('test').filter((event) => event.includes(' http '))).toEqual(['n-2 http replayed POST', 'n-3 http replayed POST']);
  });

  it('live: the plain service — really writes and charges, journals nothing', async () => {
    const livePayments = createPaymentsApp();
    const server = await listen(livePayments);
    paymentsServer = server;
    const ordersBefore = (await query<{ n: number }>('SELECT COUNT(*) AS n FROM orders'))[0]!.n;
    const stockBefore = (await query<{ stock: number }>('SELECT stock FROM products WHERE id = 1'))[0]!.stock;
    const counterBefore = Number(await redis.get('stock:1'));
    const answers = await run('live', server.url);
    expect(answers.get('n-1')).toMatchObject({ status: 200, body: { id: 1, name: 'lamp', price: 12 } });
    expect(answers.get('n-2')).toEqual({ status: 201, body: { order: expect.any(Number), status: 'paid', payment: expect.stringMatching(/^ch_/) } });
    expect(answers.get('n-3')).toEqual({ status: 402, body: { order: expect.any(Number), status: 'declined' } });
    for (const id of ['n-4', 'n-5', 'n-6']) expect(answers.get(id)).toEqual(primaryAnswers.get(id));
    // Really charged, written and reserved.
    const paid = answers.get('n-2')!.body.order as number;
    const declined = answers.get('n-3')!.body.order as number;
    expect(livePayments.charges).toEqual([{ order: paid, amount: 24 }, { order: declined, amount: 1500 }]);
    expect(await query('SELECT COUNT(*) AS n FROM orders')).toEqual([{ n: ordersBefore + 2 }]);
    expect(await query(`SELECT id, status, payment_id FROM orders WHERE id IN (${paid}, ${declined}) ORDER BY id`)).toEqual([
      { id: paid, status: 'paid', payment_id: answers.get('n-2')!.body.payment },
      { id: declined, status: 'declined', payment_id: null },
    ]);
    expect(await query('SELECT stock FROM products WHERE id = 1')).toEqual([{ stock: stockBefore - 2 }]);
    expect(Number(await redis.get('stock:1'))).toBe(counterBefore - 2);
    // Plain clients: no guarded event at all.
    expect(guarded('live')).toEqual([]);
  });
});

// SORT … GET over origin and shadow (sortOverBoth): each key a pattern names is read from the side
// that holds it at the SORT's place in the command order. Oracle: a reference Redis given the same
// keys and the same pipeline.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShadowRedis } from '@mirrorguard/redis-shadow';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

describe('SORT with GET patterns over origin and shadow', () => {
  let origin: ThrowawayRedis;
  let shadow: ThrowawayRedis;
  let reference: ThrowawayRedis;
  let originAdmin: Redis;
  let referenceClient: Redis;
  let client: ShadowRedis;

  beforeAll(async () => {
    [origin, shadow, reference] = await Promise.all([startRedisServer(), startRedisServer(), startRedisServer()]);
    originAdmin = new Redis(origin.url);
    referenceClient = new Redis(reference.url);
    for (const admin of [originAdmin, referenceClient]) await admin.multi().rpush('ids', '1', '2').set('w:1', 'a').set('w:2', 'b').exec();
    client = new ShadowRedis(origin.url, { shadow: shadow.shadowUrl });
    // The shadow owns a key: SORT … GET then reads over both sides.
    for (const target of [client, referenceClient]) await target.set('owned', 'x');
  });

  afterAll(async () => {
    await client.close();
    originAdmin.disconnect();
    referenceClient.disconnect();
    await Promise.all([origin.kill(), shadow.kill(), reference.kill()]);
  });

  it('reads a GET key written before the SORT from the shadow', async () => {
    const pipeline = (target: Redis) => target.pipeline().set('w:1', 'c').sort('ids', 'GET', 'w:*').exec();
    expect(await pipeline(client)).toEqual(await pipeline(referenceClient));
  });

  // Known wrong answer (found by the connector's keyspace tests): a write pipelined AFTER the SORT
  // claims its key at once, and sortOverBoth reads a claimed key from the shadow, where it is not
  // yet: the SORT answers null for it instead of the origin's value. The connector avoids it (its
  // queue makes every earlier write owned before a SORT runs); ShadowRedis needs claims from earlier
  // and later commands told apart.
  it.fails('reads a GET key that a later command of the pipeline writes from where it is now (the origin)', async () => {
    const pipeline = (target: Redis) => target.pipeline().sort('ids', 'GET', 'w:*').set('w:2', 'd').exec();
    expect(await pipeline(client)).toEqual(await pipeline(referenceClient));
  });
});

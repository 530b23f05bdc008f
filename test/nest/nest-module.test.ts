import 'reflect-metadata';
import { getEgressLockdown, getRequestContext, memorySink, type Guards, type ProviderMap, type Profile } from '@mirrorguard/core';
import { redisProvider } from '@mirrorguard/redis-shadow';
import { InjectGuardedRedis, InjectGuards, MirrorGuardModule } from '@mirrorguard/nest';
import { Controller, Get, Injectable, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';

// An app whose code is the same in every profile: a controller gets the Redis client and the guards
// by injection, reads the request id from the context, and reserves stock. Decorators are applied
// as calls, so the test needs no decorator compiler setting. Its Redis is a redis-server of the
// test's own (database 1).
let originUrl: string;

class StockController {
  readonly #redis: Redis;
  readonly #guards: Guards<ProviderMap>;

  constructor(redis: Redis, guards: Guards<ProviderMap>) {
    this.#redis = redis;
    this.#guards = guards;
  }

  async stock(sku: string): Promise<{ requestId: string | undefined; stock: string | null; profile: string }> {
    return { requestId: getRequestContext()?.requestId, stock: await this.#redis.get(`stock:${sku}`), profile: this.#guards.profile };
  }

  async reserve(sku: string): Promise<{ left: number }> {
    return { left: await this.#redis.decr(`stock:${sku}`) };
  }
}
Controller('stock')(StockController);
Injectable()(StockController);
InjectGuardedRedis()(StockController, undefined, 0);
InjectGuards()(StockController, undefined, 1);
for (const [method, decorate] of [['stock', Get(':sku')], ['reserve', Post(':sku/reserve')]] as const) {
  decorate(StockController.prototype, method, Object.getOwnPropertyDescriptor(StockController.prototype, method)!);
  Param('sku')(StockController.prototype, method, 0);
}

async function startApp(profile: Profile, sink = memorySink()): Promise<INestApplication> {
  class AppModule {}
  Module({
    imports: [
      MirrorGuardModule.forRoot({
        profile,
        journal: { sinks: [sink] },
        providers: { redis: redisProvider({ origin: originUrl, shadow: 'memory', seed: (redis) => redis.set('stock:lamp', '3').then(() => undefined) }) },
      }),
    ],
    controllers: [StockController],
  })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  // A mirror refuses every connection it was not told of, this test's own calls to the app too.
  getEgressLockdown()?.allow(new URL(await app.getUrl()).host, 'the app under test', 'nest-module.test');
  return app;
}

const call = async (app: INestApplication, method: string, path: string, requestId: string): Promise<unknown> => {
  const response = await fetch(`${await app.getUrl()}${path}`, { method, headers: { 'x-request-id': requestId } });
  return response.json();
};

describe('MirrorGuardModule', () => {
  let server: ThrowawayRedis;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    originUrl = `${server.url}/1`;
    admin = new Redis(originUrl);
    await admin.set('stock:lamp', '10');
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.kill();
  });

  it.each([
    ['live', '10', 9],
    ['record', '10', 9],
    ['mirror', '10', 9],
    ['test', '3', 2],
  ] as const)('%s: injects the profile\'s client, sets request context, journals, and closes on shutdown', async (profile, stock, left) => {
    await admin.set('stock:lamp', '10');
    const sink = memorySink();
    const app = await startApp(profile, sink);
    try {
      expect(await call(app, 'GET', '/stock/lamp', `req-${profile}`)).toEqual({ requestId: `req-${profile}`, stock, profile });
      expect(await call(app, 'POST', '/stock/lamp/reserve', `res-${profile}`)).toEqual({ left });
    } finally {
      await app.close();
      // The lockdown outlives the guards (a closing mirror keeps refusing); the next case runs another profile.
      getEgressLockdown()?.dispose();
    }
    // The mirror's and the test's writes never reached the real Redis.
    expect(await admin.get('stock:lamp')).toBe(profile === 'live' || profile === 'record' ? '9' : '10');
    const journaled = sink.events().filter((event) => event.dependency === 'redis' && event.action !== 'warned');
    if (profile === 'record') expect(journaled).toMatchObject([{ action: 'recorded', operation: 'decr stock:lamp', requestId: 'res-record', method: 'POST', path: '/stock/lamp/reserve' }]);
    if (profile === 'mirror') expect(journaled).toMatchObject([{ action: 'shadowed', operation: 'decr stock:lamp', requestId: 'res-mirror' }]);
  });

  it('forRootAsync builds the options in a factory, with injected dependencies', async () => {
    class ConfigModule {}
    const CONFIG = 'config';
    Module({ providers: [{ provide: CONFIG, useValue: { origin: originUrl } }], exports: [CONFIG] })(ConfigModule);
    class AppModule {}
    Module({
      imports: [
        MirrorGuardModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          names: ['redis'],
          useFactory: ((config: { origin: string }) => ({ profile: 'test', providers: { redis: redisProvider({ origin: config.origin, seed: (redis) => redis.set('stock:lamp', '5').then(() => undefined) }) } })) as never,
        }),
      ],
      controllers: [StockController],
    })(AppModule);
    const app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      expect(await call(app, 'GET', '/stock/lamp', 'async-1')).toEqual({ requestId: 'async-1', stock: '5', profile: 'test' });
    } finally {
      await app.close();
    }
  });
});

// One orders service process: examples/orders-express, built through mirrorguard's providers. The
// demo starts it three times with the same code and another environment: MIRROR_PROFILE=record for
// the primary, MIRROR=1 for the mirrors (and ORDERS_PAID_STATUS=captured for the candidate).
import type { AddressInfo } from 'node:net';
import { createGuards, jsonlFileSink } from '@mirrorguard/core';
import { typeormProvider } from '@mirrorguard/db-readonly';
import { httpStubProvider, redisStore } from '@mirrorguard/http-stub';
import { redisProvider } from '@mirrorguard/redis-shadow';
import { Redis } from 'ioredis';
import mysql2 from 'mysql2';
import { OrderSchema, ProductSchema } from '../examples/orders-express/entities.ts';
import { createOrdersApp } from '../examples/orders-express/orders-app.ts';
import { CLIENT_NAME_PREFIX, redisOptions, type ServiceConfig } from './service-config.ts';

const config = JSON.parse(process.env.DEMO_SERVICE ?? '') as ServiceConfig;
const entities = [ProductSchema, OrderSchema];
const dataSource =
  config.database.type === 'mariadb'
    ? ({ type: 'mariadb', url: config.database.url, entities, logging: false } as const)
    : ({ type: 'better-sqlite3', database: config.database.file, entities, logging: false } as const);
const recordings = new Redis(config.recordingsUrl, { connectionName: `${CLIENT_NAME_PREFIX}${config.name}` });

const guards = await createGuards({
  journal: { sinks: [jsonlFileSink(config.journal)] },
  providers: {
    db: typeormProvider({ dataSource, mysql2, guard: { policy: 'simulate' } }),
    redis: redisProvider({ origin: redisOptions(config.redisUrl, config.keyPrefix, `${CLIENT_NAME_PREFIX}${config.name}`), shadow: 'memory' }),
    http: httpStubProvider({
      // Used by the test profile only: here the primary shares its calls through the store.
      recording: config.journal.replace(/\.jsonl$/, '.har'),
      store: redisStore({ redis: recordings, prefix: `${config.keyPrefix}http:` }),
      // The order id in a charge is generated (a mirror's database answers with simulated ids): it
      // does not decide which recorded charge answers.
      match: { normalizers: [(request) => ({ ...request, body: request.body.replace(/"order":\d+/g, '"order":"*"') })] },
    }),
  },
});

const app = createOrdersApp({
  db: guards.db,
  redis: guards.redis,
  http: guards.http,
  paymentsUrl: config.paymentsUrl,
  ...(process.env.ORDERS_PAID_STATUS !== undefined && { paidStatus: process.env.ORDERS_PAID_STATUS }),
});
const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

// The demo that started this process is gone: so is the service.
process.on('disconnect', () => process.exit(1));
process.on('message', (message) => {
  if (message !== 'stop') return;
  server.close(() => {
    void guards.close().then(() => {
      recordings.disconnect();
      process.exit(0);
    });
  });
  server.closeAllConnections();
});

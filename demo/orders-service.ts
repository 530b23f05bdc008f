// One orders service process: examples/orders-express, built through mirrorguard's providers. The
// demo starts it three times with the same code and another environment: MIRROR_PROFILE=record for
// the primary, MIRROR=1 for the mirrors (and ORDERS_PAID_STATUS=captured for the candidate).
import type { AddressInfo } from 'node:net';
import { createGuards, jsonlFileSink } from '@mirrorguard/core';
import { redisStore } from '@mirrorguard/http-stub';
import { Redis } from 'ioredis';
import { ordersProviders } from '../examples/orders-express/guards.ts';
import { createOrdersApp } from '../examples/orders-express/orders-app.ts';
import { CLIENT_NAME_PREFIX, redisOptions, type ServiceConfig } from './service-config.ts';

const config = JSON.parse(process.env.DEMO_SERVICE ?? '') as ServiceConfig;
const connectionName = `${CLIENT_NAME_PREFIX}${config.name}`;
const recordings = new Redis(config.recordingsUrl, { connectionName });

const guards = await createGuards({
  journal: { sinks: [jsonlFileSink(config.journal)] },
  providers: ordersProviders({
    database: config.database,
    redis: redisOptions(config.redisUrl, config.keyPrefix, connectionName),
    // Used by the test profile only: here the primary shares its calls through the store.
    recording: config.journal.replace(/\.jsonl$/, '.har'),
    store: redisStore({ redis: recordings, prefix: `${config.keyPrefix}http:` }),
  }),
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

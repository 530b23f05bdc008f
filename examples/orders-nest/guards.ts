import type { ProviderMap } from '@mirrorguard/core';
import { typeormProvider } from '@mirrorguard/db-readonly';
import { httpStubProvider } from '@mirrorguard/http-stub';
import { redisProvider } from '@mirrorguard/redis-shadow';
import mysql2 from 'mysql2';
import { OrderSchema, ProductSchema } from '../orders-express/entities.ts';

export interface OrdersGuardsOptions {
  readonly mysqlUrl: string;
  readonly redisUrl: string;
  /** The HAR file the primary records its payments calls into, and the mirror and tests replay. */
  readonly recording: string;
}

/**
 * The service's dependencies, one provider each — the same as the Express example's guards.ts. The
 * HTTP stub needs no client of its own: once installed (record, mirror, test) it catches node:http,
 * which `@nestjs/axios` (axios) uses.
 */
export function ordersProviders(options: OrdersGuardsOptions) {
  return {
    db: typeormProvider({ dataSource: { type: 'mariadb', url: options.mysqlUrl, entities: [ProductSchema, OrderSchema], logging: false }, mysql2, guard: { policy: 'simulate' } }),
    redis: redisProvider({ origin: options.redisUrl, shadow: 'memory' }),
    // The order id in a charge is generated (the mirror's database answers with simulated ids):
    // it does not decide which recorded charge answers.
    http: httpStubProvider({ recording: options.recording, match: { normalizers: [(request) => ({ ...request, body: request.body.replace(/"order":\d+/g, '"order":"*"') })] } }),
  } satisfies ProviderMap;
}

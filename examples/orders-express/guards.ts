import { createGuards, type Guards, type JournalOptions, type Profile, type ProviderMap } from '@mirrorguard/core';
import { typeormProvider } from '@mirrorguard/db-readonly';
import { httpStubProvider } from '@mirrorguard/http-stub';
import { redisProvider } from '@mirrorguard/redis-shadow';
import mysql2 from 'mysql2';
import { OrderSchema, ProductSchema } from './entities.ts';

export interface OrdersGuardsOptions {
  readonly mysqlUrl: string;
  readonly redisUrl: string;
  /** The HAR file the primary records its payments calls into, and the mirror and tests replay. */
  readonly recording: string;
}

/**
 * The service's dependencies, one provider each: the only place that knows mirrorguard is there.
 * The Nest example uses the same ones (the HTTP stub, once installed, also catches node:http, which
 * `@nestjs/axios` uses).
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

/** The guards for the Express app, for a profile (from `MIRROR` / `MIRROR_PROFILE` when omitted). */
export function createOrdersGuards(options: OrdersGuardsOptions & { readonly profile?: Profile; readonly journal?: Omit<JournalOptions, 'profile'> }) {
  return createGuards({
    ...(options.profile !== undefined && { profile: options.profile }),
    ...(options.journal !== undefined && { journal: options.journal }),
    providers: ordersProviders(options),
  });
}

export type OrdersGuards = Awaited<ReturnType<typeof createOrdersGuards>>;
export type { Guards };

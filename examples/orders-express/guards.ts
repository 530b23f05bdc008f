import { createGuards, type Guards, type JournalOptions, type Profile } from '@mirrorguard/core';
import { typeormProvider } from '@mirrorguard/db-readonly';
import { httpStubProvider } from '@mirrorguard/http-stub';
import { redisProvider } from '@mirrorguard/redis-shadow';
import mysql2 from 'mysql2';
import { OrderSchema, ProductSchema } from './entities.ts';

export interface OrdersGuardsOptions {
  readonly mysqlUrl: string;
  readonly redisUrl: string;
  /** The HAR file the primary records its payments calls into, and tests replay. */
  readonly recording: string;
  readonly profile?: Profile;
  readonly journal?: Omit<JournalOptions, 'profile'>;
}

/** The service's dependencies, one provider each: the only place that knows mirrorguard is there. */
export function createOrdersGuards(options: OrdersGuardsOptions) {
  return createGuards({
    ...(options.profile !== undefined && { profile: options.profile }),
    ...(options.journal !== undefined && { journal: options.journal }),
    providers: {
      db: typeormProvider({ dataSource: { type: 'mariadb', url: options.mysqlUrl, entities: [ProductSchema, OrderSchema], logging: false }, mysql2, guard: { policy: 'simulate' } }),
      redis: redisProvider({ origin: options.redisUrl, shadow: 'memory' }),
      // The order id in a charge is generated (the mirror's database answers with simulated ids):
      // it does not decide which recorded charge answers.
      http: httpStubProvider({ recording: options.recording, match: { normalizers: [(request) => ({ ...request, body: request.body.replace(/"order":\d+/g, '"order":"*"') })] } }),
    },
  });
}

export type OrdersGuards = Awaited<ReturnType<typeof createOrdersGuards>>;
export type { Guards };

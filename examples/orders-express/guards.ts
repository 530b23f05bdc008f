import { createGuards, type Guards, type JournalOptions, type Profile, type ProviderMap } from '@mirrorguard/core';
import { typeormProvider } from '@mirrorguard/db-readonly';
import { httpStubProvider, type ExchangeStore } from '@mirrorguard/http-stub';
import { redisProvider } from '@mirrorguard/redis-shadow';
import type { RedisOptions } from 'ioredis';
import mysql2 from 'mysql2';
import { OrderSchema, ProductSchema } from './entities.ts';

export interface OrdersGuardsOptions {
  /** The database: MariaDB by URL, or a SQLite file (TypeORM's better-sqlite3 type, run on node:sqlite). */
  readonly database: { readonly type: 'mariadb'; readonly url: string } | { readonly type: 'sqlite'; readonly file: string };
  /** The Redis origin: a URL or ioredis options. */
  readonly redis: string | RedisOptions;
  /** The HAR file the primary records its payments calls into, and the mirror and tests replay. */
  readonly recording: string;
  /** Where a live primary shares its recorded calls with its mirrors (`redisStore`); the HAR file when omitted. */
  readonly store?: ExchangeStore;
}

/**
 * A charge's order id is generated (a mirror's database answers with simulated ids): it neither
 * decides which recorded charge answers a call nor makes two answers differ.
 */
export const withoutOrderIds = (text: string): string => text.replace(/"order":\d+/g, '"order":"*"');

/**
 * The service's dependencies, one provider each: the only place that knows mirrorguard is there.
 * The Nest example and the demo use the same ones (the HTTP stub, once installed, also catches
 * node:http, which `@nestjs/axios` uses).
 */
export function ordersProviders(options: OrdersGuardsOptions) {
  const entities = [ProductSchema, OrderSchema];
  const dataSource =
    options.database.type === 'mariadb'
      ? ({ type: 'mariadb', url: options.database.url, entities, logging: false } as const)
      : ({ type: 'better-sqlite3', database: options.database.file, entities, logging: false } as const);
  return {
    db: typeormProvider({ dataSource, mysql2, guard: { policy: 'simulate' } }),
    redis: redisProvider({ origin: options.redis, shadow: 'memory' }),
    http: httpStubProvider({
      recording: options.recording,
      ...(options.store !== undefined && { store: options.store }),
      match: { normalizers: [(request) => ({ ...request, body: withoutOrderIds(request.body) })] },
    }),
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

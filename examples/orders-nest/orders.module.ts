import 'reflect-metadata';
import type { JournalOptions, Profile } from '@mirrorguard/core';
import { MirrorGuardModule } from '@mirrorguard/nest';
import { HttpModule } from '@nestjs/axios';
import { Module, type DynamicModule } from '@nestjs/common';
import { ordersProviders, type OrdersGuardsOptions } from '../orders-express/guards.ts';
import { OrdersController, ProductsController } from './orders.controller.ts';
import { OrdersService, PAYMENTS_URL } from './orders.service.ts';

export interface OrdersModuleOptions extends OrdersGuardsOptions {
  readonly paymentsUrl: string;
  /** The profile; from `MIRROR` / `MIRROR_PROFILE` when omitted, as in production. */
  readonly profile?: Profile;
  readonly journal?: Omit<JournalOptions, 'profile'>;
}

/**
 * The orders service as a Nest module: `MirrorGuardModule` builds the DataSource, the Redis client
 * and the HTTP stub for the profile, `HttpModule` gives the service its axios client.
 */
export class OrdersModule {
  static forRoot(options: OrdersModuleOptions): DynamicModule {
    return {
      module: OrdersModule,
      imports: [
        MirrorGuardModule.forRoot({
          providers: ordersProviders(options),
          ...(options.profile !== undefined && { profile: options.profile }),
          ...(options.journal !== undefined && { journal: options.journal }),
        }),
        HttpModule.register({}),
      ],
      providers: [OrdersService, { provide: PAYMENTS_URL, useValue: options.paymentsUrl }],
      controllers: [ProductsController, OrdersController],
    };
  }
}
Module({})(OrdersModule);

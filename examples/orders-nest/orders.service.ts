import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import { InjectGuardedDataSource, InjectGuardedRedis } from '@mirrorguard/nest';
import type { Redis } from 'ioredis';
import { firstValueFrom } from 'rxjs';
import type { DataSource, Repository } from 'typeorm';
import { OrderSchema, ProductSchema, type Order, type Product } from '../orders-express/entities.ts';

/** The token of the payments service's base URL. */
export const PAYMENTS_URL = 'orders:payments-url';

export type OrderResult =
  | { readonly outcome: 'paid'; readonly order: number; readonly payment: string | undefined }
  | { readonly outcome: 'declined'; readonly order: number }
  | { readonly outcome: 'out of stock' }
  | { readonly outcome: 'no such product' };

/**
 * The orders service. Nothing here knows the profile: the DataSource, the Redis client and the
 * outbound HTTP it is given are plain in `live`, journaled in `record`, guarded in `mirror` and
 * hermetic in `test`.
 */
export class OrdersService {
  readonly #redis: Redis;
  readonly #http: HttpService;
  readonly #paymentsUrl: string;
  readonly #products: Repository<Product>;
  readonly #orders: Repository<Order>;

  constructor(db: DataSource, redis: Redis, http: HttpService, paymentsUrl: string) {
    this.#redis = redis;
    this.#http = http;
    this.#paymentsUrl = paymentsUrl;
    this.#products = db.getRepository(ProductSchema);
    this.#orders = db.getRepository(OrderSchema);
  }

  /** Cache-aside: Redis first, then the database (cached for a minute). */
  async product(id: number): Promise<Product | null> {
    const cached = await this.#redis.get(`product:${id}`);
    if (cached !== null) return JSON.parse(cached) as Product;
    const found = await this.#products.findOneBy({ id });
    if (found !== null) await this.#redis.set(`product:${id}`, JSON.stringify(found), 'EX', 60);
    return found;
  }

  async order(productId: number, quantity: number): Promise<OrderResult> {
    const found = await this.product(productId);
    if (found === null) return { outcome: 'no such product' };
    // Stock is reserved in Redis first (a counter seeded from the database), released on failure.
    await this.#redis.set(`stock:${productId}`, String(found.stock), 'NX');
    if ((await this.#redis.decrby(`stock:${productId}`, quantity)) < 0) {
      await this.#redis.incrby(`stock:${productId}`, quantity);
      return { outcome: 'out of stock' };
    }
    const order = await this.#orders.save({ productId, quantity, total: found.price * quantity, status: 'pending', paymentId: null });
    // Through @nestjs/axios (axios on node:http); a declined charge is an answer, not an error.
    const payment = await firstValueFrom(
      this.#http.post<{ id?: string; status: string }>(`${this.#paymentsUrl}/charges`, { order: order.id, amount: order.total }, { validateStatus: () => true }),
    );
    if (payment.status >= 200 && payment.status < 300) {
      await this.#orders.update({ id: order.id }, { status: 'paid', paymentId: payment.data.id ?? null });
      await this.#products.decrement({ id: productId }, 'stock', quantity);
      return { outcome: 'paid', order: order.id, payment: payment.data.id };
    }
    await this.#orders.update({ id: order.id }, { status: 'declined' });
    await this.#redis.incrby(`stock:${productId}`, quantity);
    return { outcome: 'declined', order: order.id };
  }
}
// Nest's decorators, applied as calls (no decorator compiler setting, no emitted metadata).
Injectable()(OrdersService);
InjectGuardedDataSource()(OrdersService, undefined, 0);
InjectGuardedRedis()(OrdersService, undefined, 1);
Inject(HttpService)(OrdersService, undefined, 2);
Inject(PAYMENTS_URL)(OrdersService, undefined, 3);

import { requestContextMiddleware } from '@mirrorguard/core';
import type { HttpStub } from '@mirrorguard/http-stub';
import express from 'express';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { OrderSchema, ProductSchema, type Product } from './entities.ts';

export interface OrdersDependencies {
  readonly db: DataSource;
  readonly redis: Redis;
  readonly http: HttpStub;
  readonly paymentsUrl: string;
  /**
   * The status a paid order gets: `paid` by default. A change being tried out (the demo's candidate
   * mirror runs with `ORDERS_PAID_STATUS=captured`) alters this one write, nothing else.
   */
  readonly paidStatus?: string;
}

/**
 * The orders service. Nothing here knows the profile: the dependencies it is given are plain in
 * `live`, journaled in `record`, guarded in `mirror` and hermetic in `test`.
 */
export function createOrdersApp({ db, redis, http, paymentsUrl, paidStatus = 'paid' }: OrdersDependencies): express.Express {
  const app = express();
  app.use(express.json());
  app.use(requestContextMiddleware());
  const products = db.getRepository(ProductSchema);
  const orders = db.getRepository(OrderSchema);

  /** Cache-aside: Redis first, then the database (cached for a minute). */
  async function product(id: number): Promise<Product | null> {
    const cached = await redis.get(`product:${id}`);
    if (cached !== null) return JSON.parse(cached) as Product;
    const found = await products.findOneBy({ id });
    if (found !== null) await redis.set(`product:${id}`, JSON.stringify(found), 'EX', 60);
    return found;
  }

  app.get('/products/:id', async (request, response) => {
    const found = await product(Number(request.params.id));
    if (found === null) response.status(404).json({ error: 'no such product' });
    else response.json(found);
  });

  app.post('/orders', async (request, response) => {
    const { productId, quantity } = request.body as { productId: number; quantity: number };
    const found = await product(productId);
    if (found === null) {
      response.status(404).json({ error: 'no such product' });
      return;
    }
    // Stock is reserved in Redis first (a counter seeded from the database), released on failure.
    await redis.set(`stock:${productId}`, String(found.stock), 'NX');
    if ((await redis.decrby(`stock:${productId}`, quantity)) < 0) {
      await redis.incrby(`stock:${productId}`, quantity);
      response.status(409).json({ error: 'out of stock' });
      return;
    }
    const order = await orders.save({ productId, quantity, total: found.price * quantity, status: 'pending', paymentId: null });
    const payment = await fetch(`${paymentsUrl}/charges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ order: order.id, amount: order.total }),
      dispatcher: http.dispatcher,
    } as unknown as RequestInit);
    const charge = (await payment.json()) as { id?: string; status: string };
    if (payment.ok) {
      await orders.update({ id: order.id }, { status: paidStatus, paymentId: charge.id ?? null });
      await products.decrement({ id: productId }, 'stock', quantity);
      response.status(201).json({ order: order.id, status: 'paid', payment: charge.id });
    } else {
      await orders.update({ id: order.id }, { status: 'declined' });
      await redis.incrby(`stock:${productId}`, quantity);
      response.status(402).json({ order: order.id, status: 'declined' });
    }
  });

  // A body that is not JSON: a client's mistake, answered as one (Express would log it as a server error).
  app.use((error: { type?: string }, _request: express.Request, response: express.Response, next: express.NextFunction) => {
    if (error.type === 'entity.parse.failed') response.status(400).json({ error: 'malformed JSON' });
    else next(error);
  });
  return app;
}

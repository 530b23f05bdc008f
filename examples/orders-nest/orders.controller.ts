import { Body, ConflictException, Controller, Get, HttpException, HttpStatus, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import type { Product } from '../orders-express/entities.ts';
import { OrdersService } from './orders.service.ts';

/** GET /products/:id — the product, from the cache or the database. */
export class ProductsController {
  readonly #orders: OrdersService;

  constructor(orders: OrdersService) {
    this.#orders = orders;
  }

  async product(id: string): Promise<Product> {
    const found = await this.#orders.product(Number(id));
    if (found === null) throw new NotFoundException({ error: 'no such product' });
    return found;
  }
}

/** POST /orders — 201 paid, 402 declined, 409 out of stock, 404 no such product (the Express example's answers). */
export class OrdersController {
  readonly #orders: OrdersService;

  constructor(orders: OrdersService) {
    this.#orders = orders;
  }

  async order(body: { productId: number; quantity: number }): Promise<{ order: number; status: 'paid'; payment: string | undefined }> {
    const result = await this.#orders.order(body.productId, body.quantity);
    switch (result.outcome) {
      case 'paid':
        return { order: result.order, status: 'paid', payment: result.payment };
      case 'declined':
        throw new HttpException({ order: result.order, status: 'declined' }, HttpStatus.PAYMENT_REQUIRED);
      case 'out of stock':
        throw new ConflictException({ error: 'out of stock' });
      case 'no such product':
        throw new NotFoundException({ error: 'no such product' });
    }
  }
}

// Nest's decorators, applied as calls (no decorator compiler setting, no emitted metadata).
const method = (target: object, name: string): PropertyDescriptor => Object.getOwnPropertyDescriptor(target, name)!;
Controller('products')(ProductsController);
Inject(OrdersService)(ProductsController, undefined, 0);
Get(':id')(ProductsController.prototype, 'product', method(ProductsController.prototype, 'product'));
Param('id')(ProductsController.prototype, 'product', 0);

Controller('orders')(OrdersController);
Inject(OrdersService)(OrdersController, undefined, 0);
Post()(OrdersController.prototype, 'order', method(OrdersController.prototype, 'order'));
Body()(OrdersController.prototype, 'order', 0);

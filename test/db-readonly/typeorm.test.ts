import mysql2 from 'mysql2';
import { QueryFailedError, type DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGuards, memorySink, type Profile } from '@mirrorguard/core';
import { startTestTransaction, typeormProvider, type TestTransaction } from '@mirrorguard/db-readonly';
import { adminConnection, createLeakSchema, leakUrl } from './leak-schema.ts';
import { OrderSchema, ProductSchema, type Order, type Product } from './typeorm-entities.ts';

const dataSourceOptions: DataSourceOptions = {
  type: 'mariadb',
  url: leakUrl(),
  entities: [ProductSchema, OrderSchema],
  // What an app may well have on: all three write at start-up, the cache on reads.
  synchronize: true,
  cache: true,
  logging: false,
};

async function tableChecksums(): Promise<string> {
  const admin = await adminConnection();
  const [rows] = await admin.query('CHECKSUM TABLE products, orders');
  await admin.end();
  return JSON.stringify(rows);
}

async function guardsFor(profile: Profile, guard: { policy?: 'reject' | 'simulate' } = {}) {
  const sink = memorySink();
  const guards = await createGuards({
    profile,
    providers: { db: typeormProvider({ dataSource: profile === 'mirror' ? dataSourceOptions : { ...dataSourceOptions, synchronize: false, cache: false }, mysql2, guard }) },
    journal: { sinks: [sink] },
  });
  return { guards, sink, db: guards.db as DataSource };
}

/** Builds the guards for a describe block (and closes them after it), with the table checksums from before. */
function useGuards(profile: Profile, guard: { policy?: 'reject' | 'simulate' } = {}) {
  const state = {} as { db: DataSource; sink: ReturnType<typeof memorySink>; before: string; close: () => Promise<void> };
  beforeAll(async () => {
    state.before = await tableChecksums();
    const made = await guardsFor(profile, guard);
    Object.assign(state, { db: made.db, sink: made.sink, close: made.guards.close });
  });
  afterAll(() => state.close());
  return state;
}

describe('TypeORM through the provider', () => {
  beforeAll(createLeakSchema);

  describe('mirror profile, reject policy', () => {
    const mirror = useGuards('mirror');

    it('forced the start-up writes off and turned the database cache off, journaling each', () => {
      expect(mirror.db.options).toMatchObject({ synchronize: false, migrationsRun: false, dropSchema: false, cache: false });
      expect(mirror.sink.events().filter((event) => event.action === 'blocked').map((event) => event.operation)).toEqual([
        'TypeORM option synchronize: true',
        'TypeORM option cache: database',
      ]);
    });

    it('runs find, findOne, joins, pagination, count, transactions and raw queries', async () => {
      const products = mirror.db.getRepository<Product>('Product');
      const orders = mirror.db.getRepository<Order>('Order');
      expect(await products.findOne({ where: { id: 1 } })).toMatchObject({ name: 'lamp', stock: 10 });
      expect((await products.find({ order: { price: 'DESC' } })).map((p) => p.name)).toEqual(['desk', 'chair', 'lamp']);
      const withProducts = await orders.find({ relations: { product: true }, order: { id: 'ASC' } });
      expect(withProducts.map((o) => o.product.name)).toEqual(['lamp', 'desk', 'lamp']);
      const [page, total] = await orders.findAndCount({ relations: { product: true }, skip: 1, take: 1, order: { id: 'ASC' } });
      expect({ ids: page.map((o) => o.id), total }).toEqual({ ids: [2], total: 3 });
      expect(await products.count({ where: { stock: 7 } })).toBe(1);
      expect(await products.exists({ where: { name: 'desk' } })).toBe(true);
      const sold = await mirror.db
        .createQueryBuilder()
        .select('p.name', 'name')
        .addSelect('SUM(o.quantity)', 'sold')
        .from('orders', 'o')
        .innerJoin('products', 'p', 'p.id = o.product_id')
        .groupBy('p.id')
        .orderBy('sold', 'DESC')
        .getRawMany();
      expect(sold).toEqual([{ name: 'lamp', sold: '3' }, { name: 'desk', sold: '1' }]);
      const inTransaction = await mirror.db.transaction('READ COMMITTED', (manager) => manager.count(ProductSchema));
      expect(inTransaction).toBe(3);
      expect(await mirror.db.query('SELECT COUNT(*) AS n FROM orders WHERE quantity >= ?', [1])).toEqual([{ n: '3' }]);
    });

    it.each([
      ['save (insert)', (db: DataSource) => db.getRepository<Product>('Product').save({ name: 'sofa', price: '300.00', stock: 1 }), 'write'],
      ['save (update)', (db: DataSource) => db.getRepository<Product>('Product').save({ id: 1, name: 'lamp', price: '1.00', stock: 10 }), 'write'],
      ['update', (db: DataSource) => db.getRepository<Product>('Product').update({ id: 2 }, { stock: 0 }), 'write'],
      ['delete', (db: DataSource) => db.getRepository<Order>('Order').delete({ id: 3 }), 'write'],
      ['increment', (db: DataSource) => db.getRepository<Product>('Product').increment({ id: 1 }, 'stock', 5), 'write'],
      ['upsert', (db: DataSource) => db.getRepository<Product>('Product').upsert({ name: 'lamp', price: '2.00', stock: 1 }, ['name']), 'write'],
      ['raw write', (db: DataSource) => db.query('UPDATE products SET price = 0'), 'write'],
      [
        'pessimistic_write lock',
        (db: DataSource) => db.transaction((manager) => manager.findOne(ProductSchema, { where: { id: 1 }, lock: { mode: 'pessimistic_write' } })),
        'lock',
      ],
    ] as const)('refuses %s with QueryFailedError, as a read-only server would', async (_name, operation, kind) => {
      const error = await operation(mirror.db).then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(QueryFailedError);
      expect(error).toMatchObject({ code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', errno: 1792, driverError: { statementKind: kind } });
    });

    it('left the tables untouched', async () => {
      expect(await tableChecksums()).toBe(mirror.before);
    });
  });

  describe('mirror profile, simulate policy', () => {
    const mirror = useGuards('mirror', { policy: 'simulate' });

    it('lets save, update, delete and increment go on with plausible results, and changes nothing', async () => {
      const products = mirror.db.getRepository<Product>('Product');
      const saved = await products.save({ name: 'sofa', price: '300.00', stock: 1 });
      expect(saved.id).toBe(2_000_000_000);
      expect((await products.update({ id: 2 }, { stock: 0 })).affected).toBe(1);
      expect((await mirror.db.getRepository<Order>('Order').delete({ id: 3 })).affected).toBe(1);
      await products.increment({ id: 1 }, 'stock', 5);
      expect(mirror.sink.events().filter((event) => event.action === 'simulated').map((event) => event.operation.split(' ')[0])).toEqual([
        'INSERT',
        'UPDATE',
        'DELETE',
        'UPDATE',
      ]);
      expect(await tableChecksums()).toBe(mirror.before);
    });

    it('still refuses a pessimistic_write lock', async () => {
      const locking = mirror.db.transaction((manager) => manager.findOne(ProductSchema, { where: { id: 1 }, lock: { mode: 'pessimistic_write' } }));
      await expect(locking).rejects.toMatchObject({ driverError: { statementKind: 'lock' } });
    });
  });

  describe('live profile', () => {
    it('is the plain DataSource on the plain mysql2, no wrapper at all', async () => {
      const { db, guards } = await guardsFor('live');
      expect((db.options as { driver?: unknown }).driver).toBeUndefined();
      await db.transaction(async (manager) => {
        await manager.update(ProductSchema, { id: 3 }, { stock: 8 });
        expect((await manager.findOneByOrFail(ProductSchema, { id: 3 })).stock).toBe(8);
        await manager.update(ProductSchema, { id: 3 }, { stock: 7 });
      });
      await guards.close();
      expect(db.isInitialized).toBe(false);
    });
  });

  describe('test profile with a transaction per test', () => {
    const test = useGuards('test');
    let transaction: TestTransaction;
    beforeEach(async () => {
      transaction = await startTestTransaction(test.db);
    });
    afterEach(() => transaction.rollback());

    it('writes freely inside the test', async () => {
      const products = test.db.getRepository<Product>('Product');
      const saved = await products.save({ name: 'sofa', price: '300.00', stock: 1 });
      await test.db.transaction((manager) => manager.update(ProductSchema, { id: saved.id }, { stock: 2 }));
      await test.db.query('DELETE FROM orders');
      expect(await products.findOneByOrFail({ name: 'sofa' })).toMatchObject({ stock: 2 });
      expect(await test.db.getRepository<Order>('Order').count()).toBe(0);
    });

    it('starts every test from the same data', async () => {
      expect(await test.db.getRepository<Product>('Product').count()).toBe(3);
      expect(await test.db.getRepository<Order>('Order').count()).toBe(3);
    });

    it('leaves nothing behind', async () => {
      await transaction.rollback();
      expect(await tableChecksums()).toBe(test.before);
      transaction = await startTestTransaction(test.db);
    });
  });
});

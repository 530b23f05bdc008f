import mysql2 from 'mysql2';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuards, diffJournals, memorySink, withRequestContext, type JournalEvent, type Profile } from '@mirrorguard/core';
import { typeormProvider } from '@mirrorguard/db-readonly';
import { createLeakSchema, leakUrl } from './leak-schema.ts';
import { OrderSchema, ProductSchema } from './typeorm-entities.ts';

// The primary (record) journals the writes it really makes; the mirror (mirror, simulate) journals
// what it simulated instead. The same app code in both must give no difference; a mirror whose code
// changed one value must give exactly that one.
const dataSource: DataSourceOptions = { type: 'mariadb', url: leakUrl(), entities: [ProductSchema, OrderSchema], logging: false };

/** A checkout: reads the product, inserts an order, decrements the stock, then deletes the order again by its new id. */
async function checkout(db: DataSource, quantity: number, decrementBy = quantity): Promise<void> {
  await withRequestContext({ requestId: 'order-1', method: 'POST', path: '/orders' }, async () => {
    const product = await db.getRepository(ProductSchema).findOneByOrFail({ id: 1 });
    await db.transaction(async (manager) => {
      const order = await manager.getRepository(OrderSchema).save({ quantity, product });
      await manager.getRepository(ProductSchema).decrement({ id: product.id }, 'stock', decrementBy);
      await manager.query('DELETE FROM orders WHERE id = ?', [order.id]);
    });
  });
}

async function journalOf(profile: Profile, work: (db: DataSource) => Promise<void>): Promise<JournalEvent[]> {
  const sink = memorySink();
  const guards = await createGuards({ profile, providers: { db: typeormProvider({ dataSource, mysql2, guard: { policy: 'simulate' } }) }, journal: { sinks: [sink] } });
  try {
    await work(guards.db as DataSource);
  } finally {
    await guards.close();
  }
  return sink.events();
}

describe('record profile: the primary journals the writes it really makes', () => {
  beforeAll(createLeakSchema);
  afterAll(createLeakSchema);

  it('journals INSERT, UPDATE and DELETE as recorded, and neither reads nor transaction control', async () => {
    const events = await journalOf('record', (db) => checkout(db, 2));
    const recorded = events.filter((event) => event.action === 'recorded');
    expect(recorded.map((event) => event.operation.split(' ')[0])).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    expect(recorded.every((event) => event.requestId === 'order-1' && event.dependency === 'db' && event.profile === 'record')).toBe(true);
  });

  it('gives no difference against a mirror running the same code, and exactly one when the mirror changed a value', async () => {
    const primary = await journalOf('record', (db) => checkout(db, 2));
    const mirror = await journalOf('mirror', (db) => checkout(db, 2));
    expect(mirror.filter((event) => event.action === 'simulated').map((event) => event.operation.split(' ')[0])).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    // The mirror's DELETE names the simulated insert id, the primary's the real one: not a difference.
    expect(diffJournals(primary, mirror)).toMatchObject({ differing: 0 });
    const changed = await journalOf('mirror', (db) => checkout(db, 2, 3));
    const diff = diffJournals(primary, changed);
    expect(diff.differing).toBe(1);
    expect(diff.requests[0]!.differences).toEqual([{ kind: 'other values', dependency: 'db', primary: expect.stringContaining('- 2'), mirror: expect.stringContaining('- 3') }]);
    expect(diff.endpoints).toEqual([{ endpoint: 'POST /orders', requests: 1, differing: 1 }]);
  });
});

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryFailedError, type DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createGuards, diffJournals, memorySink, withRequestContext, type JournalEvent, type Profile } from '@mirrorguard/core';
import { guardNodeSqlite, NodeSqliteDatabase, ReadOnlyViolationError, typeormProvider, type StatementPolicy } from '@mirrorguard/db-readonly';
import { SQLITE_SCHEMA } from './sqlite-corpus.ts';
import { ItemSchema, PurchaseSchema } from './sqlite-entities.ts';

// The demo's set-up without MariaDB: a primary (record) writes a SQLite file, a mirror (mirror)
// opens the same file through typeormProvider, with no driver passed by the app.
const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-sqlite-typeorm-'));
const file = join(folder, 'orders.sqlite');
const dataSource: DataSourceOptions = { type: 'better-sqlite3', database: file, entities: [ItemSchema, PurchaseSchema], logging: false };
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function createSchema(): void {
  rmSync(file, { force: true });
  new NodeSqliteDatabase(file).exec(SQLITE_SCHEMA).close();
}

async function withGuards<T>(profile: Profile, work: (db: DataSource, events: () => JournalEvent[]) => Promise<T>, options: { policy?: StatementPolicy; dataSource?: DataSourceOptions } = {}): Promise<T> {
  const sink = memorySink();
  const guards = await createGuards({
    profile,
    providers: { db: typeormProvider({ dataSource: options.dataSource ?? dataSource, guard: { policy: options.policy ?? 'simulate' } }) },
    journal: { sinks: [sink] },
  });
  try {
    return await work(guards.db as DataSource, () => sink.events());
  } finally {
    await guards.close();
  }
}

/** A checkout: reads the item, records a purchase, decrements the stock, then deletes the purchase again by its new id. */
async function checkout(db: DataSource, quantity: number, decrementBy = quantity): Promise<void> {
  await withRequestContext({ requestId: 'order-1', method: 'POST', path: '/orders' }, async () => {
    const item = await db.getRepository(ItemSchema).findOneByOrFail({ id: 1 });
    await db.transaction(async (manager) => {
      const purchase = await manager.getRepository(PurchaseSchema).save({ quantity, item });
      await manager.getRepository(ItemSchema).decrement({ id: item.id }, 'stock', decrementBy);
      await manager.query('DELETE FROM purchases WHERE id = ?', [purchase.id]);
    });
  });
}

describe('typeormProvider with a SQLite file', () => {
  beforeEach(createSchema);

  it('gives the mirror a read-only, query-only connection on the guarded driver', async () => {
    await withGuards('mirror', async (db) => {
      const connection = (db.driver as unknown as { databaseConnection: NodeSqliteDatabase }).databaseConnection;
      expect(connection).toBeInstanceOf(NodeSqliteDatabase);
      expect(connection.readonly).toBe(true);
      expect(await db.query('PRAGMA query_only')).toEqual([{ query_only: 1 }]);
      expect((await db.getRepository(ItemSchema).find({ order: { id: 'ASC' } })).map((item) => item.name)).toEqual(['apple', 'pear', 'plum']);
    });
  });

  it('reads what the primary commits while both are open on the file', async () => {
    await withGuards('record', (primary) =>
      withGuards('mirror', async (mirror) => {
        await primary.getRepository(ItemSchema).update({ name: 'pear' }, { stock: 42 });
        expect(await mirror.getRepository(ItemSchema).findOneByOrFail({ name: 'pear' })).toMatchObject({ stock: 42 });
        await mirror.getRepository(ItemSchema).update({ name: 'pear' }, { stock: 0 }); // simulated
        expect(await primary.getRepository(ItemSchema).findOneByOrFail({ name: 'pear' })).toMatchObject({ stock: 42 });
      }),
    );
  });

  it('rejects writes as QueryFailedError wrapping ReadOnlyViolationError under reject', async () => {
    await withGuards(
      'mirror',
      async (db, events) => {
        const error = await db.getRepository(ItemSchema).save({ name: 'kiwi', price: 1, stock: 1, active: true, picture: null }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(QueryFailedError);
        expect((error as QueryFailedError).driverError).toBeInstanceOf(ReadOnlyViolationError);
        expect((error as QueryFailedError).driverError).toMatchObject({ code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', errno: 1792 });
        expect(events().filter((event) => event.action === 'blocked').map((event) => event.operation)).toEqual([
          'INSERT INTO "items"("id", "name", "price", "stock", "active", "picture") VALUES (NULL, \'kiwi\', 1, 1, 1, NULL)',
        ]);
      },
      { policy: 'reject' },
    );
  });

  it('forces start-up writes off in the mirror and journals each as blocked', async () => {
    await withGuards(
      'mirror',
      async (_db, events) => {
        expect(events().map((event) => [event.action, event.operation])).toEqual([
          ['blocked', 'TypeORM option synchronize: true'],
          ['blocked', 'TypeORM option dropSchema: true'],
          ['blocked', 'TypeORM option enableWAL: true'],
        ]);
      },
      { dataSource: { ...dataSource, synchronize: true, dropSchema: true, enableWAL: true } as DataSourceOptions },
    );
    const reader = new NodeSqliteDatabase(file, { readonly: true });
    expect(reader.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(reader.prepare('SELECT count(*) AS n FROM items').get()).toEqual({ n: 3 });
    reader.close();
  });

  it('refuses a mirror whose file does not exist, before TypeORM creates its folder', async () => {
    const missing = join(folder, 'no-such-folder', 'orders.sqlite');
    await expect(withGuards('mirror', async () => undefined, { dataSource: { ...dataSource, database: missing } as DataSourceOptions })).rejects.toThrow(
      expect.objectContaining({ cause: expect.objectContaining({ code: 'MG_ERR_DB_OPTION_REFUSED' }) }),
    );
    expect(existsSync(join(folder, 'no-such-folder'))).toBe(false);
  });

  it('uses the driver an app passes in live (better-sqlite3 itself, say), and its own in record and mirror', async () => {
    class Counting extends NodeSqliteDatabase {
      static opened = 0;
      constructor(...args: ConstructorParameters<typeof NodeSqliteDatabase>) {
        super(...args);
        Counting.opened += 1;
      }
    }
    const withDriver = { ...dataSource, driver: Counting } as DataSourceOptions;
    await withGuards('live', async () => expect(Counting.opened).toBe(1), { dataSource: withDriver });
    await withGuards('mirror', async () => expect(Counting.opened).toBe(1), { dataSource: withDriver });
    expect(guardNodeSqlite).toBeTypeOf('function');
  });
});

describe('record and mirror on SQLite: the journals pair up', () => {
  beforeEach(createSchema);

  async function journalOf(profile: Profile, work: (db: DataSource) => Promise<void>): Promise<JournalEvent[]> {
    return withGuards(profile, async (db, events) => {
      await work(db);
      return events();
    });
  }

  it('journals INSERT, UPDATE and DELETE as recorded on the primary, with their values, and neither reads nor transaction control', async () => {
    const events = await journalOf('record', (db) => checkout(db, 2));
    const recorded = events.filter((event) => event.action === 'recorded');
    expect(recorded.map((event) => event.operation)).toEqual([
      expect.stringMatching(/^INSERT INTO "purchases"\("id", "quantity", "created_at", "item_id"\) VALUES \(NULL, 2, datetime\('now'\), 1\)$/),
      'UPDATE "items" SET "stock" = "stock" - 2 WHERE "id" = 1',
      'DELETE FROM purchases WHERE id = 3',
    ]);
    expect(recorded.every((event) => event.requestId === 'order-1' && event.dependency === 'db' && event.profile === 'record')).toBe(true);
  });

  it('gives no difference against a mirror running the same code, and exactly one when the mirror changed a value', async () => {
    const primary = await journalOf('record', (db) => checkout(db, 2));
    createSchema();
    const mirror = await journalOf('mirror', (db) => checkout(db, 2));
    expect(mirror.filter((event) => event.action === 'simulated').map((event) => event.operation.split(' ')[0])).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    // The mirror's DELETE names the simulated rowid (2,000,000,000), the primary's the real one: not a difference.
    expect(mirror.at(-1)!.operation).toBe('DELETE FROM purchases WHERE id = 2000000000');
    expect(diffJournals(primary, mirror)).toMatchObject({ differing: 0 });
    const changed = await journalOf('mirror', (db) => checkout(db, 2, 3));
    const diff = diffJournals(primary, changed);
    expect(diff.differing).toBe(1);
    expect(diff.requests[0]!.differences).toEqual([{ kind: 'other values', dependency: 'db', primary: expect.stringContaining('- 2'), mirror: expect.stringContaining('- 3') }]);
    expect(diff.endpoints).toEqual([{ endpoint: 'POST /orders', requests: 1, differing: 1 }]);
  });
});

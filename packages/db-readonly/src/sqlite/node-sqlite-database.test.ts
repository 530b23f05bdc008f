import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGuards } from '@mirrorguard/core';
import { ItemSchema, PurchaseSchema } from '../../../../test/db-readonly/sqlite-entities.ts';
import { startTestTransaction } from '../typeorm/test-transaction.ts';
import { typeormProvider } from '../typeorm/typeorm-provider.ts';
import { NodeSqliteDatabase } from './node-sqlite-database.ts';

const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-node-sqlite-'));
let counter = 0;
const freshFile = (): string => join(folder, `db-${(counter += 1)}.sqlite`);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('NodeSqliteDatabase: the better-sqlite3 surface TypeORM uses', () => {
  let db: NodeSqliteDatabase;
  beforeEach(() => {
    db = new NodeSqliteDatabase(freshFile());
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB); INSERT INTO t (name, data) VALUES (\'a\', X\'0102\'), (\'b\', NULL)');
    return () => void db.close();
  });

  it('tells readers from writers and runs each the better-sqlite3 way', () => {
    const select = db.prepare('SELECT id, name FROM t ORDER BY id');
    const insert = db.prepare('INSERT INTO t (name) VALUES (?)');
    expect(select).toMatchObject({ reader: true, source: 'SELECT id, name FROM t ORDER BY id' });
    expect(insert.reader).toBe(false);
    expect(db.prepare("INSERT INTO t (name) VALUES ('r') RETURNING id").reader).toBe(true);
    expect(insert.run('c')).toEqual({ changes: 1, lastInsertRowid: 3 });
    expect(select.all()).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }]);
    expect(select.get()).toEqual({ id: 1, name: 'a' });
    expect([...select.iterate()].map((row) => row.name)).toEqual(['a', 'b', 'c']);
    expect(db.prepare('SELECT 1 WHERE 0').get()).toBeUndefined();
  });

  it('gives plain objects and Buffers, as better-sqlite3 does', () => {
    const [row] = db.prepare('SELECT * FROM t WHERE id = 1').all();
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Buffer.isBuffer(row!.data)).toBe(true);
    expect(row!.data).toEqual(Buffer.from([1, 2]));
    expect(Buffer.isBuffer(db.prepare('SELECT data FROM t WHERE id = 1').get()!.data)).toBe(true);
  });

  it('binds positional, spread-array and named parameters, Buffers and booleans', () => {
    const select = db.prepare('SELECT name FROM t WHERE id = ? OR name = ?');
    expect(select.all(1, 'b').map((row) => row.name)).toEqual(['a', 'b']);
    expect(select.all([1, 'b']).map((row) => row.name)).toEqual(['a', 'b']);
    expect(db.prepare('SELECT name FROM t WHERE name = :name OR id = @id').all({ name: 'a', id: 2 })).toHaveLength(2);
    expect(db.prepare('INSERT INTO t (name, data) VALUES (?, ?)').run('d', Buffer.from('xy')).changes).toBe(1);
    expect(db.prepare('SELECT data FROM t WHERE name = ?').get('d')!.data).toEqual(Buffer.from('xy'));
    expect(db.prepare('SELECT ? AS yes').get(true)).toEqual({ yes: 1 });
  });

  it('runs pragmas as better-sqlite3 does: rows, the simple value, or [] for a setting', () => {
    expect(db.pragma('table_info(t)')).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'name', type: 'TEXT' })]));
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.pragma('user_version = 3')).toEqual([]);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
  });

  it('executes several statements, reports transactions, and closes once', () => {
    expect(db.exec('BEGIN; UPDATE t SET name = upper(name)')).toBe(db);
    expect(db.inTransaction).toBe(true);
    db.exec('ROLLBACK');
    expect(db.inTransaction).toBe(false);
    expect(db.prepare('SELECT name FROM t WHERE id = 1').get()).toEqual({ name: 'a' });
    expect(db.open).toBe(true);
    db.close();
    expect(db.open).toBe(false);
    expect(() => db.close()).not.toThrow();
  });

  it('calls verbose with each statement', () => {
    const verbose = vi.fn();
    const other = new NodeSqliteDatabase(':memory:', { verbose });
    other.prepare('SELECT 1');
    other.exec('SELECT 2');
    expect(verbose.mock.calls).toEqual([['SELECT 1'], ['SELECT 2']]);
    expect(other).toMatchObject({ memory: true, readonly: false, name: ':memory:' });
    other.close();
  });
});

describe('NodeSqliteDatabase: opening', () => {
  it('creates the file, unless fileMustExist', () => {
    const missing = freshFile();
    expect(() => new NodeSqliteDatabase(missing, { fileMustExist: true })).toThrow(/does not exist/);
    expect(existsSync(missing)).toBe(false);
    new NodeSqliteDatabase(missing).close();
    expect(existsSync(missing)).toBe(true);
    new NodeSqliteDatabase(missing, { fileMustExist: true }).close();
  });

  it('opens read-only, where SQLite itself refuses writes', () => {
    const file = freshFile();
    new NodeSqliteDatabase(file).exec('CREATE TABLE t (x)').close();
    const readOnly = new NodeSqliteDatabase(file, { readonly: true });
    expect(readOnly.readonly).toBe(true);
    expect(() => readOnly.exec('INSERT INTO t VALUES (1)')).toThrow(/readonly database/);
    expect(() => new NodeSqliteDatabase(freshFile(), { readonly: true })).toThrow(/unable to open/);
    readOnly.close();
  });
});

describe('NodeSqliteDatabase under TypeORM (type better-sqlite3)', () => {
  const options = (database: string): DataSourceOptions => ({
    type: 'better-sqlite3',
    database,
    driver: NodeSqliteDatabase,
    entities: [ItemSchema, PurchaseSchema],
    synchronize: true,
    logging: false,
  });

  it('creates the schema, saves, finds, updates, increments and deletes', async () => {
    const dataSource = await new DataSource(options(freshFile())).initialize();
    try {
      const items = dataSource.getRepository(ItemSchema);
      const apple = await items.save({ name: 'apple', price: 1.5, stock: 3, active: true, picture: Buffer.from('png') });
      await items.save([
        { name: 'pear', price: 2, stock: 0, active: false, picture: null },
        { name: 'plum', price: 0.5, stock: 7, active: true, picture: null },
      ]);
      expect(apple.id).toBe(1);
      expect(await items.findOneByOrFail({ id: 1 })).toEqual({ id: 1, name: 'apple', price: 1.5, stock: 3, active: true, picture: Buffer.from('png') });
      expect(await items.count({ where: { active: true } })).toBe(2);
      expect(await items.exists({ where: { name: 'pear' } })).toBe(true);
      expect((await items.find({ order: { price: 'ASC' }, take: 2 })).map((item) => item.name)).toEqual(['plum', 'apple']);
      await items.update({ name: 'pear' }, { price: 2.25 });
      await items.increment({ id: 1 }, 'stock', 2);
      expect(await items.findOneByOrFail({ name: 'pear' })).toMatchObject({ price: 2.25, active: false });
      expect((await items.findOneByOrFail({ id: 1 })).stock).toBe(5);
      const purchase = await dataSource.getRepository(PurchaseSchema).save({ quantity: 2, item: apple });
      const [loaded] = await dataSource.getRepository(PurchaseSchema).find({ relations: { item: true } });
      expect(loaded).toMatchObject({ id: purchase.id, quantity: 2, item: { name: 'apple' } });
      expect(loaded!.createdAt).toBeInstanceOf(Date);
      expect(await dataSource.query('SELECT name FROM items WHERE price > ? ORDER BY name', [1])).toEqual([{ name: 'apple' }, { name: 'pear' }]);
      const deleted = await items.delete({ name: 'plum' });
      expect(deleted.affected).toBe(1);
      await items.delete({ id: 1 }); // ON DELETE CASCADE: foreign_keys is on
      expect(await dataSource.getRepository(PurchaseSchema).count()).toBe(0);
    } finally {
      await dataSource.destroy();
    }
  });

  it('commits and rolls back transactions, nested ones as savepoints', async () => {
    const dataSource = await new DataSource(options(freshFile())).initialize();
    try {
      const items = dataSource.getRepository(ItemSchema);
      await dataSource.transaction(async (manager) => {
        await manager.getRepository(ItemSchema).save({ name: 'kept', price: 1, stock: 1, active: true, picture: null });
        await manager
          .transaction(async (inner) => {
            await inner.getRepository(ItemSchema).save({ name: 'undone', price: 1, stock: 1, active: true, picture: null });
            throw new Error('roll back the savepoint');
          })
          .catch(() => undefined);
      });
      await expect(
        dataSource.transaction(async (manager) => {
          await manager.getRepository(ItemSchema).save({ name: 'rolled back', price: 1, stock: 1, active: true, picture: null });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect((await items.find()).map((item) => item.name)).toEqual(['kept']);
    } finally {
      await dataSource.destroy();
    }
  });

  it('is what typeormProvider gives a better-sqlite3 DataSource in live and test, with no driver passed', async () => {
    const file = freshFile();
    const { driver: _driver, ...withoutDriver } = options(file) as DataSourceOptions & { driver?: unknown };
    for (const profile of ['live', 'test'] as const) {
      const guards = await createGuards({ profile, providers: { db: typeormProvider({ dataSource: withoutDriver as DataSourceOptions }) } });
      try {
        const db = guards.db as DataSource;
        expect((db.driver as unknown as { databaseConnection: unknown }).databaseConnection).toBeInstanceOf(NodeSqliteDatabase);
        if (profile === 'test') {
          // The test profile's pattern: each case in a transaction, rolled back after it.
          const transaction = await startTestTransaction(db);
          await db.getRepository(ItemSchema).save({ name: 'only in the test', price: 1, stock: 1, active: true, picture: null });
          await db.transaction((manager) => manager.getRepository(ItemSchema).increment({ name: 'only in the test' }, 'stock', 1));
          expect(await db.getRepository(ItemSchema).findOneBy({ name: 'only in the test' })).toMatchObject({ stock: 2 });
          await transaction.rollback();
        } else {
          await db.getRepository(ItemSchema).save({ name: 'live', price: 1, stock: 1, active: true, picture: null });
        }
        expect((await db.getRepository(ItemSchema).find()).map((item) => item.name)).toEqual(['live']);
      } finally {
        await guards.close();
      }
    }
  });
});

// TypeORM features that open a connection of their own or write, each closed in the mirror profile,
// through `typeormProvider` and through `mirrorDataSourceOptions`. Oracles are the servers': a
// private redis-server as every Redis cache's target (connections, INFO commandstats, MONITOR,
// DBSIZE) and, on MariaDB, information_schema and table checksums of a database of this file's own.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql2 from 'mysql2';
import { createConnection, type Connection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { DataSource, EntitySchema, QueryFailedError, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGuards, createJournal, memorySink, type MemorySink } from '@mirrorguard/core';
import { mirrorDataSourceOptions, NodeSqliteDatabase, typeormProvider } from '@mirrorguard/db-readonly';
import { startRedisServer, type ThrowawayRedis } from '../support/redis-server.ts';
import { RedisMonitor } from '../support/redis-monitor.ts';
import { MYSQL_URL } from '../support/servers.ts';
import { databaseUrl } from './server-oracles.ts';
import { SQLITE_SCHEMA } from './sqlite-corpus.ts';
import { ItemSchema, PurchaseSchema } from './sqlite-entities.ts';
import { OrderSchema, ProductSchema, type Product } from './typeorm-entities.ts';

const DATABASE = 'mirrorguard_typeorm_doors';

type CacheOption = Exclude<DataSourceOptions['cache'], boolean | undefined>;
type QueryResultCache = ReturnType<NonNullable<CacheOption['provider']>>;

const doorsUrl = (): string => databaseUrl(DATABASE);

const ProductNamesView = new EntitySchema<{ id: number; name: string }>({
  name: 'ProductName',
  tableName: 'product_names',
  type: 'view',
  expression: 'SELECT id, name FROM products',
  columns: { id: { type: Number, primary: true }, name: { type: String } },
});

const migrationRuns: string[] = [];
class AddColourColumn1700000000000 implements MigrationInterface {
  name = 'AddColourColumn1700000000000';
  async up(queryRunner: { query(sql: string): Promise<unknown> }): Promise<void> {
    migrationRuns.push(this.name);
    await queryRunner.query('ALTER TABLE products ADD colour VARCHAR(20)');
  }
  async down(): Promise<void> {}
}

async function createSchema(): Promise<void> {
  const root = await createConnection({ uri: MYSQL_URL, multipleStatements: true });
  try {
    await root.query(`
      DROP DATABASE IF EXISTS ${DATABASE};
      CREATE DATABASE ${DATABASE};
      USE ${DATABASE};
      CREATE TABLE products (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL UNIQUE, price DECIMAL(10, 2) NOT NULL, stock INT NOT NULL DEFAULT 0) ENGINE=InnoDB;
      CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, product_id INT NOT NULL, quantity INT NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), FOREIGN KEY (product_id) REFERENCES products (id)) ENGINE=InnoDB;
      INSERT INTO products (name, price, stock) VALUES ('lamp', 12.50, 10), ('desk', 149.00, 3), ('chair', 49.90, 7);
      INSERT INTO orders (product_id, quantity) VALUES (1, 2), (2, 1), (1, 1);
    `);
  } finally {
    await root.end();
  }
}

/** Everything in this file's database a TypeORM side door could change: tables, views, columns, rows. */
async function databaseState(admin: Connection): Promise<unknown> {
  const [tables] = await admin.query('SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [DATABASE]);
  const [columns] = await admin.query(
    'SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION',
    [DATABASE],
  );
  const names = (tables as Array<{ TABLE_NAME: string; TABLE_TYPE: string }>).filter((table) => table.TABLE_TYPE === 'BASE TABLE').map((table) => `\`${table.TABLE_NAME}\``);
  const [checksums] = await admin.query(`CHECKSUM TABLE ${names.join(', ')}`);
  const [databases] = await admin.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [DATABASE]);
  return { tables, columns, checksums, databases };
}

/** What a private redis-server saw from anyone but this oracle: connections, commands, keys. */
class RedisOracle {
  private readonly seen: string[] = [];
  private readonly client: Redis;
  private readonly monitor: RedisMonitor;
  private constructor(client: Redis, monitor: RedisMonitor) {
    this.client = client;
    this.monitor = monitor;
    monitor.on('monitor', (_time, args, source) => {
      const own = `127.0.0.1:${(client as unknown as { stream: { localPort: number } }).stream.localPort}`;
      if (source !== own) this.seen.push(`${source} ${args.join(' ')}`);
    });
  }

  static async open(url: string): Promise<RedisOracle> {
    const client = new Redis(url);
    const monitor = await RedisMonitor.open(url); // a connection of its own, in MONITOR mode
    return new RedisOracle(client, monitor);
  }

  /** Connections received, calls of every command but the oracle's own (INFO, DBSIZE, PING), keys, and what MONITOR saw from others. */
  async state(): Promise<{ connections: number; calls: Record<string, number>; keys: number; monitored: string[] }> {
    const stats = await this.client.info('stats');
    const connections = Number(/total_connections_received:(\d+)/.exec(stats)?.[1]);
    const calls: Record<string, number> = {};
    for (const [, name, count] of (await this.client.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) {
      if (!['info', 'dbsize', 'monitor', 'ping'].includes(name as string)) calls[name as string] = Number(count);
    }
    const keys = await this.client.dbsize();
    // MONITOR delivers asynchronously: a PING through the monitored server orders everything sent before it.
    await this.client.ping();
    return { connections, calls, keys, monitored: [...this.seen] };
  }

  close(): void {
    this.monitor.disconnect();
    this.client.disconnect();
  }
}

/**
 * A one-node Redis Cluster of this file's own (all 16384 slots on one private redis-server), the
 * target of the `ioredis/cluster` cache: against it, TypeORM's Cluster client would really write.
 */
async function startClusterRedis(): Promise<Pick<ThrowawayRedis, 'url' | 'port' | 'kill'>> {
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const { port } = free.address() as { port: number };
  await new Promise((resolve) => free.close(resolve));
  const dir = mkdtempSync(join(tmpdir(), 'mirrorguard-doors-cluster-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      // Else CLUSTER SLOTS names the node with an empty address, and a Cluster client never connects.
      '--cluster-announce-ip', '127.0.0.1'],
    { stdio: 'ignore' },
  );
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    // Polls, bounded: until the server listens, then until the cluster has taken its slots.
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (probe.status !== 'ready') await probe.connect();
        if (attempt === 0 || !/cluster_slots_assigned:16384/.test(await probe.cluster('INFO'))) await probe.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383').catch(() => undefined);
        if (/cluster_state:ok/.test(await probe.cluster('INFO'))) break;
      } catch (error) {
        if (attempt > 200) throw error;
        probe.disconnect();
      }
      if (attempt > 200) throw new Error(`the cluster redis-server on port ${port} did not become ready`);
      await sleep(25);
    }
  } catch (error) {
    await kill();
    throw error;
  } finally {
    probe.disconnect();
  }
  return { url, port, kill };
}

interface Mirror {
  readonly db: DataSource;
  readonly sink: MemorySink;
  close(): Promise<void>;
}

type Route = 'typeormProvider' | 'mirrorDataSourceOptions';
const ROUTES: readonly Route[] = ['typeormProvider', 'mirrorDataSourceOptions'];

interface MirrorSettings {
  readonly policy?: 'reject' | 'simulate';
  readonly allowOptions?: readonly string[];
}

async function openMirror(route: Route, options: DataSourceOptions, settings: MirrorSettings = {}): Promise<Mirror> {
  const sink = memorySink();
  const guard = { policy: settings.policy ?? 'reject' } as const;
  if (route === 'typeormProvider') {
    const guards = await createGuards({
      profile: 'mirror',
      providers: { db: typeormProvider({ dataSource: options, mysql2, guard, ...(settings.allowOptions && { allowOptions: settings.allowOptions }) }) },
      journal: { sinks: [sink] },
    });
    return { db: guards.db as DataSource, sink, close: () => guards.close() };
  }
  const journal = createJournal({ profile: 'mirror', sinks: [sink] });
  const db = new DataSource(mirrorDataSourceOptions(options, { mysql2, journal, guard, ...(settings.allowOptions && { allowOptions: settings.allowOptions }) }));
  await db.initialize();
  return { db, sink, close: async () => (db.isInitialized ? db.destroy() : undefined) };
}

function blocked(sink: MemorySink): string[] {
  return sink
    .events()
    .filter((event) => event.action === 'blocked' && event.operation.startsWith('TypeORM option'))
    .map((event) => event.operation);
}

const base: DataSourceOptions = { type: 'mariadb', url: doorsUrl(), entities: [ProductSchema, OrderSchema], logging: false };

/** Reads that use the result cache when one is on: per query, by id, on the query builder, and plain (alwaysEnabled). */
async function cachedReads(db: DataSource): Promise<void> {
  const products = db.getRepository<Product>('Product');
  expect(await products.find({ cache: true, order: { id: 'ASC' } })).toHaveLength(3);
  expect(await products.find({ where: { stock: 3 }, cache: { id: 'desk-by-stock', milliseconds: 60_000 } })).toHaveLength(1);
  expect(await db.createQueryBuilder(ProductSchema, 'p').where('p.price > :price', { price: 20 }).cache('expensive', 60_000).getMany()).toHaveLength(2);
  expect(await products.count()).toBe(3);
  expect(await db.query('SELECT COUNT(*) AS n FROM orders')).toEqual([{ n: '3' }]);
}

/** A cache provider of the app's own, on its own Redis client: what TypeORM calls at construction. */
function providerCache(url: string, calls: string[]) {
  return (): QueryResultCache => {
    calls.push('provider');
    let client: Redis | undefined;
    return {
      async connect() {
        client = new Redis(url);
      },
      async disconnect() {
        client?.disconnect();
      },
      async synchronize() {},
      async getFromCache(options) {
        const value = await client?.get(options.identifier ?? options.query ?? '');
        return value ? JSON.parse(value) : undefined;
      },
      async storeInCache(options) {
        await client?.set(options.identifier ?? options.query ?? '', JSON.stringify(options));
      },
      isExpired: (saved) => saved.time! + saved.duration! < Date.now(),
      async clear() {},
      async remove() {},
    };
  };
}

describe('TypeORM side doors in the mirror profile', () => {
  let admin: Connection;
  let redis: ThrowawayRedis;
  let oracle: RedisOracle;
  let clusterRedis: Pick<ThrowawayRedis, 'url' | 'port' | 'kill'>;
  let clusterOracle: RedisOracle;
  let before: unknown;
  let open: Mirror[] = [];

  beforeAll(async () => {
    await createSchema();
    admin = await createConnection({ uri: doorsUrl() });
    redis = await startRedisServer();
    oracle = await RedisOracle.open(redis.url);
    clusterRedis = await startClusterRedis();
    clusterOracle = await RedisOracle.open(clusterRedis.url);
  });
  afterAll(async () => {
    oracle?.close();
    clusterOracle?.close();
    await redis?.kill();
    await clusterRedis?.kill();
    await admin?.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin?.end();
  });
  beforeEach(async () => {
    before = await databaseState(admin);
  });
  afterEach(async () => {
    // Each mirror is closed once, even when a closing fails: a failure stays with its own test.
    const closing = open;
    open = [];
    const closed = await Promise.allSettled(closing.map((mirror) => mirror.close()));
    expect(await databaseState(admin), 'the database after the test').toEqual(before);
    for (const result of closed) if (result.status === 'rejected') throw result.reason;
  });

  async function mirrorOf(route: Route, options: DataSourceOptions, settings?: MirrorSettings): Promise<Mirror> {
    const mirror = await openMirror(route, options, settings);
    open.push(mirror);
    return mirror;
  }

  describe.each(ROUTES)('the query-result cache, through %s', (route) => {
    const redisUrl = (): URL => new URL(redis.url);
    const caches: Array<[string, () => CacheOption | true, string]> = [
      ['cache: true', () => true, 'database'],
      ['database, alwaysEnabled', () => ({ type: 'database', tableName: 'doors_query_cache', alwaysEnabled: true }), 'database'],
      ['ioredis', () => ({ type: 'ioredis', options: { host: '127.0.0.1', port: Number(redisUrl().port) } }), 'ioredis'],
      ['ioredis, alwaysEnabled', () => ({ type: 'ioredis', port: Number(redisUrl().port), alwaysEnabled: true, duration: 60_000 }) as never, 'ioredis'],
      ['ioredis/cluster', () => ({ type: 'ioredis/cluster', options: { startupNodes: [{ host: '127.0.0.1', port: clusterRedis.port }] } }), 'ioredis/cluster'],
      ['redis (node-redis)', () => ({ type: 'redis', options: { url: redis.url } }), 'redis'],
    ];

    it.each(caches)('%s: off, journaled; cached reads work and write nowhere', async (_name, cache, kind) => {
      const redisBefore = await oracle.state();
      const clusterBefore = await clusterOracle.state();
      const mirror = await mirrorOf(route, { ...base, cache: cache() });
      await cachedReads(mirror.db);
      await mirror.close();
      expect(await oracle.state(), 'the private Redis').toEqual(redisBefore);
      expect(await clusterOracle.state(), 'the private Redis Cluster').toEqual(clusterBefore);
      expect(mirror.db.queryResultCache).toBeUndefined();
      expect(mirror.db.options.cache).toBe(false);
      expect(blocked(mirror.sink)).toEqual([`TypeORM option cache: ${kind}`]);
    });

    it('a custom provider: never called, so its client never connects', async () => {
      const calls: string[] = [];
      const redisBefore = await oracle.state();
      const mirror = await mirrorOf(route, { ...base, cache: { provider: providerCache(redis.url, calls), alwaysEnabled: true } });
      await cachedReads(mirror.db);
      await mirror.close();
      expect(await oracle.state(), 'the private Redis').toEqual(redisBefore);
      expect(calls).toEqual([]);
      expect(mirror.db.queryResultCache).toBeUndefined();
      expect(blocked(mirror.sink)).toEqual(['TypeORM option cache: provider']);
    });
  });

  it.each(ROUTES)('setOptions at run time cannot turn a cache back on (%s)', async (route) => {
    const redisBefore = await oracle.state();
    const mirror = await mirrorOf(route, base);
    const turnOn = () => mirror.db.setOptions({ cache: { type: 'ioredis', options: { host: '127.0.0.1', port: redis.port }, alwaysEnabled: true } });
    // The provider strips the cache before TypeORM sees it; on options of your own the refusal is thrown
    // (TypeORM would build the cache from setOptions' argument even when the option stays off).
    if (route === 'typeormProvider') turnOn();
    else expect(turnOn).toThrow(expect.objectContaining({ code: 'MG_ERR_DB_OPTION_REFUSED' }));
    await mirror.db.queryResultCache?.connect();
    await cachedReads(mirror.db);
    await mirror.close();
    expect(await oracle.state(), 'the private Redis').toEqual(redisBefore);
    expect(mirror.db.queryResultCache).toBeUndefined();
    expect(blocked(mirror.sink)).toEqual(['TypeORM option cache: ioredis']);
  });

  describe.each(ROUTES)('start-up writes, through %s', (route) => {
    const writesAtStartUp: DataSourceOptions = {
      ...base,
      entities: [ProductSchema, OrderSchema, ProductNamesView],
      migrations: [AddColourColumn1700000000000],
      migrationsRun: true,
      synchronize: true,
      dropSchema: true,
    };

    it('synchronize (typeorm_metadata for a view), migrationsRun (the migrations table), dropSchema: forced off, nothing created', async () => {
      migrationRuns.length = 0;
      const mirror = await mirrorOf(route, writesAtStartUp);
      expect(mirror.db.options).toMatchObject({ synchronize: false, migrationsRun: false, dropSchema: false });
      expect(blocked(mirror.sink)).toEqual(['TypeORM option synchronize: true', 'TypeORM option migrationsRun: true', 'TypeORM option dropSchema: true']);
      expect(migrationRuns).toEqual([]);
      expect(await mirror.db.getRepository<Product>('Product').count()).toBe(3);
    });

    it.each(['reject', 'simulate'] as const)('runMigrations, synchronize and dropDatabase called by the app fail (%s) and write nothing', async (policy) => {
      migrationRuns.length = 0;
      const mirror = await mirrorOf(route, writesAtStartUp, { policy });
      await expect(mirror.db.runMigrations()).rejects.toBeInstanceOf(QueryFailedError);
      if (policy === 'reject') {
        await expect(mirror.db.synchronize()).rejects.toMatchObject({ driverError: { code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION' } });
        await expect(mirror.db.dropDatabase()).rejects.toMatchObject({ driverError: { code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION' } });
      } else {
        // Simulated DDL answers OK; the oracle below shows the view, typeorm_metadata and the drop never happened.
        await mirror.db.synchronize();
        await mirror.db.dropDatabase();
      }
      expect(migrationRuns).toEqual([]);
    });
  });

  describe.each(ROUTES)('replication, through %s', (route) => {
    const replicated = (): DataSourceOptions => ({
      type: 'mariadb',
      entities: [ProductSchema, OrderSchema],
      replication: { master: { url: doorsUrl() }, slaves: [{ url: doorsUrl() }, { url: doorsUrl() }] },
    });

    it('every pool of the cluster (MASTER, SLAVE0, SLAVE1) is the guarded driver’s, read-only on the server', async () => {
      const mirror = await mirrorOf(route, replicated());
      const driver = mirror.db.driver as unknown as { mysql: unknown; poolCluster: mysql2.PoolCluster };
      expect(driver.mysql).toBe((mirror.db.options as { driver?: unknown }).driver);
      expect(driver.mysql).not.toBe(mysql2);
      for (const id of ['MASTER', 'SLAVE0', 'SLAVE1']) {
        const connection = await new Promise<mysql2.PoolConnection>((resolve, reject) =>
          driver.poolCluster.of(id).getConnection((error, made) => (error ? reject(error) : resolve(made))),
        );
        const ask = (sql: string) => new Promise((resolve, reject) => connection.query(sql, (error, rows) => (error ? reject(error) : resolve(rows))));
        expect(await ask('SELECT @@tx_read_only AS ro'), id).toEqual([{ ro: '1' }]);
        await expect(ask('DELETE FROM products WHERE id = -1'), id).rejects.toMatchObject({ errno: 1792 });
        connection.release();
      }
    });

    it.each(['master', 'slave'] as const)('createQueryRunner(%s): a read-only session, a DELETE refused', async (mode) => {
      const mirror = await mirrorOf(route, replicated());
      const runner = mirror.db.createQueryRunner(mode);
      try {
        expect(Number((await runner.query('SELECT @@tx_read_only AS ro'))[0].ro)).toBe(1);
        await expect(runner.query('DELETE FROM products WHERE id = -1')).rejects.toMatchObject({ driverError: { errno: 1792 } });
        await expect(mirror.db.query('DELETE FROM products WHERE id = -1', [], runner)).rejects.toBeInstanceOf(QueryFailedError);
      } finally {
        await runner.release();
      }
      expect(await mirror.db.getRepository<Product>('Product').count()).toBe(3);
    });
  });

  describe.each(ROUTES)('isolation levels, through %s', (route) => {
    it('transaction(SERIALIZABLE) is refused with a clear QueryFailedError; the callback never runs; the pool goes on', async () => {
      const mirror = await mirrorOf(route, base);
      let ran = false;
      const error = await mirror.db
        .transaction('SERIALIZABLE', async () => {
          ran = true;
        })
        .then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(QueryFailedError);
      expect(error).toMatchObject({ query: 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', driverError: { errno: 1792, statementKind: 'lock' } });
      expect((error as Error).message).toMatch(/SERIALIZABLE/);
      expect(ran).toBe(false);
      expect(await mirror.db.transaction('READ COMMITTED', (manager) => manager.count(ProductSchema))).toBe(3);
    });

    it('isolationLevel: SERIALIZABLE on the DataSource is pinned to REPEATABLE READ, journaled, and transactions run', async () => {
      const mirror = await mirrorOf(route, { ...base, isolationLevel: 'SERIALIZABLE' });
      expect(mirror.db.options.isolationLevel).toBe('REPEATABLE READ');
      expect(blocked(mirror.sink)).toEqual(['TypeORM option isolationLevel: SERIALIZABLE']);
      expect(await mirror.db.transaction((manager) => manager.count(ProductSchema))).toBe(3);
    });
  });

  it.each(ROUTES)('setOptions({ isolationLevel: SERIALIZABLE }) at run time is pinned too (%s)', async (route) => {
    const mirror = await mirrorOf(route, base);
    mirror.db.setOptions({ isolationLevel: 'SERIALIZABLE', synchronize: true });
    expect(mirror.db.options).toMatchObject({ isolationLevel: 'REPEATABLE READ', synchronize: false });
    expect(blocked(mirror.sink).sort()).toEqual(['TypeORM option isolationLevel: SERIALIZABLE', 'TypeORM option synchronize: true']);
    expect(await mirror.db.transaction((manager) => manager.count(ProductSchema))).toBe(3);
    if (route === 'typeormProvider') {
      expect(() => mirror.db.setOptions({ driver: mysql2 } as never)).toThrow(expect.objectContaining({ code: 'MG_ERR_DB_OPTION_REFUSED' }));
    }
  });

  describe.each(ROUTES)('options mirrorguard does not know, through %s', (route) => {
    it('refuse start-up with MG_ERR_DB_OPTION_REFUSED, naming the option', async () => {
      const options = { ...base, cacheWarmer: { host: '127.0.0.1' } } as DataSourceOptions;
      const error = await openMirror(route, options).then(() => undefined, (caught: unknown) => caught);
      // createGuards wraps a provider's failure (MG_ERR_PROVIDER_BUILD) with the cause.
      const cause = route === 'typeormProvider' ? (error as Error).cause : error;
      expect(cause).toMatchObject({ code: 'MG_ERR_DB_OPTION_REFUSED', message: expect.stringContaining('"cacheWarmer"') });
    });

    it('pass when listed in allowOptions, or set to undefined; Nest’s own keys pass', async () => {
      const mirror = await mirrorOf(route, { ...base, cacheWarmer: false, notSetAtAll: undefined, autoLoadEntities: true, retryAttempts: 1 } as DataSourceOptions, { allowOptions: ['cacheWarmer'] });
      expect(await mirror.db.getRepository<Product>('Product').count()).toBe(3);
    });
  });

  it.each(ROUTES)('SQLite: every cache off and unknown options refused there too (%s)', async (route) => {
    const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-doors-sqlite-'));
    try {
      const file = join(folder, 'shop.sqlite');
      new NodeSqliteDatabase(file).exec(SQLITE_SCHEMA).close();
      const bytes = readFileSync(file);
      const sqlite: DataSourceOptions = { type: 'better-sqlite3', database: file, entities: [ItemSchema, PurchaseSchema], synchronize: true };
      await expect(openMirror(route, { ...sqlite, cacheWarmer: true } as DataSourceOptions).then(() => undefined, (error: Error) => (route === 'typeormProvider' ? error.cause : error))).resolves.toMatchObject({
        code: 'MG_ERR_DB_OPTION_REFUSED',
      });
      const redisBefore = await oracle.state();
      const mirror = await mirrorOf(route, { ...sqlite, cache: { type: 'ioredis', options: { host: '127.0.0.1', port: redis.port }, alwaysEnabled: true } });
      expect(await mirror.db.getRepository(ItemSchema).find({ cache: true })).toHaveLength(3);
      await mirror.close();
      expect(await oracle.state(), 'the private Redis').toEqual(redisBefore);
      expect(blocked(mirror.sink)).toEqual(['TypeORM option synchronize: true', 'TypeORM option cache: ioredis']);
      expect(readFileSync(file).equals(bytes), 'the SQLite file is unchanged').toBe(true);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it.each(ROUTES)('extra, flags and multipleStatements reach only the guarded driver (%s)', async (route) => {
    const mirror = await mirrorOf(route, { ...base, multipleStatements: true, flags: ['+MULTI_STATEMENTS', '+LOCAL_FILES'], extra: { multipleStatements: true } });
    await expect(mirror.db.query('SELECT 1; DELETE FROM orders')).rejects.toMatchObject({ driverError: { errno: 1792 } });
    const runner = mirror.db.createQueryRunner();
    try {
      expect(Number((await runner.query('SELECT @@tx_read_only AS ro'))[0].ro)).toBe(1);
    } finally {
      await runner.release();
    }
  });
});

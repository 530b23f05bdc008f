import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { serveMemoryEngine, type MemoryServer } from '@mirrorguard/redis-shadow';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { ORDERS_TABLES } from '../examples/orders-express/schema.ts';
import { PRODUCTS } from './workload.ts';

/** The shared database and Redis the primary and its mirrors use: real servers when reachable, embedded ones otherwise. */
export interface Backends {
  readonly database: { readonly type: 'mariadb'; readonly url: string } | { readonly type: 'sqlite'; readonly file: string };
  readonly redisUrl: string;
  /** For the report: what each one is. */
  readonly describe: { readonly database: string; readonly redis: string };
  /** A fresh schema with the demo's products; no demo key left in Redis. */
  reset(): Promise<void>;
  /** What the shared database and Redis hold, read by plain clients of their own. */
  snapshot(): Promise<StateSnapshot>;
  close(): Promise<void>;
}

export interface StateSnapshot {
  readonly database: { readonly checksum: string; readonly products: number; readonly orders: number; readonly autoIncrement: string };
  readonly redis: { readonly checksum: string; readonly keys: number };
}

export const KEY_PREFIX = 'mirrorguard-demo:';
const DATABASE = 'mirrorguard_demo';


/** The shared database, as the demo prepares and checks it. */
interface DatabaseBackend {
  readonly database: Backends['database'];
  readonly describe: string;
  reset(): Promise<void>;
  snapshot(): Promise<StateSnapshot['database']>;
}

const sha256 = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 500 });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

async function mariadbFrom(url: string): Promise<DatabaseBackend> {
  const server = new URL(url);
  const demoUrl = Object.assign(new URL(url), { pathname: `/${DATABASE}` }).toString();
  const root = await createConnection({ uri: url, multipleStatements: true });
  const [[version]] = (await root.query('SELECT VERSION() AS version')) as unknown as [[{ version: string }]];
  await root.end();
  return {
    database: { type: 'mariadb', url: demoUrl },
    describe: `MariaDB ${version!.version} at ${server.host} (database ${DATABASE})`,
    async reset() {
      const connection = await createConnection({ uri: url, multipleStatements: true });
      await connection.query(`DROP DATABASE IF EXISTS ${DATABASE}; CREATE DATABASE ${DATABASE}; USE ${DATABASE}; ${ORDERS_TABLES.mariadb.join('; ')}`);
      await connection.query('INSERT INTO products (name, price, stock) VALUES ?', [PRODUCTS.map((product) => [product.name, product.price, product.stock])]);
      await connection.end();
    },
    async snapshot() {
      const connection = await createConnection({ uri: demoUrl });
      const [products] = await connection.query('SELECT * FROM products ORDER BY id');
      const [orders] = await connection.query('SELECT * FROM orders ORDER BY id');
      const [checksums] = await connection.query('CHECKSUM TABLE products, orders');
      const [tables] = await connection.query('SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [DATABASE]);
      await connection.end();
      const rows = { products: products as unknown[], orders: orders as unknown[] };
      return {
        checksum: sha256([rows, checksums]),
        products: rows.products.length,
        orders: rows.orders.length,
        autoIncrement: (tables as Array<{ TABLE_NAME: string; AUTO_INCREMENT: number }>).map((table) => `${table.TABLE_NAME}=${table.AUTO_INCREMENT}`).join(' '),
      };
    },
  };
}

function sqliteAt(directory: string): DatabaseBackend {
  const file = join(directory, 'orders.sqlite');
  return {
    database: { type: 'sqlite', file },
    describe: `SQLite (embedded, node:sqlite) at ${file}`,
    async reset() {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
      const database = new DatabaseSync(file);
      database.exec(`${ORDERS_TABLES.sqlite.join('; ')};`);
      const insert = database.prepare('INSERT INTO products (name, price, stock) VALUES (?, ?, ?)');
      for (const product of PRODUCTS) insert.run(product.name, product.price, product.stock);
      database.close();
    },
    async snapshot() {
      const database = new DatabaseSync(file, { readOnly: true });
      const products = database.prepare('SELECT * FROM products ORDER BY id').all();
      const orders = database.prepare('SELECT * FROM orders ORDER BY id').all();
      const sequences = database.prepare('SELECT name, seq FROM sqlite_sequence ORDER BY name').all() as Array<{ name: string; seq: number }>;
      const schema = database.prepare('PRAGMA schema_version').get();
      database.close();
      return {
        checksum: sha256([products, orders, sequences, schema]),
        products: products.length,
        orders: orders.length,
        autoIncrement: sequences.map((sequence) => `${sequence.name}=${sequence.seq + 1}`).join(' '),
      };
    },
  };
}

async function redisSnapshot(redis: Redis): Promise<StateSnapshot['redis']> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}app:*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  keys.sort();
  const values: unknown[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    const ttl = (await redis.pttl(key)) > 0 ? 'expires' : 'persistent';
    if (type === 'string') values.push([key, type, ttl, await redis.get(key)]);
    else if (type === 'hash') values.push([key, type, ttl, Object.entries(await redis.hgetall(key)).sort()]);
    else if (type === 'list') values.push([key, type, ttl, await redis.lrange(key, 0, -1)]);
    else if (type === 'set') values.push([key, type, ttl, (await redis.smembers(key)).sort()]);
    else values.push([key, type, ttl, await redis.zrange(key, 0, -1, 'WITHSCORES')]);
  }
  return { checksum: sha256(values), keys: keys.length };
}

/**
 * MYSQL_URL / REDIS_URL when set; else a server on the default port (MariaDB 3306 as root, Redis
 * 6379) when one answers; else the embedded ones: a SQLite file and the memory engine served on loopback.
 */
export async function openBackends(directory: string): Promise<Backends> {
  // DEMO_BACKENDS=embedded skips the servers even when they are there.
  const servers = process.env.DEMO_BACKENDS !== 'embedded';
  const mysqlUrl = !servers ? undefined : (process.env.MYSQL_URL ?? ((await listening('127.0.0.1', 3306)) ? 'mysql://root@127.0.0.1:3306/test' : undefined));
  let memory: MemoryServer | undefined;
  let redisUrl = !servers ? undefined : (process.env.REDIS_URL ?? ((await listening('127.0.0.1', 6379)) ? 'redis://127.0.0.1:6379' : undefined));
  if (redisUrl === undefined) {
    memory = await serveMemoryEngine();
    redisUrl = memory.url;
  }
  const redis = new Redis(redisUrl);
  const database = mysqlUrl === undefined ? sqliteAt(directory) : await mariadbFrom(mysqlUrl);
  const redisDescription = memory === undefined ? `Redis at ${new URL(redisUrl).host}` : `the embedded Redis engine (memory), served at ${new URL(redisUrl).host}`;
  return {
    database: database.database,
    redisUrl,
    describe: { database: database.describe, redis: redisDescription },
    async reset() {
      await database.reset();
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}*`, 'COUNT', 1000);
        if (batch.length > 0) await redis.del(...batch);
        cursor = next;
      } while (cursor !== '0');
    },
    async snapshot() {
      return { database: await database.snapshot(), redis: await redisSnapshot(redis) };
    },
    async close() {
      redis.disconnect();
      await memory?.close();
    },
  };
}

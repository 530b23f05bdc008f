import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { serveMemoryEngine, type MemoryServer } from '@mirrorguard/redis-shadow';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { ORDERS_TABLES } from '../examples/orders-express/schema.ts';
import { monitorRedis, type ClientCommands } from './redis-monitor.ts';
import { CLIENT_NAME_PREFIX, type ServiceConfig } from './service-config.ts';
import { PRODUCTS } from './workload.ts';

/** The shared database and Redis the primary and its mirrors use: real servers when reachable, embedded ones otherwise. */
export interface Backends {
  readonly database: ServiceConfig['database'];
  readonly redisUrl: string;
  /** For the report: what each one is. */
  readonly describe: { readonly database: string; readonly redis: string };
  /** A fresh schema with the demo's products; no demo key left in Redis. */
  reset(): Promise<void>;
  /** What the shared database and Redis hold, read by plain clients of their own. */
  snapshot(): Promise<StateSnapshot>;
  /** Starts watching what the services' connections send the Redis server (MONITOR); `stop` resolves to null where there is no server to watch (embedded). */
  monitor(): Promise<{ stop(): Promise<Record<string, ClientCommands> | null> }>;
  close(): Promise<void>;
}

export interface StateSnapshot {
  /** `checksum` covers the rows of every table, the schema, the auto-increment counters and the list of databases (files for SQLite). */
  readonly database: {
    readonly checksum: string;
    readonly tables: number;
    readonly orders: number;
    readonly autoIncrement: string;
    /** What the checksum covers beyond the demo's tables: the server's databases (the SQLite files), named, so that a failed check can say which came or went. */
    readonly databases: readonly string[];
  };
  /** `checksum` covers every key of the demo's app (by type, value and whether it expires); embedded, every key of every database. */
  readonly redis: { readonly checksum: string; readonly keys: number; readonly recordings: number };
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

async function mariadbAt(url: string): Promise<DatabaseBackend> {
  const server = new URL(url);
  const serverUrl = Object.assign(new URL(url), { pathname: '/' }).toString();
  const demoUrl = Object.assign(new URL(url), { pathname: `/${DATABASE}` }).toString();
  const root = await createConnection({ uri: serverUrl });
  const [[version]] = (await root.query('SELECT VERSION() AS version')) as unknown as [[{ version: string }]];
  await root.end();
  return {
    database: { type: 'mariadb', url: demoUrl },
    describe: `MariaDB ${version!.version} at ${server.host} (database ${DATABASE})`,
    async reset() {
      const connection = await createConnection({ uri: serverUrl, multipleStatements: true });
      await connection.query(`DROP DATABASE IF EXISTS ${DATABASE}; CREATE DATABASE ${DATABASE}; USE ${DATABASE}; ${ORDERS_TABLES.mariadb.join('; ')}`);
      await connection.query('INSERT INTO products (name, price, stock) VALUES ?', [PRODUCTS.map((product) => [product.name, product.price, product.stock])]);
      await connection.end();
    },
    async snapshot() {
      const connection = await createConnection({ uri: demoUrl });
      const [databases] = (await connection.query('SHOW DATABASES')) as unknown as [Array<{ Database: string }>];
      const [tables] = (await connection.query('SELECT TABLE_NAME AS name, AUTO_INCREMENT AS next FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [DATABASE])) as unknown as [Array<{ name: string; next: number | null }>];
      const [columns] = await connection.query('SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION', [DATABASE]);
      const contents: unknown[] = [];
      let orders = 0;
      for (const table of tables) {
        const [rows] = (await connection.query(`SELECT * FROM \`${table.name}\` ORDER BY 1`)) as unknown as [unknown[]];
        const [checksum] = await connection.query(`CHECKSUM TABLE \`${table.name}\``);
        contents.push([table.name, rows, checksum]);
        if (table.name === 'orders') orders = rows.length;
      }
      await connection.end();
      return {
        checksum: sha256([databases, tables, columns, contents]),
        tables: tables.length,
        orders,
        autoIncrement: tables.map((table) => `${table.name}=${table.next}`).join(' '),
        databases: databases.map((row) => row.Database),
      };
    },
  };
}

function sqliteIn(directory: string): DatabaseBackend {
  const file = join(directory, 'orders.sqlite');
  return {
    database: { type: 'sqlite', file },
    describe: `SQLite (embedded, node:sqlite) at ${file}`,
    async reset() {
      for (const name of readdirSync(directory)) if (name.startsWith('orders.sqlite')) rmSync(join(directory, name), { force: true });
      const database = new DatabaseSync(file);
      database.exec(`${ORDERS_TABLES.sqlite.join('; ')};`);
      const insert = database.prepare('INSERT INTO products (name, price, stock) VALUES (?, ?, ?)');
      for (const product of PRODUCTS) insert.run(product.name, product.price, product.stock);
      database.close();
    },
    async snapshot() {
      const files = readdirSync(directory).filter((name) => name.startsWith('orders.sqlite')).sort();
      const database = new DatabaseSync(file, { readOnly: true });
      const schema = database.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").all() as Array<{ type: string; name: string }>;
      const contents: unknown[] = [];
      let orders = 0;
      for (const { name } of schema.filter((entry) => entry.type === 'table')) {
        const rows = database.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all();
        contents.push([name, rows]);
        if (name === 'orders') orders = rows.length;
      }
      const sequences = database.prepare('SELECT name, seq FROM sqlite_sequence ORDER BY name').all() as Array<{ name: string; seq: number }>;
      const header = [database.prepare('PRAGMA schema_version').get(), database.prepare('PRAGMA user_version').get()];
      database.close();
      return {
        checksum: sha256([files, schema, contents, header]),
        tables: schema.filter((entry) => entry.type === 'table' && entry.name !== 'sqlite_sequence').length,
        orders,
        autoIncrement: sequences.map((sequence) => `${sequence.name}=${sequence.seq + 1}`).join(' '),
        databases: files,
      };
    },
  };
}

/** Every key matching `pattern` in the client's database, in SCAN order. */
async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Every key matching `pattern` in the client's database, with its type, its value and whether it expires. */
async function keysByValue(redis: Redis, pattern: string): Promise<unknown[]> {
  const values: unknown[] = [];
  for (const key of (await scanKeys(redis, pattern)).sort()) {
    const type = await redis.type(key);
    const ttl = (await redis.pttl(key)) > 0 ? 'expires' : 'persistent';
    if (type === 'string') values.push([key, type, ttl, await redis.get(key)]);
    else if (type === 'hash') values.push([key, type, ttl, Object.entries(await redis.hgetall(key)).sort()]);
    else if (type === 'list') values.push([key, type, ttl, await redis.lrange(key, 0, -1)]);
    else if (type === 'set') values.push([key, type, ttl, (await redis.smembers(key)).sort()]);
    else if (type === 'zset') values.push([key, type, ttl, await redis.zrange(key, 0, -1, 'WITHSCORES')]);
    else values.push([key, type, ttl]);
  }
  return values;
}

/** `open()`, or undefined when the server answers but refuses the demo (another password, a socket-only root): said, and the embedded one used. */
async function usable<T>(open: () => Promise<T>, what: string): Promise<T | undefined> {
  try {
    return await open();
  } catch (error) {
    console.log(`demo: ${what} answers but refused the demo (${(error as Error).message}); using the embedded one instead`);
    return undefined;
  }
}

/**
 * MYSQL_URL / REDIS_URL when set; else a server on the default port (MariaDB 3306 as root, Redis
 * 6379) that answers and lets the demo in; else the embedded ones: a SQLite file and the memory
 * engine served on loopback. DEMO_BACKENDS=embedded skips the servers even when they are there.
 */
export async function openBackends(directory: string): Promise<Backends> {
  const servers = process.env.DEMO_BACKENDS !== 'embedded';
  const mysqlUrl = !servers ? undefined : (process.env.MYSQL_URL ?? ((await listening('127.0.0.1', 3306)) ? 'mysql://root@127.0.0.1:3306' : undefined));
  // A server named by MYSQL_URL must work; one found on the default port may refuse the demo.
  const mariadb = mysqlUrl === undefined ? undefined : process.env.MYSQL_URL !== undefined ? await mariadbAt(mysqlUrl) : await usable(() => mariadbAt(mysqlUrl), `MariaDB at ${new URL(mysqlUrl).host}`);
  const database = mariadb ?? sqliteIn(directory);
  let redisUrl = !servers ? undefined : (process.env.REDIS_URL ?? ((await listening('127.0.0.1', 6379)) ? 'redis://127.0.0.1:6379' : undefined));
  if (redisUrl !== undefined && process.env.REDIS_URL === undefined) {
    const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    if ((await usable(() => probe.connect().then(() => probe.ping()), `Redis at ${new URL(redisUrl).host}`)) === undefined) redisUrl = undefined;
    probe.disconnect();
  }
  const memory: MemoryServer | undefined = redisUrl === undefined ? await serveMemoryEngine() : undefined;
  if (memory !== undefined) redisUrl = memory.url;
  const redis = new Redis(redisUrl!);
  return {
    database: database.database,
    redisUrl: redisUrl!,
    describe: {
      database: database.describe,
      redis: memory === undefined ? `Redis at ${new URL(redisUrl!).host}` : `the embedded Redis engine (memory), served at ${new URL(redisUrl!).host}`,
    },
    async reset() {
      await database.reset();
      const keys = await scanKeys(redis, `${KEY_PREFIX}*`);
      if (keys.length > 0) await redis.del(...keys);
    },
    async snapshot() {
      // The embedded engine is the demo's own: all of it, every database. A server may hold others' keys: the demo's.
      // The primary's recorded payments calls are kept under the proxy's request ids, other ones on every
      // run: counted (no mirror may add one), not compared by value.
      const isRecording = (entry: unknown[]): boolean => String(entry[0]).startsWith(`${KEY_PREFIX}http:`);
      const values: unknown[] = [];
      let keys = 0;
      let recordings = 0;
      for (const db of memory === undefined ? [Number(new URL(redisUrl!).pathname.slice(1) || 0)] : [...Array(16).keys()]) {
        const client = new Redis(redisUrl!, { db });
        const entries = (await keysByValue(client, memory === undefined ? `${KEY_PREFIX}*` : '*')) as unknown[][];
        client.disconnect();
        for (const entry of entries) if (isRecording(entry)) recordings += (entry[3] as unknown[]).length;
        const kept = entries.filter((entry) => !isRecording(entry));
        keys += kept.length;
        values.push(db, kept);
      }
      return { database: await database.snapshot(), redis: { checksum: sha256(values), keys, recordings } };
    },
    async monitor() {
      if (memory !== undefined) return { stop: () => Promise.resolve(null) };
      const monitor = await monitorRedis(redisUrl!);
      return { stop: () => monitor.stop(CLIENT_NAME_PREFIX) };
    },
    async close() {
      redis.disconnect();
      await memory?.close();
    },
  };
}

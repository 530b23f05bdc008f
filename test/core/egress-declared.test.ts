import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuards, getEgressLockdown, memorySink } from '@mirrorguard/core';
import { typeormProvider } from '@mirrorguard/db-readonly';
import { redisProvider } from '@mirrorguard/redis-shadow';
import { Redis, type RedisOptions } from 'ioredis';
import mysql2 from 'mysql2';
import mysql2Promise from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStubProvider, redisStore } from '../../packages/http-stub/src/index.ts';
import { startByteSentinel, type ByteSentinel } from '../support/byte-sentinel.ts';
import { MYSQL_URL, REDIS_URL } from '../support/servers.ts';

// The guards declare their own destinations: a mirror built from them reaches the shared MariaDB,
// Redis and pairing store (read-only use here), and nothing else. Before they are built, the same
// servers are refused: the declarations are what open them.

/** A HAR file with nothing recorded: a replay reads its recording at start-up. */
function emptyRecording(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mirrorguard-egress-declared-')), 'none.har');
  writeFileSync(file, JSON.stringify({ log: { version: '1.2', creator: { name: 'egress-declared.test', version: '0' }, entries: [] } }));
  return file;
}

/** A Redis client's first connection error (ioredis rejects connect() with its own "Connection is closed"). */
async function redisRefusal(options: RedisOptions): Promise<unknown> {
  const redis = new Redis({ ...options, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  const [[error]] = await Promise.all([once(redis, 'error'), redis.connect().catch(() => undefined)]);
  redis.disconnect();
  return error;
}

describe('egress lockdown: the destinations the guards declare', () => {
  const sink = memorySink({ limit: 10_000 });
  let sentinel: ByteSentinel;
  let pairing: Redis;
  let close: () => Promise<void>;

  beforeAll(async () => {
    sentinel = await startByteSentinel('tcp');
    // The pairing store's client, made before the mirror (connected before the lockdown).
    pairing = new Redis(REDIS_URL, { lazyConnect: true });
    await pairing.connect();
  });

  afterAll(async () => {
    await close?.();
    pairing.disconnect();
    await sentinel.close();
  });

  it('with nothing declared, the database and Redis are refused like anything else', async () => {
    const empty = await createGuards({ profile: 'mirror', providers: {}, journal: { sinks: [sink] } });
    await expect(mysql2Promise.createConnection(MYSQL_URL)).rejects.toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    const { hostname, port } = new URL(REDIS_URL);
    expect(await redisRefusal({ host: hostname, port: Number(port || 6379) })).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    await empty.close();
  });

  it('built by createGuards, the guards reach their servers; the lockdown lists who declared what', async () => {
    const prefix = `mirrorguard:egress-test:${randomUUID()}:`;
    const guards = await createGuards({
      profile: 'mirror',
      providers: {
        db: typeormProvider({ dataSource: { type: 'mariadb', url: MYSQL_URL, logging: false }, mysql2 }),
        redis: redisProvider({ origin: REDIS_URL, shadow: 'memory' }),
        http: httpStubProvider({ recording: join(mkdtempSync(join(tmpdir(), 'mirrorguard-egress-declared-')), 'none.har'), store: redisStore({ redis: pairing, prefix, waitMs: 0 }) }),
      },
      journal: { sinks: [sink] },
    });
    close = guards.close;
    expect(await (guards.db as DataSource).query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(await guards.redis.get(`${prefix}absent`)).toBeNull();
    // The pairing store's client reconnects after the lockdown: its own declaration lets it.
    pairing.disconnect(true);
    await once(pairing, 'ready');
    expect(await pairing.lrange(`${prefix}absent`, 0, -1)).toEqual([]);

    const { hostname: dbHost, port: dbPort } = new URL(MYSQL_URL);
    const { hostname: redisHost, port: redisPort } = new URL(REDIS_URL);
    expect(getEgressLockdown()!.grants().map(({ description, by, reason }) => `${by}: ${description} (${reason})`)).toEqual(
      expect.arrayContaining([
        `db: ${dbHost}:${dbPort || 3306} (the database)`,
        `redis: ${redisHost}:${redisPort || 6379} (origin Redis)`,
        `http: ${pairing.options.host}:${pairing.options.port} (the shared exchange store)`,
      ]),
    );
  });

  it("http-stub's allowHosts: a safe call let through on a miss reaches its host, declared by the provider", async () => {
    // One http stub per process: the one above goes first (its grants stay).
    await close();
    close = () => Promise.resolve();
    const api = await startByteSentinel('http');
    const guards = await createGuards({
      profile: 'mirror',
      providers: { http: httpStubProvider({ recording: emptyRecording(), allowHosts: [`127.0.0.1:${api.port}`] }) },
      journal: { sinks: [sink] },
    });
    try {
      const response = await fetch(`http://127.0.0.1:${api.port}/status`);
      expect(await response.text()).toBe('ok');
      expect(api.connections()).toBe(1);
    } finally {
      await guards.close();
      await api.close();
    }
  });

  it('and nothing else: an undeclared server next to them is refused', async () => {
    expect(await redisRefusal({ host: '127.0.0.1', port: sentinel.port })).toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    await expect(mysql2Promise.createConnection({ host: '127.0.0.1', port: sentinel.port })).rejects.toMatchObject({ code: 'MG_ERR_EGRESS_REFUSED' });
    expect(sentinel.connections()).toBe(0);
  });
});

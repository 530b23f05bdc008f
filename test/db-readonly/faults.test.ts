import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type mysql2Callback from 'mysql2';
import mysql2 from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardMysql2 } from '@mirrorguard/db-readonly';
import { startMariadbServer, type ThrowawayMariadb } from '../support/mariadb-server.ts';

// A MariaDB of the test's own, paused (SIGSTOP), resumed and killed mid-command. Every call through
// a guarded pool or connection must settle as the same call on raw mysql2 with the same options
// does: with the same error code, no later (beyond a margin of scheduling), and never hanging where
// raw mysql2 settles. The baseline is measured in the same test, against the same fault.

type Settled = { readonly ms: number; readonly outcome: string };

/** The core (callback) connection inside a promise connection. */
const core = (connection: mysql2.Connection): mysql2Callback.Connection => (connection as unknown as { connection: mysql2Callback.Connection }).connection;

const HANG_MS = 12_000;

async function settle(work: Promise<unknown>, start: number): Promise<Settled> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    work.then(
      () => 'ok',
      (error: { code?: string; message?: string }) => error.code ?? error.message ?? 'error',
    ),
    new Promise<string>((resolve) => (timer = setTimeout(resolve, HANG_MS, 'hung'))),
  ]);
  clearTimeout(timer);
  return { ms: Date.now() - start, outcome };
}

describe('db-readonly when the server is paused or killed', () => {
  let server: ThrowawayMariadb;
  let pid: number;
  let uri: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

  beforeAll(async () => {
    server = await startMariadbServer();
    pid = Number(readFileSync(join(server.dir, 'mariadb.pid'), 'utf8'));
    uri = `mysql://root@127.0.0.1:${server.port}/mysql`;
    process.on('unhandledRejection', onUnhandled);
  }, 60_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server?.kill();
  });

  const pause = (): void => void process.kill(pid, 'SIGSTOP');
  const resume = (): void => void process.kill(pid, 'SIGCONT');

  /** Runs `calls` through a pool made by `make` while the server is paused from before the first connection. */
  async function whilePausedCold(make: () => ReturnType<typeof mysql2.createPool>, calls: number): Promise<Settled[]> {
    const pool = make();
    pool.on('connection', () => undefined);
    pause();
    const start = Date.now();
    try {
      return await Promise.all(Array.from({ length: calls }, (_, index) => settle(pool.query({ sql: 'SELECT ?', timeout: 1_000 }, [index]), start)));
    } finally {
      resume();
      await pool.end().catch(() => undefined);
    }
  }

  it('settles every call on a pool whose server stopped answering before it connected, as raw mysql2 does', async () => {
    const options = { uri, connectionLimit: 2, connectTimeout: 1_500 };
    const raw = await whilePausedCold(() => mysql2.createPool(options), 4);
    const guarded = await whilePausedCold(() => guardMysql2(mysql2).createPool(options), 4);
    expect(raw.map((call) => call.outcome)).toEqual(Array(4).fill('ETIMEDOUT'));
    expect(guarded.map((call) => call.outcome)).toEqual(raw.map((call) => call.outcome));
    const slowest = (calls: Settled[]): number => Math.max(...calls.map((call) => call.ms));
    // No later than raw mysql2, give or take one connect timeout's scheduling on a busy machine.
    expect(slowest(guarded)).toBeLessThanOrEqual(slowest(raw) + options.connectTimeout / 2);
    expect(unhandled).toEqual([]);
  });

  it('a standalone connection whose handshake never comes rejects its queued queries and its promise', async () => {
    pause();
    const start = Date.now();
    try {
      const [raw, guarded] = await Promise.all([
        settle(mysql2.createConnection({ uri, connectTimeout: 1_000 }), start),
        settle(guardMysql2(mysql2).createConnection({ uri, connectTimeout: 1_000 }), start),
      ]);
      expect(raw.outcome).toBe('ETIMEDOUT');
      expect(guarded.outcome).toBe(raw.outcome);
    } finally {
      resume();
    }
  });

  it('a callback connection whose handshake never comes hands its queued queries raw mysql2’s error, not an error event', async () => {
    const { default: callbackMysql2 } = await import('mysql2');
    pause();
    const start = Date.now();
    try {
      const outcomes: Record<string, { query: Settled; errorEvents: number }> = {};
      for (const [name, module] of [
        ['raw', callbackMysql2],
        ['guarded', guardMysql2(callbackMysql2)],
      ] as const) {
        const connection = module.createConnection({ uri, connectTimeout: 1_000 });
        let errorEvents = 0;
        connection.on('error', () => (errorEvents += 1));
        const query = await settle(
          new Promise((resolve, reject) => connection.query('SELECT 1', (error) => (error ? reject(error) : resolve(undefined)))),
          start,
        );
        outcomes[name] = { query, errorEvents };
        connection.destroy();
      }
      expect(outcomes.raw!.query.outcome).toBe('ETIMEDOUT');
      expect(outcomes.guarded!.query.outcome).toBe(outcomes.raw!.query.outcome);
      expect(outcomes.guarded!.errorEvents).toBe(outcomes.raw!.errorEvents);
    } finally {
      resume();
    }
  });

  it('a query held behind the guard’s read-back of a SET times out on its own timeout, where raw mysql2 would wait', async () => {
    const connection = await guardMysql2(mysql2).createConnection({ uri, connectTimeout: 3_000 });
    core(connection).on('error', () => undefined);
    pause();
    const start = Date.now();
    try {
      const set = settle(connection.query("SET time_zone = '+00:00'"), start);
      const held = await settle(connection.query({ sql: 'SELECT 1', timeout: 500 }), start);
      expect(held.outcome).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
      // The read-back itself is bounded by connectTimeout: the guard ends the connection.
      resume();
      expect((await set).outcome).toBe('ok');
    } finally {
      resume();
      core(connection).destroy();
    }
  });

  it('every queued call rejects with raw mysql2’s error when the server is killed mid-query', async () => {
    const results: Record<string, string[]> = {};
    for (const [name, module] of [
      ['raw', mysql2],
      ['guarded', guardMysql2(mysql2)],
    ] as const) {
      const connection = await module.createConnection({ uri });
      core(connection).on('error', () => undefined);
      const start = Date.now();
      const calls = [connection.query('SELECT SLEEP(5)'), connection.query('SELECT 1'), connection.query("SET time_zone = '+00:00'"), connection.query('SELECT 2')].map(
        (call) => settle(call, start),
      );
      // The first call is running on the server once the server lists it.
      const watcher = await mysql2.createConnection({ uri });
      for (;;) {
        const [rows] = await watcher.query<mysql2.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(5)'");
        if (Number(rows[0]!.n) > 0) break;
      }
      await watcher.end();
      // Killing the whole server here would end the other half of the comparison: kill the connection instead.
      const killer = await mysql2.createConnection({ uri });
      await killer.query('KILL CONNECTION ?', [core(connection).threadId]);
      await killer.end();
      results[name] = (await Promise.all(calls)).map((call) => call.outcome);
    }
    expect(results.guarded).toEqual(results.raw);
    expect(results.raw!.every((outcome) => outcome !== 'hung')).toBe(true);
    expect(unhandled).toEqual([]);
  });
});

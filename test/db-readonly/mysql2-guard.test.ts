import mysql2 from 'mysql2';
import mysql2Promise from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournal, memorySink, MirrorGuardError, withRequestContext } from '@mirrorguard/core';
import { guardMysql2, ReadOnlyViolationError } from '@mirrorguard/db-readonly';
import { startMariadbServer, type ThrowawayMariadb } from '../support/mariadb-server.ts';
import { adminConnection, createLeakSchema, createPrivateLeakSchema, leakUrl } from './leak-schema.ts';

const READ_ONLY_CHECK = "SHOW SESSION VARIABLES WHERE Variable_name IN ('transaction_read_only', 'tx_read_only')";
const isReadOnly = (rows: unknown): boolean => (rows as Array<{ Value: string }>).every((row) => row.Value === 'ON');

function setup(options: Parameters<typeof guardMysql2>[1] = {}) {
  const sink = memorySink();
  const journal = createJournal({ profile: 'mirror', sinks: [sink] });
  return { sink, journal, mysql: guardMysql2(mysql2, { journal, ...options }), mysqlPromise: guardMysql2(mysql2Promise, { journal, ...options }) };
}

describe('guardMysql2 against MariaDB', () => {
  beforeAll(createLeakSchema);

  describe('callback API', () => {
    const { mysql, sink } = setup();
    let connection: ReturnType<typeof mysql.createConnection>;
    beforeAll(() => {
      connection = mysql.createConnection({ uri: leakUrl() });
    });
    afterAll(() => new Promise<void>((resolve) => connection.end(() => resolve())));

    it('reads, and the session is read-only before the first statement', async () => {
      const [readOnly, rows] = await Promise.all([
        new Promise((resolve, reject) => connection.query(READ_ONLY_CHECK, (error, result) => (error ? reject(error) : resolve(result)))),
        new Promise((resolve, reject) => connection.query('SELECT name FROM products WHERE id = ?', [1], (error, result) => (error ? reject(error) : resolve(result)))),
      ]);
      expect(isReadOnly(readOnly)).toBe(true);
      expect(rows).toEqual([{ name: 'lamp' }]);
    });

    it('refuses a write with the error a read-only server gives, and journals it with the request id', async () => {
      const error = await withRequestContext({ requestId: 'req-delete' }, () =>
        new Promise<unknown>((resolve) => connection.query('DELETE FROM orders WHERE id = ?', [3], (err) => resolve(err))),
      );
      expect(error).toBeInstanceOf(ReadOnlyViolationError);
      expect(error).toBeInstanceOf(MirrorGuardError);
      expect(error).toMatchObject({
        code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
        errno: 1792,
        sqlState: '25006',
        sql: 'DELETE FROM orders WHERE id = 3',
        statementKind: 'write',
        message: expect.stringMatching(/^Cannot execute statement in a READ ONLY transaction/),
      });
      expect(sink.events().at(-1)).toMatchObject({ requestId: 'req-delete', dependency: 'db', action: 'blocked', operation: 'DELETE FROM orders WHERE id = 3' });
    });

    it('checks the formatted text, so raw values cannot smuggle SQL in', async () => {
      const error = await new Promise((resolve) => connection.query('SELECT ?', [mysql2.raw("GET_LOCK('x', 0)")], (err) => resolve(err)));
      expect(error).toMatchObject({ statementKind: 'lock', sql: "SELECT GET_LOCK('x', 0)" });
    });

    it('streams reads and fails a streamed write on the stream', async () => {
      const rows: unknown[] = [];
      for await (const row of connection.query('SELECT id FROM products ORDER BY id').stream()) rows.push(row);
      expect(rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      const stream = connection.query('UPDATE products SET stock = 0').stream();
      await expect(async () => {
        for await (const _row of stream) void _row;
      }).rejects.toMatchObject({ errno: 1792 });
    });

    it('emits the error on an event-style query', async () => {
      const query = connection.query({ sql: 'TRUNCATE TABLE orders' });
      const error = await new Promise((resolve) => query.on('error', resolve));
      expect(error).toMatchObject({ statementKind: 'ddl' });
    });

    it('refuses prepare and execute of a write, and runs them for reads', async () => {
      const prepared = await new Promise((resolve) => connection.prepare('DELETE FROM orders', (error) => resolve(error)));
      expect(prepared).toMatchObject({ errno: 1792, statementKind: 'write' });
      const executed = await new Promise((resolve) => connection.execute('UPDATE products SET price = ?', [0], (error) => resolve(error)));
      expect(executed).toMatchObject({ errno: 1792 });
      const rows = await new Promise((resolve, reject) => connection.execute('SELECT name FROM products WHERE id = ?', [2], (error, result) => (error ? reject(error) : resolve(result))));
      expect(rows).toEqual([{ name: 'desk' }]);
    });

    it('makes the session read-only again after a reset and a change of user', async () => {
      await new Promise<void>((resolve, reject) => connection.reset((error) => (error ? reject(error) : resolve())));
      const afterReset = await new Promise((resolve, reject) => connection.query(READ_ONLY_CHECK, (error, rows) => (error ? reject(error) : resolve(rows))));
      expect(isReadOnly(afterReset)).toBe(true);
      await new Promise<void>((resolve, reject) => connection.changeUser({ user: new URL(leakUrl()).username }, (error) => (error ? reject(error) : resolve())));
      const afterChange = await new Promise((resolve, reject) => connection.query(READ_ONLY_CHECK, (error, rows) => (error ? reject(error) : resolve(rows))));
      expect(isReadOnly(afterChange)).toBe(true);
    });

    it('never announces multiple statements or LOCAL INFILE, whatever was asked', () => {
      const asked = mysql.createConnection({ uri: `${leakUrl()}?multipleStatements=true`, multipleStatements: true, flags: ['MULTI_STATEMENTS', 'LOCAL_FILES'] });
      expect((asked.config as unknown as { clientFlags: number }).clientFlags & (0x10000 | 0x80)).toBe(0);
      // Destroyed mid-handshake, mysql2 emits "write after end" on the connection, guarded or not.
      asked.on('error', () => undefined);
      asked.destroy();
    });
  });

  describe('promise API and pools', () => {
    const { mysqlPromise, sink } = setup();
    let pool: ReturnType<typeof mysqlPromise.createPool>;
    beforeAll(() => {
      pool = mysqlPromise.createPool({ uri: leakUrl(), connectionLimit: 1, resetOnRelease: true });
    });
    afterAll(() => pool.end());

    it('reads through query, execute and a pooled connection', async () => {
      const [rows] = await pool.query('SELECT COUNT(*) AS n FROM products');
      expect(rows).toEqual([{ n: 3 }]);
      const [executed] = await pool.execute('SELECT name FROM products WHERE price > ? ORDER BY id', [40]);
      expect(executed).toEqual([{ name: 'desk' }, { name: 'chair' }]);
      const connection = await pool.getConnection();
      try {
        const [readOnly] = await connection.query(READ_ONLY_CHECK);
        expect(isReadOnly(readOnly)).toBe(true);
      } finally {
        connection.release();
      }
    });

    it('stays read-only after the pool resets a released connection', async () => {
      for (let round = 0; round < 3; round += 1) {
        const connection = await pool.getConnection();
        const [readOnly] = await connection.query(READ_ONLY_CHECK);
        expect(isReadOnly(readOnly)).toBe(true);
        connection.release();
      }
    });

    it('refuses writes, locks and escapes in every form', async () => {
      await expect(pool.query('INSERT INTO products (name, price) VALUES (?, ?)', ['x', 1])).rejects.toMatchObject({ errno: 1792, statementKind: 'write' });
      await expect(pool.execute('DELETE FROM orders WHERE id = ?', [1])).rejects.toMatchObject({ errno: 1792 });
      await expect(pool.query({ sql: 'SELECT * FROM products FOR UPDATE' })).rejects.toMatchObject({ statementKind: 'lock' });
      await expect(pool.query('SET SESSION TRANSACTION READ WRITE')).rejects.toMatchObject({ statementKind: 'escape' });
    });

    it('journals each refusal under the request that made it, even when a busy pool hands over its only connection', async () => {
      sink.clear();
      await Promise.all(
        Array.from({ length: 6 }, (_, n) =>
          withRequestContext({ requestId: `pooled-${n}` }, async () => {
            await expect(pool.query(`DELETE FROM orders WHERE id = ${n}`)).rejects.toMatchObject({ errno: 1792 });
          }),
        ),
      );
      const byOperation = new Map(sink.events().map((event) => [event.operation, event.requestId]));
      for (let n = 0; n < 6; n += 1) expect(byOperation.get(`DELETE FROM orders WHERE id = ${n}`)).toBe(`pooled-${n}`);
    });

    it('warns once that the account can write', () => {
      const warnings = sink.events().filter((event) => event.action === 'warned');
      expect(warnings.length).toBeLessThanOrEqual(1);
    });
  });

  describe('simulate policy', () => {
    const { mysqlPromise, sink } = setup({ policy: 'simulate', firstSimulatedInsertId: 5_000 });
    let pool: ReturnType<typeof mysqlPromise.createPool>;
    beforeAll(() => {
      pool = mysqlPromise.createPool({ uri: leakUrl(), connectionLimit: 2 });
    });
    afterAll(() => pool.end());

    it('answers writes with a plausible OK result and journals them as simulated', async () => {
      const [inserted] = await pool.query('INSERT INTO products (name, price) VALUES (?, ?)', ['ghost', 1]);
      expect(inserted).toMatchObject({ affectedRows: 1, insertId: 5_000 });
      const [executed] = await pool.execute('INSERT INTO orders (product_id, quantity) VALUES (?, ?)', [1, 1]);
      expect(executed).toMatchObject({ affectedRows: 1, insertId: 5_001 });
      const [updated] = await pool.query('UPDATE products SET stock = stock - 1 WHERE id = 1');
      expect(updated).toMatchObject({ affectedRows: 1, insertId: 0 });
      expect(sink.events().filter((event) => event.action === 'simulated').map((event) => event.operation)).toEqual([
        "INSERT INTO products (name, price) VALUES ('ghost', 1)",
        'INSERT INTO orders (product_id, quantity) VALUES (1, 1)',
        'UPDATE products SET stock = stock - 1 WHERE id = 1',
      ]);
      const admin = await adminConnection();
      const [[count]] = (await admin.query('SELECT COUNT(*) AS n FROM products WHERE name = ?', ['ghost'])) as unknown as [[{ n: number }]];
      await admin.end();
      expect(count.n).toBe(0);
    });

    it('still refuses locks, escapes and side effects', async () => {
      await expect(pool.query("SELECT GET_LOCK('x', 0)")).rejects.toMatchObject({ statementKind: 'lock' });
      await expect(pool.query('SET GLOBAL max_connections = 1')).rejects.toMatchObject({ statementKind: 'side-effect' });
      await expect(pool.query("SELECT * FROM products INTO OUTFILE '/tmp/x'")).rejects.toMatchObject({ statementKind: 'escape' });
    });
  });

  describe('pool clusters', () => {
    it('guards every node, added before or after, through namespaces and getConnection', async () => {
      const { mysql, sink } = setup();
      const cluster = mysql.createPoolCluster();
      cluster.add('PRIMARY', { uri: leakUrl(), connectionLimit: 1 });
      cluster.add('REPLICA1', { uri: leakUrl(), connectionLimit: 1, multipleStatements: true });
      const query = (sql: string, pattern = '*') =>
        new Promise((resolve, reject) => cluster.of(pattern).query(sql, (error, rows) => (error ? reject(error) : resolve(rows))));
      expect(await query('SELECT COUNT(*) AS n FROM products')).toEqual([{ n: 3 }]);
      await expect(query('DELETE FROM orders', 'REPLICA*')).rejects.toMatchObject({ errno: 1792, statementKind: 'write' });
      cluster.add('REPLICA2', { uri: leakUrl(), connectionLimit: 1 });
      await expect(query('UPDATE products SET stock = 0', 'REPLICA2')).rejects.toMatchObject({ errno: 1792 });
      const readOnly = await new Promise((resolve, reject) =>
        cluster.getConnection('REPLICA2', (error, connection) => {
          if (error) return reject(error);
          connection.query(READ_ONLY_CHECK, (queryError, rows) => {
            connection.release();
            return queryError ? reject(queryError) : resolve(rows);
          });
        }),
      );
      expect(isReadOnly(readOnly)).toBe(true);
      expect(sink.events().filter((event) => event.action === 'blocked')).toHaveLength(2);
      await new Promise<void>((resolve) => cluster.end(() => resolve()));
    });

    it('guards the promise cluster the same way', async () => {
      const { mysqlPromise } = setup();
      const cluster = mysqlPromise.createPoolCluster();
      cluster.add('PRIMARY', { uri: leakUrl(), connectionLimit: 1 });
      const connection = await cluster.getConnection('PRIMARY');
      await expect(connection.query('DELETE FROM orders')).rejects.toMatchObject({ errno: 1792 });
      const [rows] = await connection.query('SELECT name FROM products WHERE id = 3');
      expect(rows).toEqual([{ name: 'chair' }]);
      connection.release();
      await cluster.end();
    });
  });

  // Creating an account changes the whole server: these run on a MariaDB of their own.
  describe('the account', () => {
    let server: ThrowawayMariadb;
    beforeAll(async () => {
      server = await startMariadbServer();
      await createPrivateLeakSchema(server);
    });
    afterAll(() => server?.kill());

    it('refuses every connection when a read-only account is required and this one can write', async () => {
      const { mysqlPromise, sink } = setup({ requireReadOnlyAccount: true });
      const pool = mysqlPromise.createPool({ uri: leakUrl(undefined, server.url), connectionLimit: 1 });
      await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'MG_ERR_DB_ACCOUNT_CAN_WRITE' });
      expect(sink.events().filter((event) => event.action === 'blocked' && event.operation.startsWith('SHOW GRANTS'))).toHaveLength(1);
      expect(sink.events().filter((event) => event.action === 'warned')).toEqual([]);
      await pool.end();
    });

    it('accepts a SELECT-only account without a warning', async () => {
      const admin = await adminConnection(server.url);
      await admin.query(`
        CREATE USER 'mg_reader'@'127.0.0.1' IDENTIFIED BY 'reader-pw';
        CREATE USER 'mg_reader'@'localhost' IDENTIFIED BY 'reader-pw';
        GRANT SELECT, SHOW VIEW ON mirrorguard_leak.* TO 'mg_reader'@'127.0.0.1';
        GRANT SELECT, SHOW VIEW ON mirrorguard_leak.* TO 'mg_reader'@'localhost';
      `);
      await admin.end();
      const { mysqlPromise, sink } = setup({ requireReadOnlyAccount: true });
      const connection = await mysqlPromise.createConnection({ uri: leakUrl({ name: 'mg_reader', password: 'reader-pw' }, server.url) });
      const [rows] = await connection.query('SELECT COUNT(*) AS n FROM orders');
      expect(rows).toEqual([{ n: 3 }]);
      expect(sink.events().filter((event) => event.action === 'warned')).toEqual([]);
      await connection.end();
    });
  });
});

import mysql2 from 'mysql2';
import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { guardMysql2, type GuardMysql2Options } from '@mirrorguard/db-readonly';
import { MYSQL_URL } from '../support/servers.ts';
import { databaseUrl, endSessionsIn, lockHolder as lockHolderOf, primaryWaits, run, tableChecksum } from './server-oracles.ts';

// A second round of attacks on the mysql2 guard (number lexing, the utf8mb4 pin, sql_mode
// following, the session bounds), each judged by the server: a primary connection that must not
// wait on a row or metadata lock (innodb_lock_wait_timeout = 1, lock_wait_timeout = 1),
// IS_USED_LOCK, the table's checksum. Never by the guard's own answers.
//
// `it.fails` marks a hole that is open today (asserting the safe behaviour); plain `it` marks an
// attack that is stopped.
const DATABASE = 'mirrorguard_attack2';
const LOCK = 'mg_attack2_lock';
const LOCK_HEX = `0x${Buffer.from(LOCK).toString('hex')}`;

const url = (database = DATABASE): string => databaseUrl(database);

const options: GuardMysql2Options = { dialect: 'mariadb' };
const guardedPromise = (extra: GuardMysql2Options = {}) => guardMysql2(mysql2Promise, { ...options, ...extra });
const guardedCallback = (extra: GuardMysql2Options = {}) => guardMysql2(mysql2, { ...options, ...extra });

describe('attacks on the mysql2 guard, round 2, judged by the server', () => {
  let admin: Connection;
  let pristine: unknown;

  /** Whether a primary UPDATE of row 1 waits on a row lock the mirror holds (it gives up after 1 s). */
  const primaryWaitsOnRow = (): Promise<boolean> => primaryWaits(admin, 'UPDATE accounts SET balance = balance WHERE id = 1');
  /** Whether a primary LOCK TABLES … WRITE waits on a metadata lock the mirror holds (1 s). */
  async function primaryWaitsOnTable(): Promise<boolean> {
    const waited = await primaryWaits(admin, 'LOCK TABLES accounts WRITE');
    if (!waited) await admin.query('UNLOCK TABLES');
    return waited;
  }
  const lockHolder = (): Promise<unknown> => lockHolderOf(admin, LOCK);
  const checksum = (): Promise<unknown> => tableChecksum(admin, 'accounts');

  beforeAll(async () => {
    const root = await mysql2Promise.createConnection({ uri: MYSQL_URL, multipleStatements: true });
    await root.query(`
      DROP DATABASE IF EXISTS ${DATABASE};
      CREATE DATABASE ${DATABASE};
      USE ${DATABASE};
      CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB;
    `);
    await root.end();
    admin = await mysql2Promise.createConnection({ uri: url() });
    await admin.query('SET SESSION innodb_lock_wait_timeout = 1, SESSION lock_wait_timeout = 1');
  });

  beforeEach(async () => {
    await admin.query('DELETE FROM accounts');
    await admin.query('INSERT INTO accounts VALUES (1, 100), (2, 200)');
    pristine = await checksum();
  });

  afterAll(async () => {
    await endSessionsIn(admin, DATABASE);
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.end();
  });

  describe('holes closed by the wire check', () => {
    // charset-pin.ts pin(): a config whose charsetNumber is already a non-configurable getter is
    // taken as pinned ("A pool copies its pinned config's descriptors …") and left alone. A pool's
    // `config.connectionConfig` is a plain property: replaced by one whose getter answers Big5 (1),
    // each new connection's config copies that getter, the pin skips it, and mysql2 encodes every
    // statement in Big5 while the read-back has set the session to utf8mb4. '許' is B3 5C in Big5:
    // the 0x5C escapes the quote the classifier saw closing the string, and GET_LOCK runs.
    // (App code replacing mysql2's objects: the tampering class of the README's known holes, but
    // the pin claims the field "stays utf8mb4 for good".)
    // Was a hole: the wire check compares each statement's bytes with its UTF-8 encoding; Big5
    // bytes are refused and the connection fails.
    it('a replaced pool connectionConfig with its own charsetNumber getter sends no Big5 bytes to a utf8mb4 session', async () => {
      const pool = guardedCallback().createPool({ uri: url(), connectionLimit: 1 });
      try {
        const poolConfig = (pool as unknown as { config: { connectionConfig: object } }).config;
        const pinned = poolConfig.connectionConfig;
        const descriptors = Object.getOwnPropertyDescriptors(pinned);
        descriptors.charsetNumber = { get: () => 1, set: () => undefined, enumerable: true, configurable: false };
        poolConfig.connectionConfig = Object.create(Object.getPrototypeOf(pinned), descriptors);
        await new Promise((resolve) => pool.query(`SELECT '\u8a31', ', GET_LOCK(${LOCK_HEX}, 0) #'`, resolve));
        expect(await lockHolder()).toBe(null);
      } finally {
        await new Promise((resolve) => pool.end(resolve));
        // The server frees the lock once it has seen the pool's connection go: wait for that
        // (bounded), so that the next tests' oracle starts clean.
        for (let poll = 0; poll < 500 && (await lockHolder()) !== null; poll += 1);
      }
    });
  });

  describe('stopped', () => {
    // lex-sql.ts endOfNumber: hex and binary literals, a trailing `.`, a second exponent, a number
    // after a quote or a variable. Some the classifier lets through; the server cannot parse those.
    it('number spellings around FOR UPDATE / LOCK IN SHARE MODE hold no row lock the primary waits on', async () => {
      const tails = [
        '0x1.0FOR UPDATE', '0b1.0FOR UPDATE', 'x\'01\'.0FOR UPDATE', '1.FOR UPDATE', '1.e0FOR UPDATE', '1.0E-1FOR UPDATE',
        '1.0E+FOR UPDATE', '00.0FOR UPDATE', '.0e1FOR UPDATE', '1e1FOR UPDATE', '1.5e1.0FOR UPDATE', '1e1e1FOR UPDATE',
        '"1".5FOR UPDATE', '@"x".5FOR UPDATE', '@a.1.0FOR UPDATE', '1.0`a`FOR UPDATE', '1.0\'a\'LOCK IN SHARE MODE',
        '1_0.0LOCK IN SHARE MODE', '0x1FOR UPDATE', '1.0eFOR UPDATE',
      ];
      for (const tail of tails) {
        const connection = await guardedPromise().createConnection({ uri: url() });
        try {
          await connection.query('BEGIN');
          await connection.query(`SELECT id FROM accounts WHERE id = 1 AND ${tail}`).catch(() => undefined);
          expect({ tail, waits: await primaryWaitsOnRow() }).toEqual({ tail, waits: false });
        } finally {
          connection.destroy();
        }
      }
    });

    // charset-pin.ts allows every UTF8MB4_* collation of mysql2's table; ids past 255 are written
    // in two bytes by COM_CHANGE_USER. 284 (utf8mb4_pl_0900_as_cs, MySQL's) is 28, GBK, in one
    // byte, and unknown to MariaDB in two: whichever the server takes, the read-back after the
    // change of user must leave utf8mb4, or a GBK lead byte swallows the backslash.
    it('changeUser() to a utf8mb4 collation id past 255 leaves no GBK session: GET_LOCK stays inside its string', async () => {
      const connection = await guardedPromise().createConnection({ uri: url() });
      try {
        await connection.changeUser({ user: 'root', charset: 'UTF8MB4_PL_0900_AS_CS' } as never).catch(() => undefined);
        await connection.query(`SELECT '\u4e01\\', GET_LOCK(${LOCK_HEX}, 0) #'`).catch(() => undefined);
        const [[row]] = await admin.query<RowDataPacket[]>('SELECT 1 AS probe');
        expect(row!.probe).toBe(1);
        expect(await lockHolder()).toBe(null);
      } finally {
        connection.destroy();
      }
    });

    // sql_mode following: NO_BACKSLASH_ESCAPES set by an expression, the next statement pipelined
    // behind it (callback API, not awaited) so it is queued before the read-back answers.
    it('NO_BACKSLASH_ESCAPES set by CONCAT, then a pipelined backslash trick: no named lock', async () => {
      const connection = guardedCallback().createConnection({ uri: url() });
      try {
        const set = run(connection, "SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
        const trick = run(connection, `SELECT '\\', GET_LOCK(${LOCK_HEX}, 0) #'`);
        await Promise.all([set, trick]);
        expect(await lockHolder()).toBe(null);
        // And back: escapes on again, the string that hid nothing under the old mode.
        await run(connection, "SET sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
        await run(connection, `SELECT '\\', GET_LOCK(${LOCK_HEX}, 0) #'`);
        expect(await lockHolder()).toBe(null);
      } finally {
        connection.destroy();
      }
    });

    // guard-connection.ts #sessionChanged sends the commands it held (screened before, in the old
    // sql_mode) once the read-back is judged safe, without screening them again. An Execute carries
    // no SQL (COMMANDS_WITHOUT_SQL): a cached prepared SET sql_mode is executed at once, and the
    // query pipelined behind it would be sent in the mode the SET made. Stopped one step earlier:
    // a SET is never let through as a Prepare.
    it('a prepared SET sql_mode (execute(), cached), a backslash trick pipelined behind it: no named lock', async () => {
      const connection = guardedCallback().createConnection({ uri: url() });
      const execute = (sql: string) => new Promise((resolve) => connection.execute(sql, (error) => resolve(error)));
      try {
        const on = "SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')";
        await execute(on);
        await execute("SET sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
        await Promise.all([execute(on), run(connection, `SELECT '\\', GET_LOCK(${LOCK_HEX}, 0) #'`)]);
        expect(await lockHolder()).toBe(null);
      } finally {
        connection.destroy();
      }
    });

    it('SET STATEMENT sql_mode=… FOR (MariaDB) cannot change how one statement is lexed: no named lock', async () => {
      const connection = await guardedPromise().createConnection({ uri: url() });
      try {
        for (const mode of ["'NO_BACKSLASH_ESCAPES'", "CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')"]) {
          await connection.query(`SET STATEMENT sql_mode = ${mode} FOR SELECT '\\', GET_LOCK(${LOCK_HEX}, 0) #'`).catch(() => undefined);
        }
        await connection.query(`SET STATEMENT sql_mode = 'ANSI_QUOTES' FOR SELECT @"\\", GET_LOCK(${LOCK_HEX}, 0) #"`).catch(() => undefined);
        expect(await lockHolder()).toBe(null);
      } finally {
        connection.destroy();
      }
    });

    it('the statement, write and idle-transaction bounds cannot be lifted by SET in any spelling', async () => {
      const connection = await guardedPromise({ maxStatementTimeMs: 2000, maxIdleTransactionMs: 2000 }).createConnection({ uri: url() });
      try {
        for (const sql of [
          'SET SESSION net_write_timeout = 3600', 'SET @@net_write_timeout = 3600', 'SET SESSION max_statement_time = 0',
          'SET max_statement_time = 0.0000001', 'SET SESSION max_statement_time = DEFAULT', 'SET SESSION idle_transaction_timeout = 0',
          'SET SESSION idle_readonly_transaction_timeout = 3600', 'SET SESSION net_write_timeout = 2, max_statement_time = 0',
          'SET session_track_state_change = 0', 'SET tx_read_only = 0', 'SET SESSION TRANSACTION READ WRITE',
        ]) {
          await connection.query(sql).catch(() => undefined);
        }
        const [[row]] = await connection.query<RowDataPacket[]>(
          'SELECT @@session.net_write_timeout AS w, @@session.max_statement_time AS m, @@session.idle_transaction_timeout AS i, @@session.tx_read_only AS ro, @@session.session_track_state_change AS t',
        );
        expect({ ...row, m: Number(row!.m) }).toEqual({ w: 2, m: 2, i: 2, ro: 1, t: 1 });
      } finally {
        connection.destroy();
      }
    });

    // client-flags.ts: MULTI_STATEMENTS asked for in every spelling mysql2 reads, and a pool
    // cluster (its `of()` selector and its getConnection) built from such configs.
    it('multi-statements in flags, URL or pool cluster config: the second statement takes no named lock', async () => {
      const mysql = guardedCallback();
      const attack = `SELECT 1; SELECT GET_LOCK(${LOCK_HEX}, 0)`;
      for (const config of [
        { uri: url(), flags: '+MULTI_STATEMENTS' }, { uri: url(), flags: ['+MULTI_STATEMENTS'] }, { uri: url(), flags: 'MULTI_STATEMENTS' },
        { uri: `${url()}?multipleStatements=true` }, { uri: `${url()}?flags=%2BMULTI_STATEMENTS` },
      ]) {
        const connection = mysql.createConnection(config as unknown as mysql2.ConnectionOptions);
        connection.on('error', () => undefined);
        await run(connection, attack);
        connection.destroy();
        expect(await lockHolder()).toBe(null);
      }
      const cluster = mysql.createPoolCluster();
      cluster.add('flags', { uri: url(), flags: ['+MULTI_STATEMENTS'] });
      cluster.add('multi', { uri: url(), multipleStatements: true });
      try {
        await new Promise((resolve) => cluster.of('*').query(attack, resolve));
        const pooled = await new Promise<mysql2.PoolConnection>((resolve, reject) => cluster.getConnection('multi', (error, connection) => (error ? reject(error) : resolve(connection))));
        await run(pooled, attack);
        await run(pooled, `SELECT GET_LOCK(${LOCK_HEX}, 0)`);
        pooled.release();
        expect(await lockHolder()).toBe(null);
      } finally {
        await new Promise((resolve) => cluster.end(resolve));
      }
    });

    it('statements that hold a lock past their own end are refused: BACKUP LOCK, XA, HANDLER, LOCK TABLE, FLUSH … FOR EXPORT', async () => {
      for (const sql of [
        'BACKUP LOCK accounts', 'BACKUP STAGE START', `XA START ${LOCK_HEX}`, "XA BEGIN 'mg'", 'HANDLER accounts OPEN',
        'LOCK TABLE accounts READ', 'FLUSH TABLES accounts WITH READ LOCK', 'FLUSH TABLES accounts FOR EXPORT',
        'WITH x AS (SELECT * FROM accounts LOCK IN SHARE MODE) SELECT * FROM x', 'VALUES (1) UNION SELECT id FROM accounts LOCK IN SHARE MODE',
        'SELECT id FROM accounts WHERE id = 1 LOCK/**/IN/**/SHARE/**/MODE', `BEGIN NOT ATOMIC SELECT GET_LOCK(${LOCK_HEX}, 0); END`,
      ]) {
        const connection = await guardedPromise().createConnection({ uri: url() });
        try {
          await connection.query(sql).catch(() => undefined);
          expect({ sql, table: await primaryWaitsOnTable(), row: await primaryWaitsOnRow(), lock: await lockHolder() }).toEqual({ sql, table: false, row: false, lock: null });
        } finally {
          connection.destroy();
        }
      }
      expect(await checksum()).toBe(pristine);
    });
  });
});

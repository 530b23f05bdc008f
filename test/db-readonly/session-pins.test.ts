import mysql2 from 'mysql2';
import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournal, memorySink } from '@mirrorguard/core';
import { classifyStatement, guardMysql2 } from '@mirrorguard/db-readonly';
import { rng } from '../support/seeded-random.ts';
import { MYSQL_URL } from '../support/servers.ts';
import { databaseUrl } from './server-oracles.ts';

// Session state that changes how the server reads statements or how long a mirror holds it: the
// character set, sql_mode, isolation, time bounds. Oracles on the server: round trips of generated
// strings, IS_USED_LOCK, a primary connection that must not wait, the session variables read back.
const DATABASE = 'mirrorguard_session_pins';
const LOCK = 'mg_session_pins_lock';

const url = (database = DATABASE): string => databaseUrl(database);

function setup(options: Parameters<typeof guardMysql2>[1] = {}) {
  const sink = memorySink();
  const journal = createJournal({ profile: 'mirror', sinks: [sink] });
  return { sink, mysql: guardMysql2(mysql2Promise, { journal, ...options }), callbackMysql: guardMysql2(mysql2, { journal, ...options }) };
}

const errorOf = async (work: Promise<unknown>): Promise<{ code?: string; message: string }> => {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
};

async function sessionVariables(connection: { query: Connection['query'] }): Promise<Record<string, string>> {
  const [rows] = await connection.query<RowDataPacket[]>(
    'SELECT @@character_set_client AS client, @@character_set_connection AS connection, @@sql_mode AS mode, @@tx_isolation AS isolation, @@max_statement_time AS statementTime',
  );
  return rows[0] as Record<string, string>;
}


// Characters whose bytes in some character set hold a quote or a backslash (ソ, 表, 能 in Shift-JIS;
// 誠 in Big5; 縗 in GBK), characters outside single-byte sets, and the lexer's own punctuation.
const ALPHABET = ["'", '"', '\\', '`', ';', '#', '-', '/', '*', '?', 'ソ', '表', '能', '誠', '縗', '¥', '₩', 'é', '€', '😀', 'a', ' ', '\n', '\0'];

function generatedStrings(count: number, seed: number): string[] {
  const next = rng(seed);
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * 12) }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join(''));
}

describe('session pins against MariaDB', () => {
  let admin: Connection;
  let charsets: Array<{ charset: string; collation: string }>;

  beforeAll(async () => {
    admin = await mysql2Promise.createConnection({ uri: MYSQL_URL, multipleStatements: true });
    await admin.query(`
      DROP DATABASE IF EXISTS ${DATABASE};
      CREATE DATABASE ${DATABASE};
      USE ${DATABASE};
      CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB;
      INSERT INTO accounts VALUES (1, 100), (2, 200);
      CREATE FUNCTION make_serializable() RETURNS INT NOT DETERMINISTIC BEGIN SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE; RETURN 1; END;
      CREATE FUNCTION lift_time_bound() RETURNS INT NOT DETERMINISTIC BEGIN SET @@session.max_statement_time = 0; RETURN 1; END;
    `);
    const [rows] = await admin.query<RowDataPacket[]>('SHOW CHARACTER SET');
    charsets = rows.map((row) => ({ charset: String(row.Charset), collation: String(row['Default collation']) }));
  });

  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.end();
  });

  describe('the character set is pinned to utf8mb4', () => {
    it('refuses every statement that would leave it, for every character set the server offers', async () => {
      const { mysql } = setup();
      const connection = await mysql.createConnection({ uri: url() });
      const others = charsets.filter(({ charset }) => charset !== 'utf8mb4');
      expect(others.length).toBeGreaterThan(20);
      const passed: string[] = [];
      for (const { charset, collation } of others) {
        for (const statement of [
          `SET NAMES ${charset}`,
          `SET NAMES '${charset}'`,
          `SET CHARACTER SET ${charset}`,
          `SET CHARSET ${charset}`,
          `SET character_set_client = ${charset}`,
          `SET @@session.character_set_connection = '${charset}'`,
          `SET SESSION collation_connection = ${collation}`,
          `SET character_set_client = CONCAT('${charset.slice(0, 2)}', '${charset.slice(2)}')`,
          `SET NAMES utf8mb4, character_set_client = ${charset}`,
        ]) {
          const outcome = await connection.query(statement).then(
            () => 'ran',
            (error: { code?: string }) => error.code,
          );
          if (outcome !== 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION') passed.push(`${statement}: ${outcome}`);
        }
      }
      expect(passed).toEqual([]);
      expect(await sessionVariables(connection)).toMatchObject({ client: 'utf8mb4', connection: 'utf8mb4' });
      // utf8mb4 itself stays allowed, and is read back.
      await connection.query('SET NAMES utf8mb4 COLLATE utf8mb4_bin');
      expect(await sessionVariables(connection)).toMatchObject({ client: 'utf8mb4', connection: 'utf8mb4' });
      await connection.end();
    });

    it('replaces a charset option, and changeUser cannot leave utf8mb4', async () => {
      const { mysql, sink } = setup();
      const connection = await mysql.createConnection({ uri: url(), charset: 'SJIS_JAPANESE_CI' });
      expect(await sessionVariables(connection)).toMatchObject({ client: 'utf8mb4', connection: 'utf8mb4' });
      expect(sink.events().some((event) => event.action === 'warned' && event.reason?.includes('utf8mb4'))).toBe(true);
      const refused = await errorOf(connection.changeUser({ charset: 'LATIN1_SWEDISH_CI' }));
      expect(refused.code).toBe('MG_ERR_DB_COMMAND_REFUSED');
      expect(await sessionVariables(connection)).toMatchObject({ client: 'utf8mb4', connection: 'utf8mb4' });
      await connection.end();

      const pool = mysql.createPool({ uri: url(), charset: 'BIG5_CHINESE_CI', connectionLimit: 1 });
      expect(await sessionVariables(pool)).toMatchObject({ client: 'utf8mb4', connection: 'utf8mb4' });
      await pool.end();
    });

    it('round-trips generated strings exactly through connections that asked for another charset', async () => {
      const strings = generatedStrings(300, 12);
      const { mysql } = setup();
      for (const charset of ['SJIS_JAPANESE_CI', 'CP932_JAPANESE_CI', 'BIG5_CHINESE_CI', 'GBK_CHINESE_CI', 'LATIN1_SWEDISH_CI', 'ASCII_GENERAL_CI', 'BINARY']) {
        const connection = await mysql.createConnection({ uri: url(), charset });
        const differing: string[] = [];
        for (const text of strings) {
          // As a value and as a literal mysql2 escapes: the server must read exactly the string the classifier read.
          const [[asValue]] = (await connection.query({ sql: 'SELECT ? AS v', rowsAsArray: true }, [text])) as unknown as [[[unknown]]];
          const [[asLiteral]] = (await connection.query({ sql: `SELECT ${mysql2.escape(text)} AS v`, rowsAsArray: true })) as unknown as [[[unknown]]];
          if (String(asValue[0]) !== text || String(asLiteral[0]) !== text) differing.push(JSON.stringify(text));
        }
        expect(differing, charset).toEqual([]);
        await connection.end();
      }
      // The control: an unguarded client in Shift-JIS cannot send what Shift-JIS lacks, so the check can fail.
      const plain = await mysql2Promise.createConnection({ uri: url(), charset: 'SJIS_JAPANESE_CI' });
      let plainDiffers = 0;
      for (const text of strings) {
        // Some come back otherwise, some are not even read as one literal (a 0x5C ends the quote early).
        const value = await plain.query({ sql: 'SELECT ? AS v', rowsAsArray: true }, [text]).then(
          ([rows]) => String((rows as unknown as [[unknown]])[0][0]),
          () => undefined,
        );
        if (value !== text) plainDiffers += 1;
      }
      await plain.end();
      expect(plainDiffers).toBeGreaterThan(0);
    });
  });

  describe('the session sql_mode is followed', () => {
    // Under ANSI_QUOTES "…" names a column alias and GET_LOCK runs; read with backslash escapes
    // and "…" as a string, the whole middle is one literal.
    const hidden = `SELECT 1 AS "x\\" , GET_LOCK('${LOCK}', 0) AS "y" -- "`;

    it('reads statements as a session set to ANSI_QUOTES by a pool listener reads them', async () => {
      expect(classifyStatement(hidden, { sqlMode: 'STRICT_TRANS_TABLES' }).allowed).toBe(true);
      expect(classifyStatement(hidden, { sqlMode: 'ANSI_QUOTES' })).toMatchObject({ allowed: false, kind: 'lock' });
      const { mysql } = setup();
      const pool = mysql.createPool({ uri: url(), connectionLimit: 1 });
      pool.on('connection', (connection) => {
        (connection as unknown as mysql2.Connection).query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')", () => undefined);
      });
      const refused = await errorOf(pool.query(hidden));
      expect(refused.code).toBe('ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION');
      const [[lock]] = await admin.query<RowDataPacket[]>('SELECT IS_USED_LOCK(?) AS holder', [LOCK]);
      expect(lock!.holder).toBeNull();
      expect((await sessionVariables(pool)).mode).toContain('ANSI_QUOTES');
      await pool.end();
    });

    it('ends a connection whose sql_mode it cannot follow', async () => {
      const { mysql } = setup();
      const connection = await mysql.createConnection({ uri: url() });
      await connection.query("SET sql_mode = CONCAT('ORA', 'CLE')").catch(() => undefined);
      const error = await errorOf(connection.query('SELECT 1'));
      expect(error.code).toBe('MG_ERR_DB_SESSION_UNSAFE');
      expect(error.message).toContain('ORACLE');
    });
  });

  describe('the mirror never makes the primary wait', () => {
    it('refuses SERIALIZABLE however it is asked for', async () => {
      const { mysql } = setup();
      const connection = await mysql.createConnection({ uri: url() });
      for (const statement of [
        'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE',
        'SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE',
        "SET tx_isolation = 'SERIALIZABLE'",
        "SET @@session.transaction_isolation = 'serializable'",
        'SET SESSION max_statement_time = 0',
        'SET STATEMENT max_statement_time = 0 FOR SELECT 1',
        'SELECT /*+ MAX_EXECUTION_TIME(0) */ 1',
        'SET SESSION session_track_state_change = OFF',
        // Only a level named outright: the server may read a computed one, 3 or DEFAULT as SERIALIZABLE.
        "SET tx_isolation = CONCAT('SERIAL', 'IZABLE')",
        'SET SESSION tx_isolation = 3',
      ]) {
        expect((await errorOf(connection.query(statement))).code, statement).toBe('ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION');
      }
      expect((await sessionVariables(connection)).isolation).toBe('REPEATABLE-READ');
    });

    it('notices a stored function that changes the session behind the classifier, before the next statement runs', async () => {
      // The control: the function really does it, on a plain read-only session.
      const plain = await mysql2Promise.createConnection({ uri: url() });
      await plain.query('SET SESSION TRANSACTION READ ONLY');
      await plain.query('SELECT make_serializable()');
      expect((await sessionVariables(plain)).isolation).toBe('SERIALIZABLE');
      await plain.end();

      for (const fn of ['make_serializable', 'lift_time_bound']) {
        const { mysql } = setup();
        const connection = await mysql.createConnection({ uri: url() });
        const [select, next] = await Promise.allSettled([connection.query(`SELECT ${fn}()`), connection.query('SELECT balance FROM accounts WHERE id = 1')]);
        expect(select.status).toBe('fulfilled');
        expect(next.status, fn).toBe('rejected');
        expect((next as PromiseRejectedResult).reason.code).toBe('MG_ERR_DB_SESSION_UNSAFE');
      }
    });

    it('pins a SERIALIZABLE server default to REPEATABLE READ, so reads in a transaction take no share locks', async () => {
      const { mysql } = setup();
      const pool = mysql.createPool({ uri: url(), connectionLimit: 1 });
      pool.on('connection', (connection) => {
        // Refused: a listener cannot make the pool's sessions SERIALIZABLE either. (mysql2 hands the
        // promise pool's listeners the core connection, whatever its types say.)
        (connection as unknown as mysql2.Connection).query('SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE', () => undefined);
      });
      const mirror = await pool.getConnection();
      await mirror.query('START TRANSACTION');
      await mirror.query('SELECT balance FROM accounts WHERE id = 1');
      // The primary's write to the row the mirror read must not wait on it.
      const primary = await mysql2Promise.createConnection({ uri: url() });
      await primary.query('SET SESSION innodb_lock_wait_timeout = 2');
      await primary.query('UPDATE accounts SET balance = balance WHERE id = 1');
      await primary.end();
      expect((await sessionVariables(mirror)).isolation).toBe('REPEATABLE-READ');
      await mirror.query('ROLLBACK');
      mirror.release();
      await pool.end();
    });

    it('bounds a statement and an idle transaction on the server', async () => {
      const { mysql } = setup({ maxStatementTimeMs: 300, maxIdleTransactionMs: 1000 });
      const connection = await mysql.createConnection({ uri: url() });
      connection.on('error', () => undefined);
      const slow = (await errorOf(connection.query('SELECT SLEEP(30) FROM accounts'))) as { errno?: number };
      // ER_STATEMENT_TIMEOUT (1969): the server ended it.
      expect(slow.errno).toBe(1969);
      // A transaction left open holds a metadata lock the primary's DDL waits for: the server ends it.
      await connection.query('START TRANSACTION');
      await connection.query('SELECT balance FROM accounts');
      const primary = await mysql2Promise.createConnection({ uri: url() });
      await primary.query('SET SESSION lock_wait_timeout = 20');
      await primary.query('ALTER TABLE accounts COMMENT = ?', ['touched']);
      await primary.query("ALTER TABLE accounts COMMENT = ''");
      await primary.end();
      // The server ended the idle mirror connection (that is what let the ALTER through).
      const ended = await errorOf(connection.query('SELECT 1'));
      expect(ended.message).toContain('closed state');
    });
  });

  it('ends a transaction kept busy longer than maxTransactionMs, so the primary gets its metadata lock', async () => {
    const { mysql, sink } = setup({ maxTransactionMs: 500 });
    const connection = await mysql.createConnection({ uri: url() });
    connection.on('error', () => undefined);
    await connection.query('START TRANSACTION');
    await connection.query('SELECT balance FROM accounts');
    // The primary's DDL waits for the mirror's transaction, which keeps reading (never idle).
    const primary = await mysql2Promise.createConnection({ uri: url() });
    await primary.query('SET SESSION lock_wait_timeout = 20');
    const alter = primary.query('ALTER TABLE accounts COMMENT = ?', ['busy']);
    let ended: { code?: string } | undefined;
    while (ended === undefined) {
      ended = await connection.query('SELECT balance FROM accounts').then(
        () => undefined,
        (error: { code?: string }) => error,
      );
    }
    await alter;
    await primary.query("ALTER TABLE accounts COMMENT = ''");
    await primary.end();
    expect(ended.code).toBe('MG_ERR_DB_TRANSACTION_TOO_LONG');
    expect(sink.events().some((event) => event.action === 'blocked' && event.operation === '(transaction)')).toBe(true);
  });

  describe('every path to a connection', () => {
    it('guards connections before pool listeners see them', async () => {
      const { callbackMysql } = setup();
      const pool = callbackMysql.createPool({ uri: url(), connectionLimit: 2 });
      const outcomes: string[] = [];
      const settled = new Promise<void>((resolve) => {
        pool.on('connection', (connection) => {
          connection.query('DELETE FROM accounts', (error) => {
            outcomes.push(`connection: ${(error as { code?: string } | null)?.code ?? 'ran'}`);
          });
        });
        pool.on('acquire', (connection) => {
          connection.query('UPDATE accounts SET balance = 0', (error) => {
            outcomes.push(`acquire: ${(error as { code?: string } | null)?.code ?? 'ran'}`);
            if (outcomes.length >= 2) resolve();
          });
        });
      });
      await new Promise<void>((resolve, reject) => pool.query('SELECT 1', (error) => (error ? reject(error) : resolve())));
      await settled;
      expect(outcomes).toEqual(['connection: ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', 'acquire: ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION']);
      const [[row]] = await admin.query<RowDataPacket[]>(`SELECT SUM(balance) AS total FROM ${DATABASE}.accounts`);
      expect(Number(row!.total)).toBe(300);
      await new Promise<void>((resolve) => pool.end(() => resolve()));
    });

    it('guards what the exported classes construct, and refuses exports it does not know', async () => {
      const { callbackMysql, mysql } = setup();
      const { ConnectionConfig } = callbackMysql as unknown as { ConnectionConfig: new (options: object) => object };
      const connection = new callbackMysql.Connection({ config: new ConnectionConfig({ uri: url() }) } as never);
      const error = await new Promise<{ code?: string } | null>((resolve) => connection.query('DELETE FROM accounts', (failure) => resolve(failure as never)));
      expect(error?.code).toBe('ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION');
      connection.destroy();
      // Every function mysql2 exports is guarded, passed through as harmless, or refused.
      const { PASS_THROUGH_EXPORTS } = await import('../../packages/db-readonly/src/mysql2/guard-mysql2.ts');
      for (const [module, guarded] of [
        [mysql2, callbackMysql],
        [mysql2Promise, mysql],
      ] as const) {
        for (const key of Object.keys(module)) {
          const original = (module as unknown as Record<string, unknown>)[key];
          const replaced = (guarded as unknown as Record<string, unknown>)[key];
          if (typeof original !== 'function') continue;
          expect(replaced === original, key).toBe(PASS_THROUGH_EXPORTS.has(key));
        }
      }
      // A new entry point a later mysql2 might add is refused until it is guarded.
      const future = guardMysql2({ ...mysql2, createSomethingNew: () => 'unguarded' } as typeof mysql2 & { createSomethingNew(): string });
      expect(() => future.createSomethingNew()).toThrow(expect.objectContaining({ code: 'MG_ERR_DB_UNSUPPORTED_DRIVER' }));
      expect(() => (callbackMysql as unknown as { createServer(): unknown }).createServer()).toThrow(expect.objectContaining({ code: 'MG_ERR_DB_UNSUPPORTED_DRIVER' }));
    });
  });
});

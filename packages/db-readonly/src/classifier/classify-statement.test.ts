import { describe, expect, it } from 'vitest';
import { ALLOWED_KINDS, CORPUS } from '../../../../test/db-readonly/sql-corpus.ts';
import { SQLITE_CORPUS } from '../../../../test/db-readonly/sqlite-corpus.ts';
import { classifyStatement } from './classify-statement.ts';

describe('classifyStatement: the corpus', () => {
  it('has at least 80 statements, refused and allowed', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(80);
    expect(CORPUS.filter((entry) => ALLOWED_KINDS.has(entry.kind)).length).toBeGreaterThanOrEqual(40);
    expect(CORPUS.filter((entry) => !ALLOWED_KINDS.has(entry.kind)).length).toBeGreaterThanOrEqual(60);
  });

  it.each(CORPUS.map((entry) => [entry.sql.replace(/\s+/g, ' ').slice(0, 100), entry] as const))('%s', (_label, entry) => {
    for (const dialect of ['mysql', 'mariadb'] as const) {
      const verdict = classifyStatement(entry.sql, { dialect });
      expect(verdict.kind, verdict.reason).toBe(entry.kind);
      expect(verdict.allowed).toBe(ALLOWED_KINDS.has(entry.kind));
      expect(verdict.reason.length).toBeGreaterThan(5);
    }
  });
});

describe('classifyStatement: details', () => {
  it('names the leading keyword and a reason a person can act on', () => {
    expect(classifyStatement('delete from orders')).toEqual({ allowed: false, kind: 'write', keyword: 'DELETE', reason: 'DELETE changes data' });
    expect(classifyStatement('SELECT 1 FOR UPDATE')).toMatchObject({ kind: 'lock', keyword: 'SELECT', reason: expect.stringContaining('FOR UPDATE') });
  });

  it('reads a statement both ways when a literal holds a backslash', () => {
    // With backslash escapes the whole tail is one string; without them, a second statement follows.
    const verdict = classifyStatement("SELECT 'a\\', GET_LOCK(\\'x\\', 0), \\'b'");
    expect(verdict).toMatchObject({ allowed: false, kind: 'lock', reason: expect.stringContaining('NO_BACKSLASH_ESCAPES') });
    expect(classifyStatement("SELECT 'a\\'b'")).toMatchObject({ allowed: false });
    expect(classifyStatement("SELECT 'C:\\\\temp'")).toMatchObject({ allowed: true, kind: 'read' });
  });

  it('reads @"…" as a quoted name under ANSI_QUOTES, where a backslash escapes nothing', () => {
    // Found by the lexer differential test: the server read GET_LOCK here, the classifier a name.
    const sql = 'SELECT @"\\", @@"\\", GET_LOCK(\'x\', 0) AS "#"';
    expect(classifyStatement(sql, { sqlMode: 'ANSI_QUOTES' })).toMatchObject({ allowed: false, kind: 'lock' });
    expect(classifyStatement(sql, { sqlMode: '' })).toMatchObject({ allowed: true });
  });

  it('refuses isolation levels not named outright, and subqueries in SET', () => {
    expect(classifyStatement("SET tx_isolation = 'SERIAL' 'IZABLE'", { sqlMode: '' })).toMatchObject({ kind: 'lock' });
    expect(classifyStatement('SET tx_isolation = DEFAULT', { sqlMode: '' })).toMatchObject({ kind: 'lock' });
    expect(classifyStatement("SET tx_isolation = 'READ-COMMITTED'", { sqlMode: '' })).toMatchObject({ allowed: true });
    expect(classifyStatement('SET @n = (TABLE products LIMIT 1)', { sqlMode: '' })).toMatchObject({ kind: 'lock' });
  });

  it('ends # and -- comments at a line feed only, as the server does', () => {
    expect(classifyStatement('SELECT 1 # comment\rDELETE FROM orders')).toMatchObject({ allowed: true });
    expect(classifyStatement('SELECT 1 # comment\nFOR UPDATE')).toMatchObject({ kind: 'lock' });
    expect(classifyStatement('SELECT 1 --\tcomment\nFOR UPDATE')).toMatchObject({ kind: 'lock' });
  });

  it('treats -- followed by a non-space as operators, not a comment', () => {
    expect(classifyStatement('SELECT 1 --x\n FOR UPDATE')).toMatchObject({ kind: 'lock' });
  });

  it('refuses a statement with text after the terminating semicolon, even a comment-looking one', () => {
    expect(classifyStatement('SELECT 1; -- trailing comment')).toMatchObject({ allowed: true });
    expect(classifyStatement('SELECT 1;;')).toMatchObject({ allowed: true });
    expect(classifyStatement('SELECT 1; SELECT 2')).toMatchObject({ allowed: false, kind: 'escape' });
  });

  it('sees locks, files and sequences at any depth and in any statement', () => {
    expect(classifyStatement('SELECT (SELECT (SELECT GET_LOCK(\'a\', 1)))')).toMatchObject({ kind: 'lock' });
    expect(classifyStatement("UPDATE t SET a = LOAD_FILE('/etc/passwd')")).toMatchObject({ kind: 'escape' });
    expect(classifyStatement('SELECT mydb.NEXTVAL(s)')).toMatchObject({ kind: 'side-effect' });
    expect(classifyStatement('SELECT id, (SELECT uuid_short()) FROM t')).toMatchObject({ allowed: false, kind: 'side-effect' });
    expect(classifyStatement("SELECT SERVICE_GET_WRITE_LOCKS('ns', 'a', 0)")).toMatchObject({ allowed: false, kind: 'lock' });
  });

  it('accepts a session variable only from the allow-list', () => {
    expect(classifyStatement('SET SESSION wait_timeout = 60, LOCAL net_read_timeout = 30')).toMatchObject({ allowed: true, kind: 'session' });
    expect(classifyStatement('SET default_storage_engine = MEMORY')).toMatchObject({ allowed: false, reason: expect.stringContaining('default_storage_engine') });
    expect(classifyStatement('SET @@session . wait_timeout = 1')).toMatchObject({ allowed: false });
  });

  it('keeps read-only only switchable on', () => {
    for (const value of ['1', 'ON', 'true', "'ON'"]) expect(classifyStatement(`SET transaction_read_only = ${value}`).allowed).toBe(true);
    for (const value of ['0', 'OFF', 'false', '2', 'DEFAULT', '1 - 1', '@x']) {
      expect(classifyStatement(`SET transaction_read_only = ${value}`)).toMatchObject({ allowed: false, kind: 'escape' });
    }
  });
});

const sqlite = (sql: string): ReturnType<typeof classifyStatement> => classifyStatement(sql, { dialect: 'sqlite' });

describe('classifyStatement, SQLite dialect: the corpus', () => {
  it('gives every corpus statement its kind (test/db-readonly/sqlite-corpus.test.ts also runs each one on SQLite)', () => {
    const wrong = SQLITE_CORPUS.map((entry) => ({ sql: entry.sql, expected: entry.kind, got: sqlite(entry.sql) })).filter(({ expected, got }) => got.kind !== expected || got.allowed !== ALLOWED_KINDS.has(expected));
    expect(wrong).toEqual([]);
  });
});

describe('classifyStatement, SQLite dialect: lexing as SQLite does', () => {
  it('names the leading keyword and a reason, in the same shape as for MySQL', () => {
    expect(sqlite('delete from items')).toEqual({ allowed: false, kind: 'write', keyword: 'DELETE', reason: 'DELETE changes data' });
    expect(sqlite('select 1')).toEqual({ allowed: true, kind: 'read', keyword: 'SELECT', reason: 'SELECT reads' });
  });

  it('reads no backslash escapes in strings, where MySQL does', () => {
    const sql = "SELECT 'a\\', load_extension('x') -- '";
    expect(classifyStatement(sql, { dialect: 'mysql' })).toMatchObject({ allowed: true }); // MySQL has no load_extension()
    expect(sqlite(sql)).toMatchObject({ allowed: false, kind: 'escape', reason: expect.stringContaining('load_extension') });
    expect(sqlite("SELECT 'C:\\temp\\'")).toMatchObject({ allowed: true, kind: 'read' });
  });

  it('has no # comments, and -- comments need no space', () => {
    expect(classifyStatement('SELECT 1 # DROP TABLE items')).toMatchObject({ allowed: true });
    expect(sqlite('SELECT 1 # DROP TABLE items')).toMatchObject({ allowed: false, kind: 'unknown' });
    expect(sqlite('SELECT 1 --; DELETE FROM items')).toMatchObject({ allowed: true, kind: 'read' });
    expect(sqlite('SELECT 1 --x\n; DELETE FROM items')).toMatchObject({ allowed: false, kind: 'escape' });
  });

  it('keeps semicolons inside quoted names of every kind', () => {
    expect(sqlite('SELECT [x; DELETE FROM items], "y; DROP TABLE items", `z; VACUUM` FROM t')).toMatchObject({ allowed: true, kind: 'read' });
    expect(sqlite('SELECT "a"";DELETE FROM items" FROM t')).toMatchObject({ allowed: true });
    expect(sqlite('SELECT [a]]; DELETE FROM items')).toMatchObject({ allowed: false }); // a bracket has no escape: ] ends it
  });

  it('refuses what SQLite would not tokenize, or would tokenize depending on its build', () => {
    for (const sql of [
      "SELECT 'open",
      'SELECT "open',
      'SELECT [open',
      'SELECT `open',
      'SELECT 1 /* open',
      "SELECT X'0'",
      "SELECT X'zz'",
      'SELECT :',
      'SELECT @ 1',
      'SELECT\u000b1',
      'SELECT\u00011',
      'SELECT 1\u0000; DELETE FROM items',
      'SELECT {1}',
      'SELECT (1; DELETE FROM items)',
      'SELECT (1',
      'SELECT 1)',
      'SELECT $a(DELETE)',
      'SELECT $a::b',
    ]) {
      expect(sqlite(sql), sql).toMatchObject({ allowed: false, kind: 'unknown' });
    }
  });

  it('reads a no-break space as part of a name, as SQLite does', () => {
    expect(sqlite('DELETE\u00a0FROM items')).toMatchObject({ allowed: false, kind: 'unknown' });
    expect(sqlite('SELECT\u00a01')).toMatchObject({ allowed: false, kind: 'unknown' });
  });
});

describe('classifyStatement, SQLite dialect: statements', () => {
  it('keeps the kind of a write fed by a CTE or explained, so simulate can answer it', () => {
    expect(sqlite('WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x')).toMatchObject({ allowed: false, kind: 'write', keyword: 'WITH' });
    expect(sqlite('EXPLAIN QUERY PLAN DELETE FROM t')).toMatchObject({ allowed: false, kind: 'write', keyword: 'EXPLAIN' });
    expect(sqlite('EXPLAIN CREATE TABLE t (x)')).toMatchObject({ allowed: false, kind: 'ddl' });
  });

  it('reads a trigger body as part of its CREATE TRIGGER', () => {
    expect(sqlite('CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; UPDATE c SET x = 1; END;')).toMatchObject({ kind: 'ddl', keyword: 'CREATE' });
    expect(sqlite('CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END; SELECT 1')).toMatchObject({ kind: 'escape' });
  });

  it('allows several statements only when each is allowed', () => {
    expect(sqlite('BEGIN; SELECT 1; COMMIT;')).toMatchObject({ allowed: true });
    expect(sqlite('SELECT 1;;')).toMatchObject({ allowed: true, kind: 'read' });
    expect(sqlite(';')).toMatchObject({ allowed: false, kind: 'unknown' });
    expect(sqlite('')).toMatchObject({ allowed: false, kind: 'unknown' });
    expect(sqlite('SELECT 1; INSERT INTO t VALUES (1)')).toMatchObject({ allowed: false, kind: 'escape', reason: expect.stringContaining('INSERT changes data') });
  });

  it('allows only deferred transactions: BEGIN IMMEDIATE and EXCLUSIVE take the write lock', () => {
    expect(sqlite('BEGIN DEFERRED')).toMatchObject({ allowed: true, kind: 'transaction' });
    expect(sqlite('begin immediate transaction')).toMatchObject({ allowed: false, kind: 'lock' });
    expect(sqlite('BEGIN TRANSACTION; DELETE FROM t')).toMatchObject({ allowed: false });
    expect(sqlite('SAVEPOINT a b')).toMatchObject({ allowed: false, kind: 'unknown' });
  });

  it('allows pragmas that report, and settings only from a short list', () => {
    expect(sqlite('PRAGMA "main"."table_info"("items")')).toMatchObject({ allowed: true, kind: 'read' });
    expect(sqlite('pragma Foreign_Keys')).toMatchObject({ allowed: true, kind: 'read' });
    expect(sqlite('PRAGMA foreign_keys = on')).toMatchObject({ allowed: true, kind: 'session' });
    expect(sqlite('PRAGMA cache_size = -2000')).toMatchObject({ allowed: true, kind: 'session' });
    expect(sqlite('PRAGMA cache_size = 1 + 1')).toMatchObject({ allowed: false, kind: 'unknown' });
    expect(sqlite('PRAGMA foreign_keys = ON, query_only = OFF')).toMatchObject({ allowed: false });
    expect(sqlite('PRAGMA user_version')).toMatchObject({ allowed: true, kind: 'read' });
    expect(sqlite('PRAGMA user_version = 1')).toMatchObject({ allowed: false, kind: 'side-effect' });
    expect(sqlite('PRAGMA user_version(1)')).toMatchObject({ allowed: false, kind: 'side-effect' });
    expect(sqlite('PRAGMA wal_checkpoint')).toMatchObject({ allowed: false, kind: 'side-effect' });
    expect(sqlite('PRAGMA table_info')).toMatchObject({ allowed: false, kind: 'unknown' });
  });

  it('keeps query_only only switchable on', () => {
    for (const value of ['ON', 'on', '1', 'true', 'YES', "'on'"]) expect(sqlite(`PRAGMA query_only = ${value}`), value).toMatchObject({ allowed: true, kind: 'session' });
    for (const value of ['OFF', '0', 'false', 'no', '2', 'banana', '"ON"', '-1', "''"]) {
      expect(sqlite(`PRAGMA query_only = ${value}`), value).toMatchObject({ allowed: false, kind: 'escape' });
    }
  });

  it('sees load_extension() and the shell\'s file functions anywhere', () => {
    expect(sqlite("SELECT * FROM t WHERE x IN (SELECT Load_Extension('a'))")).toMatchObject({ kind: 'escape' });
    expect(sqlite("UPDATE t SET x = [load_extension]('a')")).toMatchObject({ kind: 'escape' });
    expect(sqlite("SELECT writefile('/tmp/x', 'y')")).toMatchObject({ kind: 'escape' });
    expect(sqlite('SELECT load_extension FROM t')).toMatchObject({ allowed: true });
  });

  it('refuses what only MySQL has', () => {
    for (const sql of ['SHOW TABLES', 'SET autocommit = 1', 'USE main', 'TABLE items', 'DESCRIBE items', 'START TRANSACTION', 'CALL p()']) {
      expect(sqlite(sql), sql).toMatchObject({ allowed: false, kind: 'unknown' });
    }
  });
});

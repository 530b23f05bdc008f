import { describe, expect, it } from 'vitest';
import { ALLOWED_KINDS, CORPUS } from '../../../../test/db-readonly/sql-corpus.ts';
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

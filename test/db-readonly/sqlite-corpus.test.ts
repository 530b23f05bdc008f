import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyStatement } from '@mirrorguard/db-readonly';
import { lexSqlite } from '../../packages/db-readonly/src/classifier/lex-sqlite.ts';
import { inFolder, SQLITE_CORPUS, SQLITE_SCHEMA, type SqliteCorpusEntry } from './sqlite-corpus.ts';

// Every corpus statement is real SQLite: each runs on a fresh database with the corpus schema (in
// the state it needs: a transaction, a savepoint, an attached database), and must succeed, or fail
// only where the entry says why. The classifier's verdict is checked on the same text.
const scratch = mkdtempSync(join(tmpdir(), 'mirrorguard-sqlite-corpus-'));
const SETUP: Record<NonNullable<SqliteCorpusEntry['needs']>, string> = {
  transaction: 'BEGIN',
  savepoint: 'BEGIN; SAVEPOINT typeorm_1',
  attached: `ATTACH '${scratch}/attached-for-detach.db' AS other`,
};

function run(entry: SqliteCorpusEntry): void {
  const database = new DatabaseSync(':memory:');
  try {
    database.exec(SQLITE_SCHEMA);
    if (entry.needs !== undefined) database.exec(SETUP[entry.needs]);
    const sql = inFolder(entry.sql, scratch);
    const parameters = lexSqlite(sql).tokens.filter((token) => token.type === 'variable');
    if (parameters.length === 0) {
      database.exec(sql); // every statement of the text, not only the first
      return;
    }
    const statement = database.prepare(sql);
    // Plain ? parameters are bound and the statement runs; other forms are compiled only.
    if (parameters.some((parameter) => parameter.value !== '?')) return;
    const values = parameters.map((_, index): SQLInputValue => `corpus-${index}`);
    if (statement.columns().length > 0) statement.all(...values);
    else statement.run(...values);
  } finally {
    database.close();
  }
}

describe('the SQLite corpus', () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('has reads and refusals of every kind', () => {
    const kinds = new Set(SQLITE_CORPUS.map((entry) => entry.kind));
    expect([...kinds].sort()).toEqual(['ddl', 'escape', 'lock', 'read', 'session', 'side-effect', 'transaction', 'unknown', 'write']);
    expect(SQLITE_CORPUS.length).toBeGreaterThanOrEqual(130);
  });

  it.each(SQLITE_CORPUS.map((entry) => [entry.sql.replace(/\s+/g, ' ').slice(0, 100), entry] as const))('%s', (_label, entry) => {
    const verdict = classifyStatement(entry.sql, { dialect: 'sqlite' });
    expect(verdict.kind, verdict.reason).toBe(entry.kind);
    expect(verdict.allowed).toBe(entry.kind === 'read' || entry.kind === 'transaction' || entry.kind === 'session');
    if (entry.runFails === undefined) expect(() => run(entry)).not.toThrow();
    else expect(() => run(entry)).toThrow(entry.runFails);
  });
});

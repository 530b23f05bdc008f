import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJournal, memorySink, MirrorGuardError, withRequestContext, type JournalEvent } from '@mirrorguard/core';
import { ReadOnlyViolationError } from '../errors/read-only-violation-error.ts';
import { StatementPolicy } from '../policy/statement-policy.ts';
import { resolveGuardOptions } from '../policy/guard-options.ts';
import { guardNodeSqlite } from './guard-node-sqlite.ts';
import { withParameters } from './journal-text.ts';
import { NodeSqliteDatabase } from './node-sqlite-database.ts';
import { recordNodeSqlite } from './record-node-sqlite.ts';

const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-guard-sqlite-'));
const file = join(folder, 'primary.sqlite');
afterAll(() => rmSync(folder, { recursive: true, force: true }));

beforeAll(() => {
  new NodeSqliteDatabase(file)
    .exec(`CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, stock INTEGER);
           INSERT INTO items (name, stock) VALUES ('apple', 3), ('pear', 0);`)
    .close();
});

function guarded(policy: 'reject' | 'simulate') {
  const sink = memorySink();
  const journal = createJournal({ profile: 'mirror', sinks: [sink] });
  const Guarded = guardNodeSqlite({ journal, policy });
  const db = new Guarded(file);
  return { db, events: (): JournalEvent[] => sink.events() };
}

const stockOf = (name: string): unknown => {
  const plain = new NodeSqliteDatabase(file, { readonly: true });
  try {
    return plain.prepare('SELECT stock FROM items WHERE name = ?').get(name)?.stock;
  } finally {
    plain.close();
  }
};

describe('guardNodeSqlite: the connection', () => {
  afterEach(() => vi.restoreAllMocks());

  it('opens read-only with query_only on, whatever the options say', () => {
    const { db } = guarded('reject');
    expect(db.readonly).toBe(true);
    expect(db.pragma('query_only', { simple: true })).toBe(1);
    const Guarded = guardNodeSqlite();
    const other = new Guarded(file, { readonly: false });
    expect(other.readonly).toBe(true);
    other.close();
    db.close();
  });

  it('refuses to hand out a connection whose query_only does not read back as on', () => {
    const prepare = NodeSqliteDatabase.prototype.prepare;
    vi.spyOn(NodeSqliteDatabase.prototype, 'prepare').mockImplementation(function (this: NodeSqliteDatabase, sql: string) {
      return sql === 'PRAGMA query_only' ? ({ get: () => ({ query_only: 0 }) } as never) : prepare.call(this, sql);
    });
    const Guarded = guardNodeSqlite();
    expect(() => new Guarded(file)).toThrow(expect.objectContaining({ code: 'MG_ERR_DB_NOT_READ_ONLY' }));
  });

  it('passes reads, transaction control and harmless settings, through prepare, exec and pragma', () => {
    const { db, events } = guarded('reject');
    expect(db.prepare('SELECT name FROM items ORDER BY id').all()).toEqual([{ name: 'apple' }, { name: 'pear' }]);
    db.exec('BEGIN; SELECT 1; COMMIT');
    db.pragma('foreign_keys = ON');
    expect(db.pragma('table_info(items)')).toHaveLength(3);
    expect(events()).toEqual([]);
    db.close();
  });
});

describe('guardNodeSqlite: reject', () => {
  it('never compiles a refused statement, and fails each execution like the mysql2 guard, journaled with its values', async () => {
    const { db, events } = guarded('reject');
    const verbose = vi.fn();
    const Guarded = guardNodeSqlite({ journal: createJournal({ profile: 'mirror' }) });
    const watched = new Guarded(file, { verbose });
    const statement = watched.prepare('DELETE FROM items WHERE name = ?');
    expect(verbose).not.toHaveBeenCalledWith('DELETE FROM items WHERE name = ?');
    expect(statement).toMatchObject({ reader: false, source: 'DELETE FROM items WHERE name = ?' });
    watched.close();

    const update = db.prepare('UPDATE items SET stock = ? WHERE name = ?');
    let error: unknown;
    await withRequestContext({ requestId: 'req-7', method: 'PUT', path: '/items/apple' }, async () => {
      try {
        update.run(0, "o'apple");
      } catch (caught) {
        error = caught;
      }
    });
    expect(error).toBeInstanceOf(ReadOnlyViolationError);
    expect(error).toMatchObject({
      code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
      errno: 1792,
      sqlState: '25006',
      statementKind: 'write',
      sql: "UPDATE items SET stock = 0 WHERE name = 'o''apple'", // as journaled, values in place (mysql2's error has them too)
    });
    expect(events()).toEqual([
      expect.objectContaining({
        requestId: 'req-7',
        method: 'PUT',
        path: '/items/apple',
        profile: 'mirror',
        dependency: 'db',
        action: 'blocked',
        operation: "UPDATE items SET stock = 0 WHERE name = 'o''apple'",
        reason: 'UPDATE changes data',
      }),
    ]);
    expect(() => db.exec("INSERT INTO items (name) VALUES ('x')")).toThrow(ReadOnlyViolationError);
    expect(() => db.pragma('user_version = 9')).toThrow(ReadOnlyViolationError);
    expect(() => db.prepare('SELECT 1; DELETE FROM items').all()).toThrow(ReadOnlyViolationError);
    expect(events().map((event) => event.action)).toEqual(['blocked', 'blocked', 'blocked', 'blocked']);
    expect(stockOf('apple')).toBe(3);
    db.close();
  });

  it('journals the same event the mysql2 guard journals for the same statement', () => {
    const { db, events } = guarded('reject');
    const sink = memorySink();
    const mysqlPolicy = new StatementPolicy(resolveGuardOptions({ journal: createJournal({ profile: 'mirror', sinks: [sink] }) }));
    mysqlPolicy.decide('DELETE FROM items WHERE id = 1', { canSimulate: true });
    expect(() => db.prepare('DELETE FROM items WHERE id = ?').run(1)).toThrow();
    const strip = ({ seq: _seq, time: _time, ...rest }: JournalEvent) => rest;
    expect(strip(events()[0]!)).toEqual(strip(sink.events()[0]!));
    db.close();
  });
});

describe('guardNodeSqlite: simulate', () => {
  it('answers writes as if they ran: changes, and insert rowids from 2,000,000,000 (one per row)', () => {
    const { db, events } = guarded('simulate');
    const insert = db.prepare('INSERT INTO items (name, stock) VALUES (?, ?)');
    expect(insert.run('kiwi', 1)).toEqual({ changes: 1, lastInsertRowid: 2_000_000_000 });
    expect(insert.run('lime', 1)).toEqual({ changes: 1, lastInsertRowid: 2_000_000_001 });
    // SQLite reports the last row's id; TypeORM counts back from it for a multi-row insert.
    expect(db.prepare("INSERT INTO items (name) VALUES ('a'), ('b'), (?)").run('c')).toEqual({ changes: 3, lastInsertRowid: 2_000_000_004 });
    expect(insert.run('fig', 2)).toEqual({ changes: 1, lastInsertRowid: 2_000_000_005 });
    expect(db.prepare('UPDATE items SET stock = 0').run()).toEqual({ changes: 1, lastInsertRowid: 0 });
    expect(db.prepare('CREATE TABLE extra (x)').run()).toEqual({ changes: 0, lastInsertRowid: 0 });
    const returning = db.prepare("DELETE FROM items WHERE name = 'pear' RETURNING id");
    expect(returning.reader).toBe(true);
    expect(returning.all()).toEqual([]);
    expect(db.exec('DELETE FROM items')).toBe(db);
    expect(events().map((event) => [event.action, event.operation])).toEqual([
      ['simulated', "INSERT INTO items (name, stock) VALUES ('kiwi', 1)"],
      ['simulated', "INSERT INTO items (name, stock) VALUES ('lime', 1)"],
      ['simulated', "INSERT INTO items (name) VALUES ('a'), ('b'), ('c')"],
      ['simulated', "INSERT INTO items (name, stock) VALUES ('fig', 2)"],
      ['simulated', 'UPDATE items SET stock = 0'],
      ['simulated', 'CREATE TABLE extra (x)'],
      ['simulated', "DELETE FROM items WHERE name = 'pear' RETURNING id"],
      ['simulated', 'DELETE FROM items'],
    ]);
    expect(stockOf('apple')).toBe(3);
    expect(stockOf('kiwi')).toBeUndefined();
    db.close();
  });

  it('still refuses escapes, locks and side effects', () => {
    const { db, events } = guarded('simulate');
    for (const sql of ['PRAGMA query_only = OFF', 'BEGIN IMMEDIATE', `VACUUM INTO '${folder}/copy.sqlite'`, "SELECT load_extension('x')", 'ANALYZE']) {
      expect(() => db.prepare(sql).run(), sql).toThrow(ReadOnlyViolationError);
    }
    expect(events().every((event) => event.action === 'blocked')).toBe(true);
    db.close();
  });
});

describe('recordNodeSqlite: the primary', () => {
  it('journals each write with its values as recorded, and changes nothing in behaviour', async () => {
    const sink = memorySink();
    const Recording = recordNodeSqlite({ journal: createJournal({ profile: 'record', sinks: [sink] }) });
    const db = new Recording(file);
    await withRequestContext({ requestId: 'req-1' }, async () => {
      db.pragma('foreign_keys = ON');
      db.exec('BEGIN');
      expect(db.prepare('SELECT stock FROM items WHERE name = ?').get('apple')).toEqual({ stock: 3 });
      expect(db.prepare('UPDATE items SET stock = stock - ? WHERE name = ?').run(1, 'apple')).toEqual({ changes: 1, lastInsertRowid: 0 });
      db.exec("INSERT INTO items (name, stock) VALUES ('melon', 1)");
      db.exec('ROLLBACK');
    });
    expect(sink.events().map((event) => [event.action, event.requestId, event.operation, event.reason])).toEqual([
      ['recorded', 'req-1', "UPDATE items SET stock = stock - 1 WHERE name = 'apple'", 'UPDATE sent to the database'],
      ['recorded', 'req-1', "INSERT INTO items (name, stock) VALUES ('melon', 1)", 'INSERT sent to the database'],
    ]);
    expect(stockOf('apple')).toBe(3); // rolled back
    db.close();
  });
});

describe('withParameters: the journaled text', () => {
  it('puts each value in place as an SQL literal', () => {
    expect(withParameters('SELECT ?, ?, ?, ?, ?, ?', ['it\'s', 12, 3n, null, true, Buffer.from([0xca, 0xfe])])).toBe("SELECT 'it''s', 12, 3, NULL, 1, X'cafe'");
    expect(withParameters('SELECT ?2, ?1, ?', ['a', 'b', 'c'])).toBe("SELECT 'b', 'a', 'c'");
    expect(withParameters('SELECT :a, @b, $c, :a', [{ a: 1, b: 'x', $c: 3 }])).toBe("SELECT 1, 'x', 3, 1");
    expect(withParameters('SELECT ?', [[7]])).toBe('SELECT 7');
  });

  it('leaves placeholders inside literals, names and comments, and those without a value', () => {
    expect(withParameters('SELECT \'?\', "?", [?], `?`, ? -- ?\n, /* ? */ ?', [1, 2])).toBe('SELECT \'?\', "?", [?], `?`, 1 -- ?\n, /* ? */ 2');
    expect(withParameters("SELECT 'it''s ?', ?", [1])).toBe("SELECT 'it''s ?', 1");
    expect(withParameters('SELECT ?, ?', [1])).toBe('SELECT 1, ?');
    expect(withParameters('SELECT a$b, :missing', [{ other: 1 }])).toBe('SELECT a$b, :missing');
    expect(withParameters('SELECT ?', [])).toBe('SELECT ?');
  });
});

describe('errors', () => {
  it('are MirrorGuardErrors', () => {
    const { db } = guarded('reject');
    try {
      db.exec('DROP TABLE items');
    } catch (error) {
      expect(error).toBeInstanceOf(MirrorGuardError);
    }
    db.close();
  });
});

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { DataSource, QueryFailedError, type DataSourceOptions } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJournal, memorySink } from '@mirrorguard/core';
import { classifyStatement, guardNodeSqlite, mirrorDataSourceOptions, NodeSqliteDatabase, ReadOnlyViolationError, type StatementPolicy } from '@mirrorguard/db-readonly';
import { lexSqlite } from '../../packages/db-readonly/src/classifier/lex-sqlite.ts';
import { StatementPolicy as Policy } from '../../packages/db-readonly/src/policy/statement-policy.ts';
import { inFolder, SQLITE_CORPUS, SQLITE_SCHEMA, type SqliteCorpusEntry } from './sqlite-corpus.ts';
import { ItemSchema, PurchaseSchema } from './sqlite-entities.ts';

// A primary's SQLite file, writable on disk and with the primary connected, and a mirror that
// tries every kind of write through the guard: every refused corpus statement raw (prepare + run,
// all, exec, pragma) and through TypeORM (repositories, the query builder, query(), transactions,
// synchronize, dropDatabase), under reject and simulate, in rollback-journal and in WAL mode.
// Independent checks: the sha256 of every file in the folder (no new file either), and a fresh plain
// node:sqlite connection reading every table, the schema and the header's versions.

const sqlite = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite');
const ALLOWED_KINDS = new Set(['read', 'transaction', 'session']);
const REFUSED = SQLITE_CORPUS.filter((entry) => !ALLOWED_KINDS.has(entry.kind));
const ALLOWED = SQLITE_CORPUS.filter((entry) => ALLOWED_KINDS.has(entry.kind) && entry.runFails === undefined);
const SIMULATED_KINDS = new Set(['write', 'ddl']);
const LEAK_DELETE = 'DELETE FROM "items" WHERE "id" = 1';

interface FileState {
  /** Every file of the folder: its sha256 (for -shm, which every WAL reader writes its read marks into, only that it is there). */
  readonly files: Record<string, string>;
  readonly schema: unknown[];
  readonly tables: Record<string, unknown[]>;
  readonly header: Record<string, unknown>;
}

function readState(folder: string, file: string): FileState {
  const files: Record<string, string> = {};
  for (const name of readdirSync(folder).sort()) {
    files[name] = name.endsWith('-shm') ? 'present' : createHash('sha256').update(readFileSync(join(folder, name))).digest('hex');
  }
  const reader = new sqlite.DatabaseSync(file, { readOnly: true });
  try {
    const schema = reader.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();
    const tables: Record<string, unknown[]> = {};
    for (const { name } of schema.filter((row) => row.type === 'table') as Array<{ name: string }>) {
      tables[name] = reader.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`).all();
    }
    const header: Record<string, unknown> = {};
    for (const pragma of ['schema_version', 'user_version', 'application_id', 'page_count', 'freelist_count', 'journal_mode', 'auto_vacuum', 'page_size']) {
      header[pragma] = Object.values(reader.prepare(`PRAGMA ${pragma}`).get()!)[0];
    }
    return { files, schema, tables, header };
  } finally {
    reader.close();
  }
}

/** Values for the statement's parameters: one string per `?`, a named object when it has names. */
function parametersFor(sql: string): unknown[] {
  const variables = lexSqlite(sql).tokens.filter((token) => token.type === 'variable');
  if (variables.every((variable) => variable.value === '?')) return variables.map((_, index) => `leak-${index}`);
  return [Object.fromEntries(variables.filter((variable) => !variable.value.startsWith('?')).map((variable) => [variable.value.slice(1), 'leak']))];
}

const isRefusal = (error: unknown): boolean =>
  error instanceof ReadOnlyViolationError || (error instanceof QueryFailedError && (error as QueryFailedError).driverError instanceof ReadOnlyViolationError);

describe.each(['delete', 'wal'] as const)('SQLite leak test, journal_mode %s', (journalMode) => {
  const folder = mkdtempSync(join(tmpdir(), `mirrorguard-sqlite-leak-${journalMode}-`));
  const file = join(folder, 'primary.sqlite');
  let primary: DatabaseSync;
  let before: FileState;
  const state = (): FileState => readState(folder, file);

  beforeAll(() => {
    primary = new sqlite.DatabaseSync(file);
    if (journalMode === 'wal') primary.exec('PRAGMA journal_mode = WAL');
    primary.exec(SQLITE_SCHEMA);
    before = state();
    expect(Object.keys(before.files)).toEqual(journalMode === 'wal' ? ['primary.sqlite', 'primary.sqlite-shm', 'primary.sqlite-wal'] : ['primary.sqlite']);
    expect(before.header).toMatchObject({ user_version: 7, journal_mode: journalMode });
    expect(before.tables.items).toHaveLength(3);
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => {
    primary.close();
    rmSync(folder, { recursive: true, force: true });
  });

  describe.each(['reject', 'simulate'] as const)('policy %s', (policy: StatementPolicy) => {
    const expectation = (entry: SqliteCorpusEntry): 'refused' | 'simulated' => (policy === 'simulate' && SIMULATED_KINDS.has(entry.kind) ? 'simulated' : 'refused');

    it(`raw: each of the ${REFUSED.length} refused corpus statements, through prepare + run, all, exec and pragma, never reaches SQLite`, () => {
      const sink = memorySink({ limit: 100_000 });
      const Guarded = guardNodeSqlite({ journal: createJournal({ profile: 'mirror', sinks: [sink] }), policy });
      const reached: string[] = [];
      const db = new Guarded(file, { verbose: (sql) => reached.push(sql) });
      const unexpected: string[] = [];
      const expectedActions: string[] = [];
      try {
        for (const entry of REFUSED) {
          const sql = inFolder(entry.sql, folder);
          const parameters = parametersFor(sql);
          const attempts: Array<[string, () => unknown]> = [
            ['prepare+run', () => db.prepare(sql).run(...parameters)],
            ['prepare+all', () => db.prepare(sql).all(...parameters)],
            ['prepare+iterate', () => [...db.prepare(sql).iterate(...parameters)]],
            ['exec', () => db.exec(sql)],
          ];
          if (/^PRAGMA /i.test(sql)) attempts.push(['pragma', () => db.pragma(sql.slice('PRAGMA '.length))]);
          for (const [how, attempt] of attempts) {
            let outcome: string;
            try {
              attempt();
              outcome = 'simulated';
            } catch (error) {
              outcome = error instanceof ReadOnlyViolationError ? 'refused' : `failed: ${(error as Error).message}`;
            }
            if (outcome !== expectation(entry)) unexpected.push(`${how} ${sql}: ${outcome}`);
            expectedActions.push(expectation(entry) === 'simulated' ? 'simulated' : 'blocked');
          }
        }
      } finally {
        db.close();
      }
      expect(unexpected).toEqual([]);
      // Nothing but the guard's own set-up was compiled or executed by SQLite.
      expect(reached).toEqual(['PRAGMA query_only = ON', 'PRAGMA query_only']);
      // Every attempt journaled once, as the policy says.
      expect(sink.events().map((event) => event.action)).toEqual(expectedActions);
      expect(state()).toEqual(before);
    });

    it(`raw: the ${ALLOWED.length} allowed corpus statements run through the guard`, () => {
      const Guarded = guardNodeSqlite({ journal: createJournal({ profile: 'mirror' }), policy });
      const db = new Guarded(file);
      const failures: string[] = [];
      try {
        for (const entry of ALLOWED) {
          const sql = inFolder(entry.sql, folder);
          try {
            if (entry.needs === 'transaction') db.exec('BEGIN');
            if (entry.needs === 'savepoint') db.exec('BEGIN; SAVEPOINT typeorm_1');
            const parameters = parametersFor(sql);
            const statement = db.prepare(sql);
            if (parameters.length === 0 || typeof parameters[0] === 'string') {
              if (statement.reader) statement.all(...parameters);
              else statement.run(...parameters);
            }
          } catch (error) {
            failures.push(`${sql}: ${(error as Error).message}`);
          } finally {
            if (db.inTransaction) db.exec('ROLLBACK');
          }
        }
      } finally {
        db.close();
      }
      expect(failures).toEqual([]);
      expect(state()).toEqual(before);
    });

    it('TypeORM: repositories, the query builder, query(), transactions, synchronize and dropDatabase', async () => {
      const sink = memorySink({ limit: 100_000 });
      const journal = createJournal({ profile: 'mirror', sinks: [sink] });
      const reached: string[] = [];
      const options = { type: 'better-sqlite3', database: file, entities: [ItemSchema, PurchaseSchema], synchronize: true, enableWAL: true, logging: false, verbose: (sql: string) => reached.push(sql) };
      const dataSource = await new DataSource(mirrorDataSourceOptions(options as DataSourceOptions, { journal, guard: { policy } })).initialize();
      const items = dataSource.getRepository(ItemSchema);
      const purchases = dataSource.getRepository(PurchaseSchema);
      const apple = await items.findOneByOrFail({ name: 'apple' });
      const fresh = (name: string) => ({ name, price: 1, stock: 1, active: true, picture: Buffer.from(name) });
      const writes: Array<[string, () => Promise<unknown>]> = [
        ['save (insert)', () => items.save(fresh('kiwi'))],
        ['save (update)', () => items.save({ ...apple, stock: 0 })],
        ['save many', () => items.save([fresh('fig'), fresh('lime')])],
        ['insert', () => items.insert(fresh('melon'))],
        ['insert many', () => items.insert([fresh('date'), fresh('grape')])],
        ['update', () => items.update({ id: apple.id }, { price: 0 })],
        ['increment', () => items.increment({ id: apple.id }, 'stock', 5)],
        ['decrement', () => items.decrement({ name: 'plum' }, 'stock', 1)],
        ['upsert', () => items.upsert({ ...fresh('apple'), price: 99 }, ['name'])],
        ['delete', () => items.delete({ name: 'pear' })],
        ['remove', () => items.remove({ ...apple })],
        ['clear', () => purchases.clear()],
        ['save with a relation', () => purchases.save({ quantity: 3, item: apple })],
        ['query builder update', () => items.createQueryBuilder().update().set({ stock: 0 }).where('1 = 1').execute()],
        ['query builder delete', () => items.createQueryBuilder().delete().where('"stock" >= 0').execute()],
        ['query builder insert', () => items.createQueryBuilder().insert().values(fresh('cherry')).execute()],
        [
          'transaction',
          () =>
            dataSource.transaction(async (manager) => {
              await manager.getRepository(ItemSchema).save(fresh('nectarine'));
              await manager.getRepository(ItemSchema).increment({ id: apple.id }, 'stock', 1);
              await manager.transaction((inner) => inner.getRepository(PurchaseSchema).delete({ quantity: 2 }));
            }),
        ],
        [
          'query runner transaction',
          async () => {
            const runner = dataSource.createQueryRunner();
            await runner.startTransaction();
            try {
              await runner.query('UPDATE items SET stock = stock * 2');
              await runner.commitTransaction();
            } catch (error) {
              await runner.rollbackTransaction();
              throw error;
            } finally {
              await runner.release();
            }
          },
        ],
      ];
      const schemaChanges: Array<[string, () => Promise<unknown>]> = [
        ['synchronize', () => dataSource.synchronize()],
        ['dropDatabase', () => dataSource.dropDatabase()],
      ];
      const unexpected: string[] = [];
      const outcome = async (work: () => Promise<unknown>): Promise<string> =>
        work().then(
          () => 'simulated',
          (error: unknown) => (isRefusal(error) ? 'refused' : `failed: ${(error as Error).message}`),
        );
      try {
        for (const [name, work] of writes) {
          const got = await outcome(work);
          if (got !== (policy === 'simulate' ? 'simulated' : 'refused')) unexpected.push(`${name}: ${got}`);
        }
        for (const [name, work] of schemaChanges) {
          // Both send DDL only: refused under reject; under simulate each statement is answered locally.
          const got = await outcome(work);
          if (got !== (policy === 'simulate' ? 'simulated' : 'refused')) unexpected.push(`${name}: ${got}`);
        }
        for (const entry of REFUSED) {
          const sql = inFolder(entry.sql, folder);
          const parameters = parametersFor(sql);
          const got = await outcome(() => dataSource.query(sql, Array.isArray(parameters[0]) || typeof parameters[0] !== 'object' ? parameters : Object.values(parameters[0] as object)));
          if (got !== expectation(entry)) unexpected.push(`query ${sql}: ${got}`);
        }
        // Reads still work, and see the primary's data, not the simulated writes.
        expect((await items.find({ order: { id: 'ASC' } })).map((item) => [item.name, item.stock])).toEqual([
          ['apple', 10],
          ['pear', 0],
          ['plum', 3],
        ]);
      } finally {
        await dataSource.destroy();
      }
      expect(unexpected).toEqual([]);
      // What reached SQLite was only what the classifier allows.
      expect(reached.filter((sql) => !classifyStatement(sql, { dialect: 'sqlite' }).allowed)).toEqual([]);
      // Every write journaled: at least one event per refused statement sent through query() and per repository write.
      expect(sink.events().filter((event) => event.action === 'simulated' || event.action === 'blocked').length).toBeGreaterThan(REFUSED.length + writes.length);
      if (policy === 'reject') expect(sink.events().some((event) => event.action === 'simulated')).toBe(false);
      expect(state()).toEqual(before);
    });
  });

  describe('defence in depth: SQLite refuses what a (mutated) classifier lets through', () => {
    const letThrough = (...statements: string[]): void => {
      const classify = Policy.prototype.classify;
      vi.spyOn(Policy.prototype, 'classify').mockImplementation(function (this: Policy, sql: string, cacheable: boolean) {
        return statements.includes(sql) ? { allowed: true, kind: 'read', keyword: 'DELETE', reason: 'let through by the test' } : classify.call(this, sql, cacheable);
      });
    };

    it('the statement is a real write: on a writable copy it deletes a row', () => {
      const elsewhere = mkdtempSync(join(tmpdir(), 'mirrorguard-sqlite-copy-'));
      const copy = join(elsewhere, 'copy.sqlite');
      primary.exec(`VACUUM INTO '${copy}'`); // a copy with the WAL's content, the primary's file untouched
      const writable = new NodeSqliteDatabase(copy);
      expect(writable.prepare(LEAK_DELETE).run()).toMatchObject({ changes: 1 });
      writable.close();
      rmSync(elsewhere, { recursive: true, force: true });
      expect(state()).toEqual(before);
    });

    it('the guard with read-only open and query_only: SQLite refuses it', () => {
      letThrough(LEAK_DELETE);
      const Guarded = guardNodeSqlite({ journal: createJournal({ profile: 'mirror' }) });
      const db = new Guarded(file);
      try {
        expect(() => db.prepare(LEAK_DELETE).run()).toThrow(expect.objectContaining({ code: 'ERR_SQLITE_ERROR', errcode: 8, message: expect.stringMatching(/readonly database/) }));
      } finally {
        db.close();
      }
      expect(state()).toEqual(before);
    });

    it('PRAGMA query_only alone (the file opened read-write) refuses it', () => {
      letThrough(LEAK_DELETE);
      const DatabaseSync = sqlite.DatabaseSync;
      const opened: unknown[] = [];
      sqlite.DatabaseSync = class ReadWrite extends DatabaseSync {
        constructor(path: string, options: ConstructorParameters<typeof DatabaseSync>[1] = {}) {
          super(path, { ...options, readOnly: false });
          opened.push(options.readOnly);
        }
      };
      try {
        const Guarded = guardNodeSqlite({ journal: createJournal({ profile: 'mirror' }) });
        const db = new Guarded(file);
        try {
          expect(opened).toEqual([true]); // the guard asked for read-only; the test took it away
          expect(() => db.prepare(LEAK_DELETE).run()).toThrow(expect.objectContaining({ errcode: 8, message: expect.stringMatching(/readonly database/) }));
        } finally {
          db.close();
        }
      } finally {
        sqlite.DatabaseSync = DatabaseSync;
      }
      expect(state()).toEqual(before);
    });

    it('opening read-only alone refuses it too', () => {
      const readOnly = new NodeSqliteDatabase(file, { readonly: true });
      expect(() => readOnly.prepare(LEAK_DELETE).run()).toThrow(/readonly database/);
      readOnly.close();
      expect(state()).toEqual(before);
    });

    it('but neither stops VACUUM INTO from creating its target file: the classifier is the layer that does', () => {
      const target = join(folder, 'vacuum-copy.sqlite');
      const vacuum = `VACUUM INTO '${target}'`;
      letThrough(vacuum);
      const Guarded = guardNodeSqlite({ journal: createJournal({ profile: 'mirror' }) });
      const db = new Guarded(file);
      try {
        expect(() => db.exec(vacuum)).toThrow(/readonly database/);
      } finally {
        db.close();
      }
      expect(existsSync(target)).toBe(true); // empty, but there
      rmSync(target);
      vi.restoreAllMocks();
      const guarded = new (guardNodeSqlite({ journal: createJournal({ profile: 'mirror' }) }))(file);
      expect(() => guarded.exec(vacuum)).toThrow(ReadOnlyViolationError);
      guarded.close();
      expect(existsSync(target)).toBe(false);
      expect(state()).toEqual(before);
    });
  });

  it('left the file as it was: same bytes, same tables, same schema and header', () => {
    expect(state()).toEqual(before);
  });
});

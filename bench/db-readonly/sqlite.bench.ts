// The SQLite side of db-readonly: the classifier's SQLite dialect against node-sql-parser, and
// primary-key reads through raw node:sqlite, the plain adapter, the guarded adapter and TypeORM on
// each. Runs on its own: `npm run build -w @mirrorguard/db-readonly && node --expose-gc bench/db-readonly/sqlite.bench.ts`
// (BENCH_QUICK=1 for a smoke run); `sqliteBench()` is exported for bench/index.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DataSource, EntitySchema } from 'typeorm';
import { createJournal } from '@mirrorguard/core';
import { guardNodeSqlite, NodeSqliteDatabase } from '@mirrorguard/db-readonly';
import { SQLITE_READS, SQLITE_SESSION, SQLITE_TRANSACTIONS, SQLITE_WRITES } from '../../test/db-readonly/sqlite-corpus.ts';
import { median } from '../support/load.ts';
import { compareWithParser, type ClassifierResult } from './classifier.bench.ts';
import { printTable } from '../support/table.ts';

export interface SqliteBenchResult {
  readonly classifier: ClassifierResult;
  /** Primary-key SELECTs per second, by driver. */
  readonly selectsPerSecond: Readonly<Record<'rawNodeSqlite' | 'plainAdapter' | 'guardedAdapter' | 'typeormPlain' | 'typeormGuarded', number>>;
}

// What an ORM-backed service sends, reads first; the text as the guard sees it (placeholders, not values).
const MIX = [...SQLITE_READS, ...SQLITE_READS, ...SQLITE_READS, ...SQLITE_TRANSACTIONS, ...SQLITE_SESSION, ...SQLITE_WRITES].map((entry) => entry.sql);
const collect = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);

const ROWS = 1_000;
const SELECT_BY_ID = 'SELECT id, name, price, stock FROM products WHERE id = ?';
const Product = new EntitySchema<{ id: number; name: string; price: number; stock: number }>({
  name: 'Product',
  tableName: 'products',
  columns: { id: { type: 'integer', primary: true }, name: { type: 'text' }, price: { type: 'real' }, stock: { type: 'integer' } },
});

/** Selects per second of `select(n)` over `count` calls (synchronous or not), best of three. */
async function perSecond(select: (n: number) => unknown, count: number): Promise<number> {
  const rates: number[] = [];
  for (let attempt = 0; attempt < 3; attempt += 1) {
    collect();
    const start = process.hrtime.bigint();
    for (let n = 0; n < count; n += 1) {
      const result = select((n % ROWS) + 1);
      if (result instanceof Promise) await result; // the synchronous drivers are not made to wait a microtask
    }
    rates.push(count / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  return Math.max(...rates);
}

async function selectRounds(rounds: number, count: number): Promise<SqliteBenchResult['selectsPerSecond']> {
  const folder = mkdtempSync(join(tmpdir(), 'mirrorguard-sqlite-bench-'));
  const file = join(folder, 'bench.sqlite');
  const setup = new DatabaseSync(file);
  setup.exec('CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL, stock INTEGER NOT NULL)');
  const insert = setup.prepare('INSERT INTO products VALUES (?, ?, ?, ?)');
  setup.exec('BEGIN');
  for (let i = 1; i <= ROWS; i += 1) insert.run(i, `product ${i}`, (i % 100) + 0.99, i % 50);
  setup.exec('COMMIT');
  setup.close();

  const Guarded = guardNodeSqlite({ journal: createJournal({ profile: 'mirror' }) });
  const raw = new DatabaseSync(file, { readOnly: true });
  const plain = new NodeSqliteDatabase(file, { readonly: true });
  const guarded = new Guarded(file);
  const rawStatement = raw.prepare(SELECT_BY_ID);
  const plainStatement = plain.prepare(SELECT_BY_ID);
  const guardedStatement = guarded.prepare(SELECT_BY_ID);
  const orm = (driver: unknown): Promise<DataSource> => new DataSource({ type: 'better-sqlite3', database: file, driver, entities: [Product], logging: false }).initialize();
  const typeormPlain = await orm(NodeSqliteDatabase);
  const typeormGuarded = await orm(Guarded);
  const sides = {
    rawNodeSqlite: (n: number) => rawStatement.get(n),
    plainAdapter: (n: number) => plainStatement.get(n),
    guardedAdapter: (n: number) => guardedStatement.get(n),
    typeormPlain: (n: number) => typeormPlain.getRepository(Product).findOneBy({ id: n }),
    typeormGuarded: (n: number) => typeormGuarded.getRepository(Product).findOneBy({ id: n }),
  };
  const samples = Object.fromEntries(Object.keys(sides).map((name) => [name, [] as number[]])) as Record<keyof typeof sides, number[]>;
  try {
    for (const select of Object.values(sides)) await perSecond(select, Math.ceil(count / 10)); // warm-up
    for (let round = 0; round < rounds; round += 1) {
      // Alternate the order so neither side always runs on a warmer process.
      const order = round % 2 === 0 ? Object.keys(sides) : Object.keys(sides).reverse();
      for (const name of order as Array<keyof typeof sides>) {
        const isOrm = name.startsWith('typeorm');
        samples[name].push(await perSecond(sides[name], isOrm ? Math.ceil(count / 10) : count));
      }
    }
  } finally {
    await typeormPlain.destroy();
    await typeormGuarded.destroy();
    raw.close();
    plain.close();
    guarded.close();
    rmSync(folder, { recursive: true, force: true });
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)])) as SqliteBenchResult['selectsPerSecond'];
}

export async function sqliteBench({ rounds = 5, selects = 200_000 } = {}): Promise<SqliteBenchResult> {
  const classifier = compareWithParser({ mix: MIX, dialect: 'sqlite', parserDatabase: 'Sqlite', describe: 'TypeORM reads, transactions, settings, writes', rounds });
  const selectsPerSecond = await selectRounds(rounds, selects);
  const row = (name: string, value: number, baseline: number): string[] => [name, value.toFixed(0), `${(value / baseline).toFixed(3)}×`];
  printTable(
    `Primary-key SELECT on a ${ROWS}-row SQLite file, one connection, median of ${rounds} rounds (each the best of three)`,
    ['driver', 'selects / s', 'ratio'],
    [
      row('node:sqlite StatementSync.get (baseline)', selectsPerSecond.rawNodeSqlite, selectsPerSecond.rawNodeSqlite),
      row('NodeSqliteDatabase (live)', selectsPerSecond.plainAdapter, selectsPerSecond.rawNodeSqlite),
      row('guardNodeSqlite (mirror)', selectsPerSecond.guardedAdapter, selectsPerSecond.rawNodeSqlite),
      row('TypeORM findOneBy on NodeSqliteDatabase (baseline)', selectsPerSecond.typeormPlain, selectsPerSecond.typeormPlain),
      row('TypeORM findOneBy on guardNodeSqlite', selectsPerSecond.typeormGuarded, selectsPerSecond.typeormPlain),
    ],
  );
  return { classifier, selectsPerSecond };
}

if (import.meta.main) {
  const quick = process.env.BENCH_QUICK === '1';
  await sqliteBench(quick ? { rounds: 1, selects: 20_000 } : {});
}

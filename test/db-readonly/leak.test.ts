import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, MysqlDialect, sql, type Generated } from 'kysely';
import mysql2 from 'mysql2';
import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournal, memorySink } from '@mirrorguard/core';
import { classifyStatement, guardMysql2, mirrorDataSourceOptions, type StatementPolicy } from '@mirrorguard/db-readonly';
import { startMariadbServer, type ThrowawayMariadb } from '../support/mariadb-server.ts';
import { adminConnection, createPrivateLeakSchema, LEAK_DATABASE, leakUrl } from './leak-schema.ts';
import { ALLOWED_KINDS, CORPUS, LEAK_LOCK, OUTFILE_PATH } from './sql-corpus.ts';
import { OrderSchema, ProductSchema } from './typeorm-entities.ts';

// The leak clients log in as an account that CAN write — the data, files under secure_file_priv
// (FILE) and global variables (SUPER) — so that nothing but the guard stands between them and any of
// it; the general query log, filtered to that account, shows what reached the server. Creating that
// account and turning the general log on change the whole server: the test has a MariaDB of its own
// (startMariadbServer), where nothing else runs, so its binary log and global variables are the
// test's alone too.
const WRITER = { name: 'mg_leak_writer', password: 'leak-writer-pw' };
const REFUSED = CORPUS.filter((entry) => !ALLOWED_KINDS.has(entry.kind) && !entry.readInDefaultMode);
const ALLOWED = CORPUS.filter((entry) => ALLOWED_KINDS.has(entry.kind) && !entry.serverRejects);
const LOCK_NAMES = [LEAK_LOCK, 'x'];
const placeholders = (statement: string): number[] => Array.from({ length: statement.split('?').length - 1 }, () => 1);
/** A file the corpus' LOAD DATA INFILE would load, were it sent: a row no table has. */
const INFILE = 'leak-infile.tsv';
const INFILE_ROW = '99\tloaded\t1.00\t1\n';

interface ServerState {
  checksums: unknown;
  sequence: unknown;
  schema: unknown;
  databases: unknown;
  users: unknown;
  globals: Record<string, string>;
  binlog: unknown;
}

async function readState(admin: Connection): Promise<ServerState> {
  const rows = async (query: string): Promise<RowDataPacket[]> => (await admin.query<RowDataPacket[]>(query))[0];
  const tables = await rows(`SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${LEAK_DATABASE}' ORDER BY TABLE_NAME`);
  const definitions = [];
  for (const { name, type } of tables) {
    const kind = type === 'VIEW' ? 'VIEW' : type === 'SEQUENCE' ? 'SEQUENCE' : 'TABLE';
    definitions.push(await rows(`SHOW CREATE ${kind} \`${name}\``));
  }
  const globals = Object.fromEntries((await rows('SHOW GLOBAL VARIABLES')).map((row) => [row.Variable_name as string, String(row.Value)]));
  for (const volatile of ['gtid_binlog_pos', 'gtid_binlog_state', 'gtid_current_pos', 'gtid_slave_pos']) delete globals[volatile];
  return {
    checksums: await rows(`CHECKSUM TABLE ${tables.filter((t) => t.type === 'BASE TABLE').map((t) => `\`${t.name}\``).join(', ')}`),
    sequence: await rows('SELECT * FROM order_numbers'),
    schema: {
      tables,
      definitions,
      columns: await rows(`SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${LEAK_DATABASE}' ORDER BY TABLE_NAME, ORDINAL_POSITION`),
      indexes: await rows(`SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '${LEAK_DATABASE}' ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`),
      routines: await rows(`SELECT ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${LEAK_DATABASE}' ORDER BY ROUTINE_NAME`),
      triggers: await rows(`SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${LEAK_DATABASE}'`),
    },
    databases: await rows('SHOW DATABASES'),
    users: await rows('SELECT user, host FROM mysql.user ORDER BY user, host'),
    globals,
    // The binary log's file and position: any write that reached the server and changed something moves it.
    binlog: await rows('SHOW MASTER STATUS'),
  };
}

describe('leak test: every refused statement, through mysql2, TypeORM and Kysely, against real MariaDB', () => {
  let server: ThrowawayMariadb;
  let admin: Connection;
  let before: ServerState;
  const journalSink = memorySink({ limit: 100_000 });
  const journal = createJournal({ profile: 'mirror', sinks: [journalSink] });
  const guarded = (policy: StatementPolicy) => ({
    callback: guardMysql2(mysql2, { journal, policy, dialect: 'mariadb' }),
    promise: guardMysql2(mysql2Promise, { journal, policy, dialect: 'mariadb' }),
  });
  let writerUrl: string;
  /**
   * A corpus statement as sent here: its file paths inside the server's secure_file_priv, where the
   * server itself would write (INTO OUTFILE, DUMPFILE) or read (LOAD DATA INFILE) them, so that only
   * the guard stands in the way there too.
   */
  let local: (statement: string) => string;
  /** Statements that were not refused the way the policy says, by client. */
  const unexpected: string[] = [];
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    server = await startMariadbServer();
    writerUrl = leakUrl(WRITER, server.url);
    writeFileSync(join(server.filesDir, INFILE), INFILE_ROW);
    local = (statement) => statement.replaceAll(OUTFILE_PATH, join(server.filesDir, 'leak-outfile.csv')).replaceAll("INFILE '/etc/hostname'", `INFILE '${join(server.filesDir, INFILE)}'`);
    await createPrivateLeakSchema(server);
    admin = await adminConnection(server.url);
    await admin.query(`
      CREATE USER '${WRITER.name}'@'127.0.0.1' IDENTIFIED BY '${WRITER.password}';
      CREATE USER '${WRITER.name}'@'localhost' IDENTIFIED BY '${WRITER.password}';
      GRANT ALL PRIVILEGES ON ${LEAK_DATABASE}.* TO '${WRITER.name}'@'127.0.0.1';
      GRANT ALL PRIVILEGES ON ${LEAK_DATABASE}.* TO '${WRITER.name}'@'localhost';
      GRANT FILE, SUPER ON *.* TO '${WRITER.name}'@'127.0.0.1', '${WRITER.name}'@'localhost';
      SET GLOBAL log_output = 'TABLE';
      SET GLOBAL general_log = 1;
      TRUNCATE TABLE mysql.general_log;
    `);
    before = await readState(admin);
  });

  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined);
    await admin?.end();
    await server?.kill();
  });

  const expectRefused = async (client: string, statement: string, run: () => Promise<unknown>, policy: StatementPolicy, kind: string): Promise<void> => {
    const simulated = policy === 'simulate' && (kind === 'write' || kind === 'ddl');
    try {
      await run();
      if (!simulated) unexpected.push(`${client}: ran ${statement}`);
    } catch (error) {
      const { errno, code } = error as { errno?: number; code?: string };
      // A simulated write may still fail in the ORM layer afterwards; what matters is it never ran.
      if (!simulated && (errno !== 1792 || code !== 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION')) {
        unexpected.push(`${client}: ${statement} failed with ${code ?? (error as Error).message}`);
      }
    }
  };

  describe.each(['reject', 'simulate'] as const)('%s policy', (policy) => {
    it(`raw mysql2: query, execute and prepare, callback and promise, pools and a pool cluster (${REFUSED.length} statements each)`, async () => {
      const { callback, promise } = guarded(policy);
      const pool = promise.createPool({ uri: writerUrl, connectionLimit: 3 });
      const connection = callback.createConnection({ uri: writerUrl });
      const cluster = promise.createPoolCluster();
      cluster.add('NODE', { uri: writerUrl, connectionLimit: 2 });
      closers.push(() => pool.end(), () => new Promise((resolve) => connection.end(resolve)), () => cluster.end());
      for (const { sql: template, kind } of REFUSED) {
        const statement = local(template);
        const values = placeholders(statement);
        await expectRefused('promise query', statement, () => pool.query(statement, values), policy, kind);
        await expectRefused('promise cluster', statement, async () => {
          const clustered = await cluster.getConnection('NODE');
          try {
            return await clustered.query(statement, values);
          } finally {
            clustered.release();
          }
        }, policy, kind);
        await expectRefused('promise execute', statement, () => pool.execute(statement, values), policy, kind);
        await expectRefused('callback query', statement, () => new Promise((resolve, reject) => connection.query(statement, values, (error, rows) => (error ? reject(error) : resolve(rows)))), policy, kind);
        // A prepared statement is refused under every policy: its executions could not be simulated.
        await expectRefused('callback prepare', statement, () => new Promise((resolve, reject) => connection.prepare(statement, (error, prepared) => (error ? reject(error) : resolve(prepared)))), 'reject', kind);
      }
    });

    it('TypeORM: raw queries and every repository write', async () => {
      const dataSource = await new DataSource(
        mirrorDataSourceOptions(
          { type: 'mariadb', url: writerUrl, entities: [ProductSchema, OrderSchema] },
          { mysql2, journal, guard: { policy } },
        ),
      ).initialize();
      closers.push(() => dataSource.destroy());
      for (const { sql: template, kind } of REFUSED) {
        const statement = local(template);
        await expectRefused('TypeORM query', statement, () => dataSource.query(statement, placeholders(statement)), policy, kind);
      }
      const products = dataSource.getRepository(ProductSchema);
      const writes: Array<[string, () => Promise<unknown>, string]> = [
        ['save insert', () => products.save({ name: 'sofa', price: '1.00', stock: 1 }), 'write'],
        ['save update', () => products.save({ id: 1, name: 'lamp', price: '0.01', stock: 0 }), 'write'],
        ['insert', () => products.insert({ name: 'bed', price: '2.00', stock: 1 }), 'write'],
        ['update', () => products.update({ id: 2 }, { stock: 0 }), 'write'],
        ['delete', () => dataSource.getRepository(OrderSchema).delete({ id: 1 }), 'write'],
        ['increment', () => products.increment({ id: 1 }, 'stock', 1), 'write'],
        ['decrement', () => products.decrement({ id: 1 }, 'stock', 1), 'write'],
        ['upsert', () => products.upsert({ name: 'lamp', price: '3.00', stock: 3 }, ['name']), 'write'],
        ['clear', () => dataSource.getRepository(OrderSchema).clear(), 'ddl'],
        ['pessimistic_write', () => dataSource.transaction((manager) => manager.findOne(ProductSchema, { where: { id: 1 }, lock: { mode: 'pessimistic_write' } })), 'lock'],
        ['pessimistic_read', () => dataSource.transaction((manager) => manager.findOne(ProductSchema, { where: { id: 1 }, lock: { mode: 'pessimistic_read' } })), 'lock'],
      ];
      for (const [name, run, kind] of writes) await expectRefused(`TypeORM ${name}`, name, run, policy, kind);
    });

    it('Kysely: raw SQL and the query builder', async () => {
      const { callback } = guarded(policy);
      // Kysely's types want a mysql2 pool; the guarded one is one.
      const db = new Kysely<{ products: { id: Generated<number>; name: string; price: string; stock: number }; orders: { id: Generated<number> } }>({
        dialect: new MysqlDialect({ pool: callback.createPool({ uri: writerUrl, connectionLimit: 2 }) as never }),
      });
      closers.push(() => db.destroy());
      for (const { sql: template, kind } of REFUSED) {
        const statement = local(template);
        await expectRefused('Kysely raw', statement, () => sql.raw(statement).execute(db), policy, kind);
      }
      const writes: Array<[string, () => Promise<unknown>, string]> = [
        ['insertInto', () => db.insertInto('products').values({ name: 'kysely', price: '1.00', stock: 1 }).execute(), 'write'],
        ['updateTable', () => db.updateTable('products').set({ stock: 0 }).where('id', '=', 1).execute(), 'write'],
        ['deleteFrom', () => db.deleteFrom('orders').where('id', '=', 2).execute(), 'write'],
        ['forUpdate', () => db.selectFrom('products').selectAll().forUpdate().execute(), 'lock'],
        ['transaction', () => db.transaction().execute((trx) => trx.deleteFrom('orders').execute()), 'write'],
      ];
      for (const [name, run, kind] of writes) await expectRefused(`Kysely ${name}`, name, run, policy, kind);
      // Reads still work through the same guarded pool.
      expect(await db.selectFrom('products').select('name').orderBy('id').execute()).toEqual([{ name: 'lamp' }, { name: 'desk' }, { name: 'chair' }]);
    });
  });

  it('every refusal was as the policy says', () => {
    expect(unexpected).toEqual([]);
    expect(journalSink.events().filter((event) => event.action === 'blocked').length).toBeGreaterThan(REFUSED.length * 7);
    expect(journalSink.events().filter((event) => event.action === 'simulated').length).toBeGreaterThan(0);
  });

  it(`every allowed statement of the corpus runs (${ALLOWED.length})`, async () => {
    const { promise } = guarded('reject');
    const connection = await promise.createConnection({ uri: writerUrl });
    closers.push(() => connection.end());
    const failed: string[] = [];
    for (const { sql: statement } of ALLOWED) {
      await connection.query(statement, placeholders(statement)).catch((error: Error) => failed.push(`${statement}: ${error.message}`));
    }
    await connection.query('ROLLBACK');
    expect(failed).toEqual([]);
  });

  it('a stored function that writes passes the classifier, and the read-only session stops it', async () => {
    expect(classifyStatement('SELECT sneaky_write()').allowed).toBe(true);
    const { promise } = guarded('reject');
    const connection = await promise.createConnection({ uri: writerUrl });
    closers.push(() => connection.end());
    const error = await connection.query('SELECT sneaky_write()').then(() => undefined, (caught: unknown) => caught);
    // errno 1792 from the server itself: not the guard's error class.
    expect(error).toMatchObject({ errno: 1792 });
    expect((error as Error).constructor.name).not.toBe('ReadOnlyViolationError');
  });

  describe('independent checks on the server', () => {
    let after: ServerState;
    beforeAll(async () => {
      after = await readState(admin);
    });

    it('the data of every table and the sequence are unchanged (CHECKSUM TABLE)', () => {
      expect(after.checksums).toEqual(before.checksums);
      expect(after.sequence).toEqual(before.sequence);
    });

    it('the schema is unchanged (information_schema, SHOW CREATE), and no database or user was added or dropped', () => {
      expect(after.schema).toEqual(before.schema);
      expect(after.databases).toEqual(before.databases);
      expect(after.users).toEqual(before.users);
    });

    it('no named lock is held (IS_USED_LOCK)', async () => {
      for (const name of LOCK_NAMES) {
        const [[row]] = await admin.query<RowDataPacket[]>('SELECT IS_USED_LOCK(?) AS holder', [name]);
        expect(row?.holder, name).toBeNull();
      }
    });

    it('no file was written (secure_file_priv holds only the file put there to load)', () => {
      expect(readdirSync(server.filesDir)).toEqual([INFILE]);
      expect(readFileSync(join(server.filesDir, INFILE), 'utf8')).toBe(INFILE_ROW);
    });

    it('global variables are unchanged', () => {
      expect(after.globals).toEqual(before.globals);
    });

    it('the binary log did not move (SHOW MASTER STATUS)', () => {
      expect(after.binlog).toEqual(before.binlog);
    });

    it('the general query log shows only allowed statements from the guarded clients', async () => {
      const [logged] = await admin.query<RowDataPacket[]>(
        "SELECT command_type, CONVERT(argument USING utf8mb4) AS argument FROM mysql.general_log WHERE user_host LIKE ? AND command_type IN ('Query', 'Prepare', 'Execute')",
        [`${WRITER.name}[%`],
      );
      expect(logged.length).toBeGreaterThan(ALLOWED.length);
      // Read as the guarded sessions read them: in the server's default sql_mode, which they kept.
      const [[{ mode }]] = (await admin.query<RowDataPacket[]>('SELECT @@GLOBAL.sql_mode AS mode')) as unknown as [[{ mode: string }]];
      const guardsOwn = (statement: string): boolean => /^SET SESSION (max_(statement|execution)_time|session_track_state_change|net_write_timeout) = /.test(statement);
      const notAllowed = logged
        .filter((row) => !guardsOwn(String(row.argument)) && !classifyStatement(String(row.argument), { sqlMode: mode }).allowed)
        .map((row) => `${row.command_type}: ${row.argument}`);
      expect(notAllowed).toEqual([]);
      // The same without trusting the classifier: no refused statement of the corpus, as written or
      // with its placeholders filled in, reached the server.
      const refusedTexts = new Set(REFUSED.map(({ sql: template }) => local(template)).flatMap((statement) => [statement, mysql2.format(statement, placeholders(statement))]));
      expect(logged.map((row) => String(row.argument)).filter((argument) => refusedTexts.has(argument))).toEqual([]);
    });
  });
});

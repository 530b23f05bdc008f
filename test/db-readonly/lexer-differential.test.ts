import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyStatement } from '@mirrorguard/db-readonly';
import { startMariadbServer, type ThrowawayMariadb } from '../support/mariadb-server.ts';
import {
  createDifferentialSchema,
  DifferentialRunner,
  generateStatement,
  LOCK_NAMES,
  rng,
  SEQUENCE,
  seedStatements,
  sqlModes,
  TABLE,
  type Leak,
} from './lexer-differential.ts';

// Issue 12, section 3: a bounded, seeded slice of the lexer fuzzer (bench/db-readonly/lexer-fuzz.ts
// runs it long). The same seed gives the same statements on every machine.
const SEED = 12;
const PER_MODE = 1250;

const describeLeak = (leak: Leak): string =>
  `seed ${leak.seed} #${leak.index} under sql_mode '${leak.sqlMode}': ${JSON.stringify(leak.sql)} was allowed (${leak.classification.reason}) and ${leak.changes.join('; ')}`;

describe('the SQL classifier against a real MariaDB (lexer differential)', () => {
  let server: ThrowawayMariadb;
  let runner: DifferentialRunner;
  let modes: string[];

  beforeAll(async () => {
    server = await startMariadbServer();
    await createDifferentialSchema(server);
    const probe = await createConnection({ host: server.host, port: server.port, user: server.user });
    const [rows] = await probe.query<RowDataPacket[]>('SELECT @@GLOBAL.sql_mode AS mode');
    await probe.end();
    modes = sqlModes(String(rows[0]!.mode));
    runner = new DifferentialRunner(server);
    await runner.open();
  });

  afterAll(async () => {
    await runner?.close();
    await server?.kill();
  });

  it('has an oracle that sees every effect the generator aims at', async () => {
    await runner.useSqlMode(modes[0]!);
    const effects = [
      `SELECT GET_LOCK('${LOCK_NAMES[0]}', 0)`,
      "SELECT GET_LOCK('a name the generator never wrote', 0)",
      'SET tx_read_only = 0',
      `SELECT * FROM ${TABLE} FOR UPDATE`,
      `SELECT * FROM ${TABLE} LOCK IN SHARE MODE`,
      `INSERT INTO ${TABLE} (v) VALUES (5)`,
      `SELECT NEXTVAL(${SEQUENCE})`,
      `SELECT SETVAL(${SEQUENCE}, 500)`,
      'SELECT UUID_SHORT()',
      `SELECT 1 INTO OUTFILE '${server.filesDir}/oracle-check'`,
      'SET GLOBAL max_connect_errors = 77',
      'SET NAMES latin1',
      "SET @@session.tx_isolation = 'SERIALIZABLE'",
    ];
    for (const sql of effects) {
      const leak = await runner.check(sql, 0, 0, { unclassified: true });
      expect(leak?.changes ?? [], sql).not.toEqual([]);
    }
    for (const sql of ['SELECT 1', "SET @v = 'x'", "SET sql_mode = 'ANSI_QUOTES'", 'SET autocommit = 1', `SELECT * FROM ${TABLE}`]) {
      expect(await runner.check(sql, 0, 0, { unclassified: true }), sql).toBeUndefined();
    }
  });

  it('allows no statement that changes anything, under each sql_mode the classifier follows', async () => {
    const leaks: string[] = [];
    const before = { ...runner.counts };
    for (const [position, mode] of modes.entries()) {
      await runner.useSqlMode(mode);
      for (const [index, sql] of seedStatements(server.filesDir).entries()) {
        const leak = await runner.check(sql, 0, index);
        if (leak !== undefined) leaks.push(describeLeak(leak));
      }
      const seed = SEED * 16 + position;
      const random = rng(seed);
      for (let index = 0; index < PER_MODE; index += 1) {
        const sql = generateStatement(random, server.filesDir);
        // Allowed with the session's mode unknown means allowed under every reading, this one included.
        if (classifyStatement(sql).allowed) expect(classifyStatement(sql, { sqlMode: mode }).allowed, sql).toBe(true);
        const leak = await runner.check(sql, seed, index);
        if (leak !== undefined) leaks.push(describeLeak(leak));
      }
    }
    const ran = runner.counts.ran - before.ran;
    // The slice must exercise the server, not only the classifier's refusals.
    expect(runner.counts.allowed - before.allowed).toBeGreaterThan(500);
    expect(ran).toBeGreaterThan(100);
    expect(leaks).toEqual([]);
  });
});

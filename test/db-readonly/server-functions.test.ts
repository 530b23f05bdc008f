import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyStatement } from '@mirrorguard/db-readonly';
import { SERVER_FUNCTIONS } from '../../packages/db-readonly/src/classifier/server-functions.ts';
import { startMariadbServer, type ThrowawayMariadb } from '../support/mariadb-server.ts';
import { rng, type Rng } from '../support/seeded-random.ts';
import { createDifferentialSchema, DifferentialRunner, LOCK_NAMES, SEQUENCE } from './lexer-differential.ts';

// Issue 12: built-in functions with effects past the session, as a class. Every function the
// server names is called with generated arguments on a scratch MariaDB, in a session that is
// neither read-only nor guarded; the oracle (DifferentialRunner: binlog, global variables, named
// locks, sequences, the UUID_SHORT counter, files under secure_file_priv, row locks, the session's
// own state) says which calls changed anything. Every such call must be refused by the classifier,
// and its function must be in SERVER_FUNCTIONS: a function a new server version adds with an effect
// fails this test until it is classed.
const SEED = 1207;
const GENERATED_PER_FUNCTION = 5;

// Functions the grammar parses itself (keywords), which information_schema.SQL_FUNCTIONS omits.
const KEYWORD_FUNCTIONS = [
  'ASCII', 'CHAR', 'CHARSET', 'COLUMN_ADD', 'COLUMN_CREATE', 'COLUMN_DELETE', 'COLUMN_GET', 'CONTAINS', 'CONVERT', 'CURRENT_DATE',
  'CURRENT_ROLE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP', 'CURRENT_USER', 'DATE', 'DAY', 'DEFAULT', 'FORMAT', 'HOUR', 'IF', 'INSERT',
  'INTERVAL', 'LASTVAL', 'LAST_VALUE', 'LEFT', 'LOCALTIME', 'LOCALTIMESTAMP', 'MICROSECOND', 'MINUTE', 'MOD', 'MONTH', 'NEXTVAL',
  'OLD_PASSWORD', 'PASSWORD', 'QUARTER', 'REPEAT', 'REPLACE', 'REVERSE', 'RIGHT', 'ROW_COUNT', 'ROW_NUMBER', 'SECOND', 'SETVAL',
  'SYSDATE', 'TIME', 'TIMESTAMP', 'TIMESTAMPADD', 'TIMESTAMPDIFF', 'TRUNCATE', 'USER', 'UTC_DATE', 'UTC_TIME', 'UTC_TIMESTAMP',
  'VALUE', 'VALUES', 'WEEK', 'WEIGHT_STRING', 'YEAR', 'POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING',
  'MULTIPOLYGON', 'GEOMETRYCOLLECTION',
];

/**
 * Arguments that reach each kind of effect: a lock name the oracle watches, the watched sequence,
 * a file path under secure_file_priv. Numbers stay at or below zero and strings are not numeric,
 * so that SLEEP and BENCHMARK return at once.
 */
function argumentPool(filesDir: string): string[] {
  return [`'${LOCK_NAMES[0]}'`, '0', '-1', '0.001', 'NULL', "'x'", SEQUENCE, `'${filesDir}/probe'`, `'{"a":1}'`, "'$.a'"];
}

function calls(name: string, random: Rng, pool: readonly string[]): string[] {
  const fixed = ['', `'${LOCK_NAMES[0]}', 0`, SEQUENCE, `${SEQUENCE}, 1000000`];
  const generated = Array.from({ length: GENERATED_PER_FUNCTION }, () => {
    const arity = Math.floor(random() * 4);
    return Array.from({ length: arity }, () => pool[Math.floor(random() * pool.length)]!).join(', ');
  });
  return [...new Set([...fixed, ...generated])].map((args) => `SELECT ${name}(${args})`);
}

describe('built-in functions with effects past the session (server differential)', () => {
  let server: ThrowawayMariadb;
  let runner: DifferentialRunner;
  let names: string[];

  beforeAll(async () => {
    server = await startMariadbServer();
    await createDifferentialSchema(server);
    const probe = await createConnection({ host: server.host, port: server.port, user: server.user });
    try {
      const [listed] = await probe.query<RowDataPacket[]>('SELECT FUNCTION AS name FROM information_schema.SQL_FUNCTIONS');
      const [help] = await probe.query<RowDataPacket[]>("SELECT name FROM mysql.help_topic WHERE name REGEXP '^[A-Z][A-Z0-9_]*$'");
      names = [...new Set([...listed, ...help].map((row) => String(row.name).toUpperCase()).concat(KEYWORD_FUNCTIONS))].sort();
      const [[mode]] = await probe.query<RowDataPacket[]>('SELECT @@GLOBAL.sql_mode AS mode');
      runner = new DifferentialRunner(server);
      await runner.open();
      await runner.useSqlMode(String(mode!.mode));
    } finally {
      await probe.end();
    }
  });

  afterAll(async () => {
    await runner?.close();
    await server?.kill();
  });

  it('refuses every system table whose read resets server-wide counters (the *_RESET tables the server lists)', async () => {
    const probe = await createConnection({ host: server.host, port: server.port, user: server.user });
    try {
      const [tables] = await probe.query<RowDataPacket[]>(
        "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('information_schema', 'performance_schema', 'mysql', 'sys') AND TABLE_NAME LIKE '%RESET%'",
      );
      expect(tables.length).toBeGreaterThanOrEqual(3);
      const allowed = tables.map(({ db, name }) => `SELECT * FROM ${String(db)}.${String(name)}`).filter((sql) => classifyStatement(sql).allowed);
      expect(allowed).toEqual([]);
    } finally {
      await probe.end();
    }
  });

  it('finds every built-in that changes state past the session, and the classifier refuses each call that did', async () => {
    // The server's own list, not a hand sample: MariaDB 10.11 names about 260 functions there.
    expect(names.length).toBeGreaterThan(250);
    const random = rng(SEED);
    const pool = argumentPool(server.filesDir);
    const effectful = new Map<string, string[]>();
    const passed: string[] = [];
    const called = new Set<string>();
    for (const [index, name] of names.entries()) {
      for (const sql of calls(name, random, pool)) {
        const ran = runner.counts.ran;
        const leak = await runner.check(sql, SEED, index, { unclassified: true });
        if (runner.counts.ran > ran) called.add(name);
        if (leak === undefined) continue;
        effectful.set(name, [...(effectful.get(name) ?? []), `${sql}: ${leak.changes.join('; ')}`]);
        if (classifyStatement(sql).allowed || classifyStatement(sql, { dialect: 'mariadb' }).allowed) passed.push(`${sql} was allowed and ${leak.changes.join('; ')}`);
      }
    }
    // The oracle sees each kind of effect the catalogue names (else finding nothing proves nothing).
    for (const name of ['GET_LOCK', 'NEXTVAL', 'SETVAL', 'UUID_SHORT']) expect(effectful.has(name), `${name} changed nothing the oracle sees`).toBe(true);
    expect(passed).toEqual([]);
    const unlisted = [...effectful.keys()].filter((name) => !SERVER_FUNCTIONS.has(name));
    expect(unlisted.map((name) => effectful.get(name)![0])).toEqual([]);
    // Calls that ran, not only ones the server refused: most of the server's functions were exercised.
    expect(called.size).toBeGreaterThan(250);
  }, 600_000);
});

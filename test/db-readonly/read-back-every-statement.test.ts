import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournal, MemorySink } from '@mirrorguard/core';
import { guardMysql2, type GuardMysql2Options } from '@mirrorguard/db-readonly';
import { rng } from '../support/seeded-random.ts';
import { createOwnDatabase, databaseUrl, dropOwnDatabase, lockHolder } from './server-oracles.ts';

// Views and stored functions run bodies the classifier never sees. Whatever a generated body does to
// the session (tracking turned off first, bounds lifted, SERIALIZABLE, another charset, named locks),
// with readBackEveryStatement the mirror's next statement either fails (the connection was ended)
// or runs in the pinned session. The server is the oracle: the session's own variables, read
// through the mirror's connection, and IS_USED_LOCK from another session. The same cases without
// the option must leak somewhere, or the oracle proves nothing.
const DATABASE = 'mirrorguard_read_back_every';
const LOCK_PREFIX = 'mg_rbes_lock_';
const CASES = 40;
const MAX_STATEMENT_TIME_MS = 1500;

const options: GuardMysql2Options = { dialect: 'mariadb', maxStatementTimeMs: MAX_STATEMENT_TIME_MS };

/** What a generated body may do to its caller's session. */
const ACTIONS: ReadonlyArray<(n: number) => string> = [
  () => 'SET SESSION session_track_state_change = OFF',
  () => 'SET @@session.max_statement_time = 0',
  () => 'SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE',
  () => "SET @@session.character_set_client = 'latin1'",
  () => 'SET @@session.net_write_timeout = 3600',
  () => 'SET @@session.idle_transaction_timeout = 0',
  () => 'SET SESSION session_track_state_change = ON',
  (n) => `DO GET_LOCK('${LOCK_PREFIX}${n}', 0)`,
];

interface Case {
  readonly name: string;
  /** What the mirror sends: a SELECT of a function or from a view. */
  readonly call: string;
  readonly lock: string;
}

/** Creates `count` routines and views with generated bodies; returns how each is called. */
async function createCases(root: Connection, seed: number, count: number): Promise<Case[]> {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const cases: Case[] = [];
  for (let n = 0; n < count; n += 1) {
    const lock = `${LOCK_PREFIX}${n}`;
    // Often first: the function blinds the server's session tracking before it does anything else.
    const actions = random() < 0.5 ? ['SET SESSION session_track_state_change = OFF'] : [];
    for (let k = 1 + Math.floor(random() * 3); k > 0; k -= 1) actions.push(pick(ACTIONS)(n));
    await root.query(`CREATE FUNCTION f${n}() RETURNS INT NOT DETERMINISTIC BEGIN ${actions.join('; ')}; RETURN 1; END`);
    const shape = pick(['function', 'view of the function', 'view with GET_LOCK'] as const);
    if (shape === 'function') cases.push({ name: `f${n}: ${actions.join('; ')}`, call: `SELECT f${n}() AS x`, lock });
    else if (shape === 'view of the function') {
      await root.query(`CREATE VIEW v${n} AS SELECT f${n}() AS x`);
      cases.push({ name: `v${n} → f${n}: ${actions.join('; ')}`, call: `SELECT * FROM v${n}`, lock });
    } else {
      await root.query(`CREATE VIEW v${n} AS SELECT GET_LOCK('${lock}', 0) AS x`);
      cases.push({ name: `v${n}: GET_LOCK`, call: `SELECT * FROM v${n}`, lock });
    }
  }
  return cases;
}

const PROBE =
  'SELECT @@session.max_statement_time AS statementTime, @@session.tx_isolation AS isolation, @@session.tx_read_only AS readOnly, ' +
  '@@session.character_set_client AS charset, @@session.net_write_timeout AS netWrite, @@session.idle_transaction_timeout AS idle, ' +
  '@@session.session_track_state_change AS tracking';

const PINNED = {
  statementTime: MAX_STATEMENT_TIME_MS / 1000,
  isolation: 'REPEATABLE-READ',
  readOnly: 1,
  charset: 'utf8mb4',
  netWrite: Math.ceil(MAX_STATEMENT_TIME_MS / 1000),
  idle: 10,
  tracking: 1,
};

/** What leaked from running `testCase` through a guarded connection, as the server reports it; empty when nothing did. */
async function leaksOf(admin: Connection, testCase: Case, extra: GuardMysql2Options): Promise<string[]> {
  const connection = await guardMysql2(mysql2Promise, { ...options, ...extra }).createConnection({ uri: databaseUrl(DATABASE) });
  const leaks: string[] = [];
  try {
    await connection.query(testCase.call).catch(() => undefined);
    const probe = await connection.query<RowDataPacket[]>(PROBE).then(
      ([rows]) => rows[0]!,
      () => undefined, // the connection was ended: its session is gone
    );
    if (probe !== undefined) {
      const state: Record<string, unknown> = { ...probe, statementTime: Number(probe.statementTime), readOnly: Number(probe.readOnly), netWrite: Number(probe.netWrite), idle: Number(probe.idle), tracking: Number(probe.tracking) };
      for (const [name, pinned] of Object.entries(PINNED)) {
        if (state[name] !== pinned) leaks.push(`${name} is ${String(state[name])}`);
      }
    }
    if ((await lockHolder(admin, testCase.lock)) !== null) leaks.push(`named lock ${testCase.lock} held`);
  } finally {
    connection.destroy();
  }
  // A destroyed connection's locks go once the server notices: wait for it before the next case.
  while ((await lockHolder(admin, testCase.lock)) !== null) await admin.query('DO SLEEP(0.01)');
  return leaks;
}

describe('readBackEveryStatement: views and stored functions cannot change the session unseen', () => {
  let admin: Connection;
  let cases: Case[];

  beforeAll(async () => {
    admin = await createOwnDatabase(DATABASE, async (root) => {
      cases = await createCases(root, 0x5eed12, CASES);
    });
  });

  afterAll(async () => {
    await dropOwnDatabase(admin, DATABASE);
  });

  it(`holds for ${CASES} generated views and functions`, async () => {
    const leaked: string[] = [];
    for (const testCase of cases) {
      const leaks = await leaksOf(admin, testCase, { readBackEveryStatement: true });
      if (leaks.length > 0) leaked.push(`${testCase.name} → ${leaks.join(', ')}`);
    }
    expect(leaked).toEqual([]);
  }, 120_000);

  it('the same cases leak without it (the oracle sees what the option stops)', async () => {
    const leaked: string[] = [];
    for (const testCase of cases) if ((await leaksOf(admin, testCase, {})).length > 0) leaked.push(testCase.name);
    // Tracking turned off first hides the bounds lifted after it; a view's GET_LOCK is never seen.
    expect(leaked.some((name) => name.includes('GET_LOCK'))).toBe(true);
    expect(leaked.some((name) => name.includes('session_track_state_change = OFF'))).toBe(true);
  }, 120_000);

  it('a named lock a statement took is journaled and its connection ended', async () => {
    const memory = new MemorySink();
    const journal = createJournal({ profile: 'mirror', sinks: [memory] });
    const lockView = cases.find((testCase) => testCase.name.endsWith('GET_LOCK'))!;
    const connection = await guardMysql2(mysql2Promise, { ...options, journal, readBackEveryStatement: true }).createConnection({ uri: databaseUrl(DATABASE) });
    try {
      await connection.query(lockView.call);
      await expect(connection.query('SELECT 1')).rejects.toMatchObject({ code: 'MG_ERR_DB_SESSION_UNSAFE' });
      expect(memory.events()).toContainEqual(expect.objectContaining({ dependency: 'db', action: 'blocked', operation: '(after statement)' }));
      expect(await lockHolder(admin, lockView.lock)).toBeNull();
    } finally {
      connection.destroy();
    }
  });
});

import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import mysql2 from 'mysql2';
import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardMysql2, type GuardMysql2Options } from '@mirrorguard/db-readonly';
import { createOwnDatabase, databaseUrl, dropOwnDatabase, lockHolder, lockTakenOrSessionGone, serverThreadOf } from './server-oracles.ts';
import { READ_SESSION_STATE } from '../../packages/db-readonly/src/server/session-state.ts';

// Attack round 3 on the wire check and readBackEveryStatement. Oracles are the server's own:
// IS_USED_LOCK from an unguarded session, and the guarded session's variables read back.
const DATABASE = 'mirrorguard_attacks_3';
const options: GuardMysql2Options = { dialect: 'mariadb', maxStatementTimeMs: 1500, readBackEveryStatement: true };

/** A COM_QUERY packet (sequence 0) of `sql`. */
function comQuery(sql: string): Buffer {
  const payload = Buffer.concat([Buffer.of(0x03), Buffer.from(sql, 'utf8')]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = 0;
  return Buffer.concat([header, payload]);
}

async function waitLockFree(admin: Connection, lock: string): Promise<void> {
  for (let i = 0; i < 200 && (await lockHolder(admin, lock)) !== null; i += 1) await admin.query('DO SLEEP(0.01)');
}

describe('attacks 3: db-readonly wire check and readBackEveryStatement', () => {
  let admin: Connection;

  beforeAll(async () => {
    admin = await createOwnDatabase(DATABASE, async (root) => {
      await root.query('CREATE TABLE victim (id INT) ENGINE=InnoDB');
      await root.query('CREATE FUNCTION f_onoff() RETURNS INT NOT DETERMINISTIC BEGIN SET SESSION session_track_state_change = OFF; SET @@session.max_statement_time = 0; SET SESSION session_track_state_change = ON; RETURN 1; END');
      await root.query("CREATE FUNCTION f_sig() RETURNS INT NOT DETERMINISTIC BEGIN SET SESSION session_track_state_change = OFF; SET @@session.max_statement_time = 0; SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'; RETURN 1; END");
      await root.query("CREATE FUNCTION f_locksig() RETURNS INT NOT DETERMINISTIC BEGIN DO GET_LOCK('mg_a3_locksig', 0); SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'; RETURN 1; END");
    });
  });

  afterAll(async () => {
    await dropOwnDatabase(admin, DATABASE);
  });

  it.fails('HOLE: fs.writeSync on the guarded socket\'s fd writes a COM_QUERY past the wire check', async () => {
    const lock = 'mg_a3_fd_lock';
    const connection = await guardMysql2(mysql2Promise, options).createConnection({ uri: databaseUrl(DATABASE) });
    try {
      await connection.query('SELECT 1');
      const core = (connection as unknown as { connection: mysql2.Connection & { stream: { _handle: { fd: number } } } }).connection;
      const fd = core.stream._handle.fd;
      expect(fd).toBeGreaterThan(0);
      // The socket's file descriptor written with fs: no handle method is called at all.
      // Pipelined: the session made read-write, a row inserted, a named lock taken and held (SLEEP).
      fs.writeSync(fd, Buffer.concat([comQuery('SET SESSION TRANSACTION READ WRITE'), comQuery('INSERT INTO victim VALUES (1)'), comQuery(`SELECT GET_LOCK('${lock}', 0), SLEEP(2)`)]));
      // The guarded session either runs the pipeline (the lock seen while held) or ends without it.
      const outcome = await lockTakenOrSessionGone(admin, lock, serverThreadOf(core));
      const [[{ rows }]] = (await admin.query<RowDataPacket[]>('SELECT COUNT(*) AS `rows` FROM victim')) as unknown as [[{ rows: unknown }]];
      // Safe behaviour: the server never ran any of it.
      expect({ outcome, rows: Number(rows) }).toEqual({ outcome: 'gone', rows: 0 });
    } finally {
      connection.destroy();
      await waitLockFree(admin, lock);
    }
  });

  it('a TLSSocket app code puts in the stream\'s place does not retire the raw socket\'s check: plaintext on the raw socket is refused', async () => {
    const lock = 'mg_a3_tls_lock';
    const connection = await guardMysql2(mysql2Promise, options).createConnection({ uri: databaseUrl(DATABASE) });
    try {
      await connection.query('SELECT 1');
      const core = (connection as unknown as { connection: { stream: net.Socket } }).connection;
      const raw = core.stream;
      // Not a TLS upgrade at all: a TLSSocket over the raw one, put where mysql2's startTLS would put it.
      core.stream = new tls.TLSSocket(raw) as unknown as net.Socket;
      // The guard adopts it at its next approval, and retires the raw socket's check.
      connection.query('SELECT 2').catch(() => undefined);
      raw.write(Buffer.concat([comQuery('SET SESSION TRANSACTION READ WRITE'), comQuery('INSERT INTO victim VALUES (2)'), comQuery(`SELECT GET_LOCK('${lock}', 0), SLEEP(2)`)]));
      // The raw socket is the guarded session's own: it either runs the pipeline (the lock seen while held) or ends without it.
      const outcome = await lockTakenOrSessionGone(admin, lock, serverThreadOf(core as unknown as mysql2.Connection));
      const [[{ rows }]] = (await admin.query<RowDataPacket[]>('SELECT COUNT(*) AS `rows` FROM victim WHERE id = 2')) as unknown as [[{ rows: unknown }]];
      expect({ outcome, rows: Number(rows) }).toEqual({ outcome: 'gone', rows: 0 });
    } finally {
      connection.destroy();
      await waitLockFree(admin, lock);
    }
  });

  it('SELECT UUID_SHORT() is refused: it would advance the server\'s global counter other sessions draw from', async () => {
    const connection = await guardMysql2(mysql2Promise, options).createConnection({ uri: databaseUrl(DATABASE) });
    try {
      const [[{ u: before }]] = (await admin.query('SELECT CAST(UUID_SHORT() AS CHAR) AS u')) as unknown as [[{ u: string }]];
      for (let i = 0; i < 5; i += 1) await connection.query('SELECT UUID_SHORT()').catch(() => undefined);
      const [[{ u: after }]] = (await admin.query('SELECT CAST(UUID_SHORT() AS CHAR) AS u')) as unknown as [[{ u: string }]];
      // Safe behaviour: the primary's (here admin's) next value follows its last one; the mirror took none.
      expect(BigInt(after) - BigInt(before)).toBe(1n);
    } finally {
      connection.destroy();
    }
  });

  type Query = (options: unknown, callback?: (error: unknown, rows: unknown) => void) => unknown;
  type Command = { sql?: unknown; onResult?: ((error: unknown, rows?: unknown) => void) | undefined };
  const sqlOf = (query: unknown): string => (typeof query === 'string' ? query : String((query as { sql?: unknown })?.sql ?? ''));
  /** The guard's own statements: pins, read-backs, grants, readBackEveryStatement's check. */
  const isGuardStatement = (sql: string): boolean => /^(SET |SHOW SESSION VARIABLES|SHOW GRANTS|SELECT RELEASE_ALL_LOCKS)/.test(sql);

  /** Rows of a genuine read-back: the guard's own statement, asked by the app on a pinned guarded connection. */
  async function recordReadBack(): Promise<unknown> {
    const honest = guardMysql2(mysql2, options).createConnection({ uri: databaseUrl(DATABASE) });
    try {
      return await new Promise((resolve, reject) => honest.query({ sql: READ_SESSION_STATE, rowsAsArray: true }, (error, rows) => (error ? reject(error) : resolve(rows))));
    } finally {
      honest.destroy();
    }
  }

  /** Safe behaviour: either the connection failed, or the session is read only and its statements bounded (1.5 s). */
  async function expectPinnedOrFailed(victim: mysql2.Connection): Promise<void> {
    const run = (sql: string): Promise<{ rows?: unknown; error?: unknown }> => new Promise((resolve) => victim.query(sql, (error, rows) => resolve(error ? { error } : { rows })));
    const state = await run('SELECT @@session.tx_read_only AS ro, @@session.max_statement_time AS t');
    const started = Date.now();
    await run('SELECT SLEEP(3) AS s');
    const tookMs = Date.now() - started;
    if (state.error === undefined) {
      const row = (state.rows as Array<{ ro: unknown; t: unknown }>)[0]!;
      expect({ ro: Number(row.ro), t: Number(row.t), bounded: tookMs < 2500 }).toEqual({ ro: 1, t: 1.5, bounded: true });
    }
  }

  it('connection.query replaced on the instance before connect cannot drop the guard\'s pins nor answer its read-back: the session runs pinned', async () => {
    const recorded = await recordReadBack();
    const victim = guardMysql2(mysql2, options).createConnection({ uri: databaseUrl(DATABASE) });
    const query = victim.query as unknown as Query;
    const seen: string[] = [];
    (victim as unknown as { query: Query }).query = function (q, callback) {
      const sql = sqlOf(q);
      seen.push(sql);
      // The guard's pins (read only, tracking, bounds): answered without being sent.
      if (sql.startsWith('SET ') && callback) return void process.nextTick(callback, null, []);
      // Its read-back: sent (the wire check sees a read-back), answered with the recorded rows.
      if (sql.startsWith('SHOW SESSION VARIABLES') && callback) return query.call(this, q, (error) => callback(error, recorded));
      // readBackEveryStatement's check: sent, answered as a clean one (no locks, tracking on).
      if (sql.startsWith('SELECT RELEASE_ALL_LOCKS') && callback) return query.call(this, q, (error) => callback(error, [[0, 1]]));
      return query.call(this, q, callback);
    };
    try {
      await expectPinnedOrFailed(victim);
      // None of the guard's own statements passed the app's function.
      expect(seen.filter(isGuardStatement)).toEqual([]);
    } finally {
      victim.destroy();
    }
  }, 20_000);

  it('connection.addCommand replaced on the instance before connect cannot drop the guard\'s pins nor answer its read-back: the session runs pinned', async () => {
    const recorded = await recordReadBack();
    const victim = guardMysql2(mysql2, options).createConnection({ uri: databaseUrl(DATABASE) });
    const core = victim as unknown as { addCommand(command: Command): Command };
    const addCommand = core.addCommand;
    const seen: string[] = [];
    core.addCommand = function (command) {
      const sql = sqlOf(command);
      seen.push(sql);
      const onResult = command.onResult;
      // The guard's pins: answered without being queued at all.
      if (sql.startsWith('SET ') && onResult) {
        process.nextTick(onResult, null, []);
        return command;
      }
      // Its read-back and check: queued (and sent), their replies swapped for made-up rows.
      if (sql.startsWith('SHOW SESSION VARIABLES') && onResult) command.onResult = (error) => onResult(error, recorded);
      if (sql.startsWith('SELECT RELEASE_ALL_LOCKS') && onResult) command.onResult = (error) => onResult(error, [[0, 1]]);
      return addCommand.call(this, command);
    };
    try {
      await expectPinnedOrFailed(victim);
      // None of the guard's own statements passed the app's function.
      expect(seen.filter(isGuardStatement)).toEqual([]);
    } finally {
      victim.destroy();
    }
  }, 20_000);

  it('query replaced on a pool\'s connection in its \'connection\' event cannot answer readBackEveryStatement\'s check: no lock a function takes outlives its statement', async () => {
    const lock = 'mg_a3_locksig';
    const pool = guardMysql2(mysql2, options).createPool({ uri: databaseUrl(DATABASE), connectionLimit: 1 });
    let victim: mysql2.PoolConnection | undefined;
    pool.on('connection', (connection) => {
      victim = connection;
      const query = connection.query as unknown as Query;
      (connection as unknown as { query: Query }).query = function (q, callback) {
        // The check that releases named locks: answered as a clean one, without being sent.
        if (sqlOf(q).startsWith('SELECT RELEASE_ALL_LOCKS') && callback) return void process.nextTick(callback, null, [[0, 1]]);
        return query.call(this, q, callback);
      };
    });
    try {
      await new Promise((resolve) => pool.query('SELECT f_locksig()', () => resolve(undefined)));
      // The server as the oracle: the lock is free once the check that follows the statement has run
      // (GET_LOCK waits for it). One the check never released stays held by the pool's connection.
      const [[{ got }]] = (await admin.query('SELECT GET_LOCK(?, 5) AS got', [lock])) as unknown as [[{ got: unknown }]];
      await admin.query('DO RELEASE_LOCK(?)', [lock]);
      expect(Number(got)).toBe(1);
    } finally {
      // Destroyed first: a connection whose check was answered locally may never finish a graceful end.
      victim?.destroy();
      await new Promise((resolve) => pool.end(() => resolve(undefined)));
      await waitLockFree(admin, lock);
    }
  }, 20_000);

  it('a packet writer replaced on the instance cannot drop readBackEveryStatement\'s check and forge its reply: a reply to a statement never written fails the connection', async () => {
    const lock = 'mg_a3_locksig';
    interface Packet {
      readonly sequenceId: number;
      readonly buffer: Buffer;
      readonly start: number;
      readonly end: number;
    }
    type Core = { _command?: { sql?: unknown } | null; writePacket(packet: unknown): unknown; handlePacket(packet?: Packet): unknown };
    const copy = (packet: Packet): Packet => {
      const Made = packet.constructor as new (id: number, buffer: Buffer, start: number, end: number) => Packet;
      return new Made(packet.sequenceId, Buffer.from(packet.buffer.subarray(packet.start, packet.end)), 0, packet.end - packet.start);
    };
    // The server's reply to a clean check (no locks, tracking on), recorded as mysql2 parsed it.
    const recorded: Packet[] = [];
    const honest = guardMysql2(mysql2, options).createConnection({ uri: databaseUrl(DATABASE) });
    const honestCore = honest as unknown as Core;
    const handle = honestCore.handlePacket;
    let check: unknown;
    honestCore.handlePacket = function (packet) {
      // The reply to the first check alone.
      if (packet !== undefined && sqlOf(this._command).startsWith('SELECT RELEASE_ALL_LOCKS') && (check ??= this._command) === this._command) recorded.push(copy(packet));
      return handle.call(this, packet);
    };
    // The second statement waits behind the check that follows the first.
    for (const sql of ['SELECT 1', 'SELECT 2']) await new Promise((resolve) => honest.query(sql, () => resolve(undefined)));
    honest.destroy();
    expect(recorded.length).toBeGreaterThan(0);

    const victim = guardMysql2(mysql2, options).createConnection({ uri: databaseUrl(DATABASE) });
    const core = victim as unknown as Core;
    const writePacket = core.writePacket;
    core.writePacket = function (packet) {
      // The check: not written; the recorded clean reply fed to mysql2 as if the server had sent it.
      if (!sqlOf(this._command).startsWith('SELECT RELEASE_ALL_LOCKS')) return writePacket.call(this, packet);
      setImmediate(() => {
        for (const reply of recorded) this.handlePacket(copy(reply));
      });
      return undefined;
    };
    try {
      await new Promise((resolve) => victim.query('SELECT f_locksig()', () => resolve(undefined)));
      // The server as the oracle: GET_LOCK waits for the lock to be freed, by the check or by the connection's end.
      const [[{ got }]] = (await admin.query('SELECT GET_LOCK(?, 5) AS got', [lock])) as unknown as [[{ got: unknown }]];
      await admin.query('DO RELEASE_LOCK(?)', [lock]);
      expect(Number(got)).toBe(1);
    } finally {
      victim.destroy();
      await waitLockFree(admin, lock);
    }
  }, 20_000);

  for (const [name, call, lock] of [
    ['a function that turns tracking off, lifts max_statement_time and turns tracking back on', 'SELECT f_onoff()', undefined],
    ['a function that turns tracking off, lifts max_statement_time and then SIGNALs (an ERR reply carries no status flags)', 'SELECT f_sig()', undefined],
    ['a function that takes a named lock and then SIGNALs', 'SELECT f_locksig()', 'mg_a3_locksig'],
  ] as const) {
    for (const via of ['query', 'execute'] as const) {
      it(`readBackEveryStatement via ${via}: ${name}: the session is never used unpinned and no lock outlives the statement`, async () => {
        const connection = await guardMysql2(mysql2Promise, options).createConnection({ uri: databaseUrl(DATABASE) });
        try {
          await (via === 'query' ? connection.query(call) : connection.execute(call)).catch(() => undefined);
          const probe = await connection.query<RowDataPacket[]>('SELECT @@session.max_statement_time AS t, @@session.session_track_state_change AS tracking').then(
            ([rows]) => rows[0]!,
            () => undefined,
          );
          if (probe !== undefined) expect({ t: Number(probe.t), tracking: Number(probe.tracking) }).toEqual({ t: 1.5, tracking: 1 });
          if (lock !== undefined) expect(await lockHolder(admin, lock)).toBeNull();
        } finally {
          connection.destroy();
          if (lock !== undefined) await waitLockFree(admin, lock);
        }
      });
    }
  }
});

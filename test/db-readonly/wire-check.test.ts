import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mysql2 from 'mysql2';
import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournal, memorySink, type MemorySink } from '@mirrorguard/core';
import { guardMysql2 } from '@mirrorguard/db-readonly';
import { createHttpStub, harStore, type HttpStub } from '../../packages/http-stub/src/index.ts';
import { startMariadbServer, type ThrowawayMariadb } from '../support/mariadb-server.ts';
import { privateDir } from '../support/private-dir.ts';

// The wire check (packages/db-readonly/src/mysql2/wire-check.ts), against a private MariaDB (TLS
// on, a 64 MB max_allowed_packet, the binary log on): what the guard approved passes however the
// bytes are cut, and bytes it did not approve never reach the server, whichever way they are
// written. Judged by the server: files INTO OUTFILE would leave in its secure_file_priv, the
// binary log, a table's checksum, a connection a COM_PROCESS_KILL would end.

type Result = { error?: { code?: string } | null | undefined; rows?: unknown };
interface Core {
  threadId: number;
  config: { compress?: unknown };
  stream: net.Socket;
  write(buffer: Buffer): void;
  _commands: { length: number; shift(): object | undefined; push(command: object): void };
  addCommand(command: object): object;
}

const call = (start: (callback: (error: unknown, rows?: unknown) => void) => unknown): Promise<Result> =>
  new Promise((resolve) => {
    start((error, rows) => resolve(error ? { error: error as Result['error'] } : { rows }));
  });

/** A protocol packet: 3-byte length, sequence id, payload. */
function packet(sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
}
const comQuery = (sql: string): Buffer => packet(0, Buffer.concat([Buffer.of(0x03), Buffer.from(sql)]));
const prototypeOf = (connection: object): { addCommand(command: object): object } => Object.getPrototypeOf(Object.getPrototypeOf(connection));

describe('the wire check, judged by a private server', () => {
  let server: ThrowawayMariadb;
  let admin: Connection;
  let files = 0;

  /** A path INTO OUTFILE may write to, never used before. */
  const outfile = (): string => join(server.filesDir, `wire-${(files += 1)}.txt`);
  const options = () => ({ host: server.host, port: server.port, user: server.user, database: 'wire' });

  function guarded(): { mysql: typeof mysql2; sink: MemorySink } {
    const sink = memorySink();
    return { mysql: guardMysql2(mysql2, { dialect: 'mariadb', journal: createJournal({ profile: 'mirror', sinks: [sink] }) }), sink };
  }

  /** A guarded connection whose session the guard has confirmed read-only. */
  async function connect(mysql: typeof mysql2, extra: object = {}): Promise<mysql2.Connection & Core> {
    const connection = mysql.createConnection({ ...options(), ...extra }) as mysql2.Connection & Core;
    connection.on('error', () => undefined);
    const ready = await call((callback) => connection.query('SELECT 1', callback));
    expect(ready.error ?? null).toBeNull();
    return connection;
  }

  /** Once the server no longer lists the connection, any command it was sent has run. */
  async function serverEnded(threadId: number): Promise<void> {
    for (let poll = 0; poll < 5000; poll += 1) {
      const [rows] = await admin.query<RowDataPacket[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId]);
      if (rows.length === 0) return;
    }
    throw new Error(`the server still lists connection ${threadId}`);
  }

  async function closeAndWait(connection: mysql2.Connection & Core): Promise<void> {
    const { threadId } = connection;
    connection.destroy();
    await serverEnded(threadId);
  }

  const blocked = (sink: MemorySink): string[] => sink.events().filter((event) => event.action === 'blocked').map((event) => event.operation);
  const checksum = async (): Promise<unknown> => ((await admin.query<RowDataPacket[]>('CHECKSUM TABLE wire.accounts'))[0][0] as RowDataPacket).Checksum;
  const binlog = async (): Promise<string> => {
    const [[status]] = await admin.query<RowDataPacket[]>('SHOW MASTER STATUS');
    return `${status!.File}:${status!.Position}`;
  };

  beforeAll(async () => {
    const tls = privateDir('mirrorguard-tls-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tls, 'key.pem'), '-out', join(tls, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    server = await startMariadbServer({ args: [`--ssl-cert=${join(tls, 'cert.pem')}`, `--ssl-key=${join(tls, 'key.pem')}`, '--max-allowed-packet=64M', '--log-bin-trust-function-creators=1'] });
    const root = await mysql2Promise.createConnection({ host: server.host, port: server.port, user: server.user, multipleStatements: true });
    await root.query(`
      CREATE DATABASE wire;
      CREATE TABLE wire.accounts (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB;
      INSERT INTO wire.accounts VALUES (1, 100), (2, 200);
      CREATE FUNCTION wire.sneaky_write() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE wire.accounts SET balance = 0; RETURN 1; END;
    `);
    await root.end();
    admin = await mysql2Promise.createConnection({ host: server.host, port: server.port, user: server.user });
  }, 120_000);

  afterAll(async () => {
    await admin?.end();
    await server?.kill();
  });

  it('passes what the guard approved, however the bytes are cut into writes', async () => {
    const { mysql, sink } = guarded();
    const connection = await connect(mysql);
    try {
      // Every packet written one byte at a time: the check follows packets, not writes.
      connection.write = function writeByteByByte(this: Core, buffer: Buffer) {
        for (let at = 0; at < buffer.length; at += 1) this.stream.write(buffer.subarray(at, at + 1));
      };
      const text = await call((callback) => connection.query("SELECT ? AS n, 'ü€😀' AS s", [7], callback));
      expect(text).toEqual({ rows: [{ n: 7, s: 'ü€😀' }] });
      const sql = 'SELECT balance FROM accounts WHERE id = ?';
      expect(await call((callback) => connection.execute(sql, [1], callback))).toEqual({ rows: [{ balance: 100 }] });
      expect(await call((callback) => connection.execute(sql, [2], callback))).toEqual({ rows: [{ balance: 200 }] }); // cached: no Prepare
      connection.unprepare(sql); // COM_STMT_CLOSE
      expect(await call((callback) => connection.execute(sql, [1], callback))).toEqual({ rows: [{ balance: 100 }] });
      expect((await call((callback) => connection.ping(callback))).error ?? null).toBeNull();
      expect((await call((callback) => connection.changeUser({ user: 'root' }, callback))).error ?? null).toBeNull();
      expect((await call((callback) => connection.reset(callback))).error ?? null).toBeNull();
      expect(await call((callback) => connection.query('SELECT @@session.tx_read_only AS ro', callback))).toEqual({ rows: [{ ro: 1 }] });
      expect(blocked(sink)).toEqual([]);
    } finally {
      await closeAndWait(connection);
    }
  });

  it('passes a deep pipeline: 3,000 statements queued at once, some answered from the statement cache', async () => {
    const { mysql, sink } = guarded();
    const connection = await connect(mysql);
    try {
      const results = await Promise.all(
        Array.from({ length: 3000 }, (_, n) =>
          n % 3 === 0
            ? call((callback) => connection.execute('SELECT ? AS n', [n], callback))
            : call((callback) => connection.query('SELECT ? AS n', [n], callback)),
        ),
      );
      expect(results.map((result) => (result.rows as Array<{ n: number }>)[0]!.n)).toEqual(Array.from({ length: 3000 }, (_, n) => n));
      expect(blocked(sink)).toEqual([]);
    } finally {
      await closeAndWait(connection);
    }
  });

  it('passes a statement of more than 16 MB; changed in its last packet, none of it runs', async () => {
    const { mysql, sink } = guarded();
    const connection = await connect(mysql);
    try {
      const pad = 'x'.repeat(17 * 1024 * 1024);
      const big = await call((callback) => connection.query(`SELECT LENGTH('${pad}') AS n`, callback));
      expect(big).toEqual({ rows: [{ n: pad.length }] });
      // The same length, one tail screened and another sent: the first 16 MB packet matches.
      const file = outfile();
      const sent = ` INTO OUTFILE '${file}'`;
      const screened = ` AS ${'a'.repeat(sent.length - 4)}`;
      const busy = call((callback) => connection.query('SELECT 1', callback));
      const changed = call((callback) => {
        const query = connection.query(`SELECT '${pad}'${screened}`, callback) as unknown as { sql: string };
        query.sql = `SELECT '${pad}'${sent}`;
      });
      await busy;
      expect((await changed).error?.code).toBe('MG_ERR_DB_WIRE_REFUSED');
      await serverEnded(connection.threadId);
      expect(existsSync(file)).toBe(false);
      expect(blocked(sink)).toEqual(['(COM_QUERY packet)']);
    } finally {
      await closeAndWait(connection);
    }
  }, 60_000);

  describe('bytes written past the guard never reach the server, whichever way they are written', () => {
    const ways: Array<[string, (core: Core, bytes: Buffer) => void]> = [
      ['connection.write', (core, bytes) => core.write(bytes)],
      ['stream.write', (core, bytes) => void core.stream.write(bytes)],
      ['stream.end(bytes)', (core, bytes) => void core.stream.end(bytes)],
      ['Writable.prototype.write on the stream', (core, bytes) => void (Writable.prototype.write as (chunk: unknown) => boolean).call(core.stream, bytes)],
      ['net.Socket.prototype.write on the stream', (core, bytes) => void net.Socket.prototype.write.call(core.stream, bytes)],
      ['net.Socket.prototype._write on the stream', (core, bytes) => void (net.Socket.prototype as unknown as Writable)._write.call(core.stream, bytes, 'buffer' as BufferEncoding, () => undefined)],
      ['cork, two writes, uncork (writev)', (core, bytes) => void (core.stream.cork(), core.stream.write(bytes.subarray(0, 3)), core.stream.write(bytes.subarray(3)), core.stream.uncork())],
      ['a new net.Socket on the connection\'s handle', (core, bytes) => void new net.Socket({ handle: (core.stream as unknown as { _handle: never })._handle }).write(bytes)],
      [
        'a stream put in the connection\'s place, forwarding through the prototype\'s _write',
        (core, bytes) => {
          const socket = core.stream;
          const forward = (chunk: unknown, encoding: BufferEncoding, callback: () => void) => (net.Socket.prototype as unknown as Writable)._write.call(socket, chunk, encoding, callback);
          const final = (callback: () => void) => void socket.end(callback);
          core.stream = new Writable({ write: forward, final }) as never;
          core.stream.write(bytes);
        },
      ],
      ['a latin1 string', (core, bytes) => void core.stream.write(bytes.toString('latin1'), 'latin1')],
      ['a Uint8Array', (core, bytes) => void core.stream.write(new Uint8Array(bytes))],
      ['a packet cut in two writes', (core, bytes) => void (core.stream.write(bytes.subarray(0, 2)), core.stream.write(bytes.subarray(2)))],
      ['behind a command packet of its own', (core, bytes) => core.write(Buffer.concat([comQuery('SELECT 1'), bytes]))],
    ];
    for (const [way, write] of ways) {
      it(`a COM_QUERY written by ${way}`, async () => {
        const { mysql, sink } = guarded();
        const connection = await connect(mysql);
        const file = outfile();
        try {
          write(connection, comQuery(`SELECT 1 INTO OUTFILE '${file}'`));
          const next = await call((callback) => connection.query('SELECT 1', callback));
          expect(next.error?.code).toBe('MG_ERR_DB_WIRE_REFUSED');
          expect(blocked(sink)).toEqual(['(command packet)']);
        } finally {
          await closeAndWait(connection);
        }
        expect(existsSync(file)).toBe(false);
      });
    }

    it('commands mysql2 never sends for a read: process kill, refresh (binlog rotation), set option, init db, binlog dump, stray packets', async () => {
      const victim = await mysql2Promise.createConnection({ host: server.host, port: server.port, user: server.user });
      const before = await binlog();
      const int32 = (value: number): Buffer => {
        const bytes = Buffer.alloc(4);
        bytes.writeUInt32LE(value);
        return bytes;
      };
      const payloads: Array<[string, Buffer]> = [
        ['COM_PROCESS_KILL', packet(0, Buffer.concat([Buffer.of(0x0c), int32(victim.threadId)]))],
        ['COM_REFRESH (logs)', packet(0, Buffer.of(0x07, 0x02))],
        ['COM_SET_OPTION (multi statements on)', packet(0, Buffer.of(0x1b, 0x00, 0x00))],
        ['COM_INIT_DB', packet(0, Buffer.concat([Buffer.of(0x02), Buffer.from('mysql')]))],
        ['COM_BINLOG_DUMP', packet(0, Buffer.concat([Buffer.of(0x12), int32(4), Buffer.of(0, 0), int32(1)]))],
        ['COM_STMT_EXECUTE of a statement never prepared', packet(0, Buffer.concat([Buffer.of(0x17), int32(1), Buffer.of(0), int32(1)]))],
        ['a packet of sequence 2 (LOCAL INFILE data)', packet(2, Buffer.from('1,2\n'))],
        ['an unknown command byte', packet(0, Buffer.of(0xee))],
      ];
      try {
        for (const [name, bytes] of payloads) {
          const { mysql, sink } = guarded();
          const connection = await connect(mysql);
          try {
            connection.write(bytes);
            const next = await call((callback) => connection.query('SELECT 1', callback));
            expect({ name, code: next.error?.code, blocked: blocked(sink).length }).toEqual({ name, code: 'MG_ERR_DB_WIRE_REFUSED', blocked: 1 });
          } finally {
            await closeAndWait(connection);
          }
        }
        expect(await binlog()).toBe(before);
        const [[alive]] = await victim.query<RowDataPacket[]>('SELECT 1 AS alive');
        expect(alive!.alive).toBe(1);
      } finally {
        victim.destroy();
      }
    });

  });

  it('a statement id no approved Prepare received is not executed', async () => {
    const { mysql } = guarded();
    const connection = await connect(mysql);
    try {
      const statement = await new Promise<{ id: number; execute(values: unknown[], callback: (error: unknown) => void): void }>((resolve, reject) =>
        connection.prepare('SELECT ? AS n', (error, prepared) => (error ? reject(error) : resolve(prepared as never))),
      );
      expect((await call((callback) => statement.execute([1], callback))).error ?? null).toBeNull();
      statement.id += 1000;
      expect((await call((callback) => statement.execute([1], callback))).error?.code).toBe('MG_ERR_DB_WIRE_REFUSED');
    } finally {
      await closeAndWait(connection);
    }
  });

  // The guard's reset() queues COM_RESET_CONNECTION with the read-only pins right behind it. Taken
  // out of mysql2's queue and put back after the pins have run, the approved reset would leave the
  // session read-write with the app's commands following it.
  it('a session reset put back out of its place: nothing of the app runs in the session it resets', async () => {
    const { mysql } = guarded();
    const connection = await connect(mysql);
    const [pristine, position] = [await checksum(), await binlog()];
    try {
      const busy = call((callback) => connection.query('SELECT 1', callback));
      connection.reset(() => undefined);
      const queue = connection._commands;
      const kept: object[] = [];
      let reset: object | undefined;
      while (queue.length > 0) {
        const command = queue.shift()!;
        if (command.constructor.name === 'ResetConnection') reset = command;
        else kept.push(command);
      }
      for (const command of kept) queue.push(command);
      await busy;
      expect(await call((callback) => connection.query('SELECT @@session.tx_read_only AS ro', callback))).toEqual({ rows: [{ ro: 1 }] });
      prototypeOf(connection).addCommand.call(connection, reset!);
      const write = await call((callback) => connection.query('SELECT sneaky_write()', callback));
      expect(write.error?.code).toBe('MG_ERR_DB_WIRE_REFUSED');
    } finally {
      await closeAndWait(connection);
    }
    expect([await checksum(), await binlog()]).toEqual([pristine, position]);
  });

  // A command the guard approved on one connection, moved to another before that one's session is
  // pinned read-only (mysql2 runs what is queued behind the handshake before the guard's pins).
  it('an approval holds on its own connection only, and nothing of the app runs before the pins', async () => {
    const { mysql } = guarded();
    const first = await connect(mysql);
    const [pristine, position] = [await checksum(), await binlog()];
    const second = mysql.createConnection(options()) as mysql2.Connection & Core;
    second.on('error', () => undefined);
    try {
      const busy = call((callback) => first.query('SELECT 1', callback));
      const moved = call((callback) => first.query('SELECT sneaky_write()', callback));
      const queue = first._commands;
      const approved = queue.shift()!;
      await busy;
      prototypeOf(second).addCommand.call(second, approved);
      expect((await moved).error?.code).toBe('MG_ERR_DB_WIRE_REFUSED');
      // Failed: mysql2 refuses commands on a connection its fatal error closed.
      expect((await call((callback) => second.query('SELECT 1', callback))).error).toBeTruthy();
    } finally {
      first.destroy();
      second.destroy();
    }
    expect([await checksum(), await binlog()]).toEqual([pristine, position]);
  });

  it('a guarded connection never compresses: turned off when asked for, refused when forced before the handshake', async () => {
    const { mysql } = guarded();
    const asked = await connect(mysql, { compress: true });
    try {
      expect(await call((callback) => asked.query("SHOW SESSION STATUS LIKE 'Compression'", callback))).toEqual({ rows: [{ Variable_name: 'Compression', Value: 'OFF' }] });
    } finally {
      asked.destroy();
    }
    const forced = mysql.createConnection(options()) as mysql2.Connection & Core;
    forced.on('error', () => undefined);
    forced.config.compress = true;
    try {
      expect((await call((callback) => forced.query('SELECT 1', callback))).error?.code).toBe('MG_ERR_DB_WIRE_REFUSED');
    } finally {
      forced.destroy();
    }
  });

  it('reads the packets over TLS once the stream is upgraded', async () => {
    const { mysql } = guarded();
    const connection = await connect(mysql, { ssl: { rejectUnauthorized: false } });
    const file = outfile();
    try {
      const [cipher] = (await call((callback) => connection.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'", callback))).rows as Array<{ Value: string }>;
      expect(cipher!.Value).not.toBe('');
      expect((await call((callback) => connection.execute('SELECT ? AS n', [1], callback))).rows).toEqual([{ n: 1 }]);
      connection.stream.write(comQuery(`SELECT 1 INTO OUTFILE '${file}'`));
      expect((await call((callback) => connection.query('SELECT 1', callback))).error?.code).toBe('MG_ERR_DB_WIRE_REFUSED');
    } finally {
      await closeAndWait(connection);
    }
    expect(existsSync(file)).toBe(false);
  });

  it('a pool drops a connection the wire check refused and goes on with a new one', async () => {
    const { mysql } = guarded();
    const pool = mysql.createPool({ ...options(), connectionLimit: 1 });
    try {
      const pooled = await new Promise<mysql2.PoolConnection & Core>((resolve, reject) => pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection as never))));
      const first = pooled.threadId;
      pooled.write(comQuery('SELECT 1'));
      expect((await call((callback) => pooled.query('SELECT 1', callback))).error?.code).toBe('MG_ERR_DB_WIRE_REFUSED');
      pooled.release();
      const next = await call((callback) => pool.query('SELECT CONNECTION_ID() AS id', callback));
      expect((next.rows as Array<{ id: number }>)[0]!.id).not.toBe(first);
    } finally {
      await new Promise((resolve) => pool.end(resolve));
    }
  });

  // The HTTP stub's node:http interception (@mswjs/interceptors) wraps every socket the process
  // connects, mysql2's too: it connects a socket of its own and moves that socket's handle into the
  // one mysql2 holds. The check must follow the handle: reads from it are the server's, and writes
  // through it are checked (found by the demo, where each mirror runs with the stub installed).
  describe('with the HTTP stub\'s node:http interception installed (a handle moved into mysql2\'s socket)', () => {
    let stub: HttpStub;
    beforeAll(() => {
      const empty = join(privateDir('mirrorguard-wire-stub-'), 'empty.har');
      writeFileSync(empty, JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '0' }, entries: [] } }));
      stub = createHttpStub({ mode: 'replay', store: harStore({ file: empty }), journal: createJournal({ profile: 'mirror', sinks: [memorySink()] }) });
      stub.install();
    });
    afterAll(async () => {
      await stub.dispose();
      stub.reopenNetwork();
    });

    it('the guard\'s own statements and the app\'s reads pass, under readBackEveryStatement too', async () => {
      for (const readBackEveryStatement of [false, true]) {
        const sink = memorySink();
        const mysql = guardMysql2(mysql2, { dialect: 'mariadb', readBackEveryStatement, journal: createJournal({ profile: 'mirror', sinks: [sink] }) });
        const connection = await connect(mysql);
        try {
          expect((await call((callback) => connection.query("SET sql_mode = 'ANSI_QUOTES'", callback))).error ?? null).toBeNull();
          for (let i = 0; i < 20; i += 1) expect((await call((callback) => connection.query('SELECT ? AS n', [i], callback))).rows).toEqual([{ n: i }]);
          expect(blocked(sink)).toEqual([]);
        } finally {
          await closeAndWait(connection);
        }
      }
    });

    it('a COM_QUERY written past the guard is still refused: the moved handle\'s writes are checked', async () => {
      const { mysql, sink } = guarded();
      const connection = await connect(mysql);
      const file = outfile();
      try {
        connection.stream.write(comQuery(`SELECT 1 INTO OUTFILE '${file}'`));
        const next = await call((callback) => connection.query('SELECT 1', callback));
        expect(next.error?.code).toBe('MG_ERR_DB_WIRE_REFUSED');
        await serverEnded(connection.threadId);
        expect(existsSync(file)).toBe(false);
        expect(blocked(sink)).toEqual(['(command packet)']);
      } finally {
        await closeAndWait(connection);
      }
    });
  });
});

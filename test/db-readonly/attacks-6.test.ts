import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import mysql2 from 'mysql2';
import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardMysql2, type GuardMysql2Options } from '@mirrorguard/db-readonly';
import { createOwnDatabase, databaseUrl, dropOwnDatabase, greetingThreadId, lockHolder, lockTakenOrSessionGone, run, serverThreadOf } from './server-oracles.ts';
import { startMariadbServer, type ThrowawayMariadb } from '../support/mariadb-server.ts';
import { privateDir } from '../support/private-dir.ts';
import { MYSQL_URL } from '../support/servers.ts';
import { socketPair } from '../support/socket-pair.ts';

// Attack round 6 on the wire check's handles (packages/db-readonly/src/mysql2/wire-check.ts): the
// native write methods reached past the handle's own properties, a handle the guard first met
// under another connection's check, a transport the app hands mysql2, handles swapped between
// guarded connections. Oracle: the server — a named lock held by the guarded session, a row.
const DATABASE = 'mirrorguard_attacks_6';
const options: GuardMysql2Options = { dialect: 'mariadb', maxStatementTimeMs: 1500 };
const PORT = Number(new URL(MYSQL_URL).port || 3306);
const HOST = new URL(MYSQL_URL).hostname;

type Core = { stream: net.Socket; threadId: number };
type Handle = { writeBuffer(req: object, data: Buffer): number };

/** A COM_QUERY packet (sequence 0) of `sql`. */
function comQuery(sql: string): Buffer {
  const payload = Buffer.concat([Buffer.of(0x03), Buffer.from(sql)]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
}

/** The named lock taken and held a while (SLEEP), whichever session runs it. */
const takeLock = (lock: string): Buffer => comQuery(`SELECT GET_LOCK('${lock}', 0), SLEEP(2)`);

describe('attacks 6: the handles under a guarded connection', () => {
  let admin: Connection;
  const blocked: string[] = [];
  const journal = { record: (event: { action: string; operation: string; reason?: string }) => void (event.action === 'blocked' && blocked.push(`${event.operation}: ${event.reason}`)) } as unknown as NonNullable<GuardMysql2Options['journal']>;

  beforeAll(async () => {
    admin = await createOwnDatabase(DATABASE);
  });

  afterAll(async () => {
    await dropOwnDatabase(admin, DATABASE);
  });

  function connect(extra: Record<string, unknown> = {}): mysql2.Connection & Core {
    const connection = guardMysql2(mysql2, { ...options, journal }).createConnection({ uri: databaseUrl(DATABASE), ...extra }) as mysql2.Connection & Core;
    connection.on('error', () => undefined);
    return connection;
  }

  async function guardedConnection(): Promise<mysql2.Connection & Core> {
    const connection = connect();
    expect((await run(connection, 'SELECT 1')).error).toBeUndefined();
    return connection;
  }

  async function waitLockFree(lock: string): Promise<void> {
    for (let i = 0; i < 400 && (await lockHolder(admin, lock)) !== null; i += 1) await admin.query('DO SLEEP(0.01)');
  }

  // First in the file: before any guarded connection of this process has been made.
  it('Node\'s writeBuffer taken from a socket\'s prototype before the first guarded connection, called later on a guarded handle with a WriteWrap of process.binding, is read too: GET_LOCK is not written', async () => {
    const lock = 'mg_a6_early_native';
    const raw = net.connect(PORT, HOST);
    raw.on('error', () => undefined);
    await new Promise<void>((resolve) => raw.once('connect', resolve));
    let owner = Object.getPrototypeOf((raw as unknown as { _handle: object })._handle) as Record<string, unknown>;
    while (!Object.prototype.hasOwnProperty.call(owner, 'writeBuffer')) owner = Object.getPrototypeOf(owner) as Record<string, unknown>;
    const native = owner.writeBuffer as (this: Handle, req: object, data: Buffer) => number;
    raw.destroy();
    const connection = await guardedConnection();
    const handle = (connection.stream as unknown as { _handle: Handle })._handle;
    try {
      const { WriteWrap } = (process as unknown as { binding(name: string): { WriteWrap: new () => Record<string, unknown> } }).binding('stream_wrap');
      const req = new WriteWrap();
      req.handle = handle;
      req.oncomplete = () => undefined;
      native.call(handle, req, takeLock(lock));
      // The guarded session either takes the lock (holding it through SLEEP) or is ended by the guard.
      expect(await lockTakenOrSessionGone(admin, lock, serverThreadOf(connection))).toBe('gone');
      expect((await run(connection, 'SELECT 2')).error).toBeDefined();
    } finally {
      connection.destroy();
      await waitLockFree(lock);
    }
  });

  it('the native writeBuffer of the handle\'s prototype, called on the guarded handle with a WriteWrap taken from another socket, is read too: GET_LOCK is not written', async () => {
    const lock = 'mg_a6_proto_write';
    const connection = await guardedConnection();
    const handle = (connection.stream as unknown as { _handle: Handle })._handle;
    // Any socket of the process gives a WriteWrap to copy: its handle's write caught once.
    const raw = net.connect(PORT, HOST);
    raw.on('error', () => undefined);
    await new Promise<void>((resolve) => raw.once('connect', resolve));
    const rawHandle = (raw as unknown as { _handle: Handle })._handle;
    let captured: object | undefined;
    const rawWrite = rawHandle.writeBuffer;
    Object.defineProperty(rawHandle, 'writeBuffer', {
      configurable: true,
      value(this: Handle, req: object, data: Buffer) {
        captured = req;
        return rawWrite.call(this, req, data);
      },
    });
    await new Promise<void>((resolve) => raw.write(Buffer.from('x'), () => resolve()));
    // Node's own method, from the prototype that holds it, not the handle's own property.
    let owner = Object.getPrototypeOf(handle) as Record<string, unknown>;
    while (!Object.prototype.hasOwnProperty.call(owner, 'writeBuffer')) owner = Object.getPrototypeOf(owner) as Record<string, unknown>;
    const native = owner.writeBuffer as (this: Handle, req: object, data: Buffer) => number;
    try {
      const req = new (captured!.constructor as new () => Record<string, unknown>)();
      req.handle = handle;
      req.oncomplete = () => undefined;
      native.call(handle, req, takeLock(lock));
      // Safe behaviour: the guarded session took no lock (it ended first), and the connection fails.
      expect(await lockTakenOrSessionGone(admin, lock, serverThreadOf(connection))).toBe('gone');
      expect((await run(connection, 'SELECT 2')).error).toBeDefined();
      expect(blocked.some((line) => line.startsWith('(command packet)'))).toBe(true);
    } finally {
      connection.destroy();
      raw.destroy();
      await waitLockFree(lock);
    }
  });

  it('a transport the app hands mysql2 (stream option: a Duplex over a socket of its own) is refused: the app\'s socket never has a session to write GET_LOCK to', async () => {
    const lock = 'mg_a6_duplex';
    let raw: net.Socket | undefined;
    const fromServer: Buffer[] = [];
    const connection = connect({
      stream: () => {
        raw = net.connect(PORT, HOST);
        raw.on('error', () => undefined);
        raw.on('data', (bytes: Buffer) => fromServer.push(bytes));
        const duplex = new Duplex({
          write(chunk: Buffer, _encoding, callback) {
            raw!.write(chunk, callback);
          },
          read() {},
        });
        raw.on('data', (bytes: Buffer) => duplex.push(bytes));
        return duplex;
      },
    });
    try {
      const first = await run(connection, 'SELECT 1');
      // Once the guarded connection authenticated over it, the app's socket would be a session of its own.
      // The session the bytes would run in is the app's socket's own: its id is in the server's greeting.
      if (fromServer.length === 0) await once(raw!, 'data');
      const thread = greetingThreadId(Buffer.concat(fromServer));
      raw!.write(takeLock(lock));
      expect({ refused: first.error?.code, outcome: await lockTakenOrSessionGone(admin, lock, thread) }).toEqual({ refused: 'MG_ERR_DB_WIRE_REFUSED', outcome: 'gone' });
    } finally {
      connection.destroy();
      raw?.destroy();
      await waitLockFree(lock);
    }
  });

  it('a net.Socket the app hands mysql2 unconnected (its handle made after the guard looked) is refused: a second socket on that handle has no session to write GET_LOCK to', async () => {
    const lock = 'mg_a6_late_connect';
    const connection = connect({
      stream: () => {
        const socket = new net.Socket();
        queueMicrotask(() => socket.connect(PORT, HOST));
        return socket;
      },
    });
    try {
      const first = await run(connection, 'SELECT 1');
      const handle = (connection.stream as unknown as { _handle: object | null })._handle;
      // The session the bytes would run in is the one whose greeting mysql2 read on that handle.
      const thread = serverThreadOf(connection);
      if (handle !== null) {
        const second = new net.Socket({ handle } as net.SocketConstructorOpts);
        second.on('error', () => undefined);
        second.write(takeLock(lock));
      }
      expect({ refused: first.error?.code, outcome: await lockTakenOrSessionGone(admin, lock, thread) }).toEqual({ refused: 'MG_ERR_DB_WIRE_REFUSED', outcome: 'gone' });
    } finally {
      connection.destroy();
      await waitLockFree(lock);
    }
  });

  it('the socket mysql2 connects, its handle hidden while the guard wraps it and put back after (net.connect replaced by app code), is refused: a second socket on that handle has no session to write GET_LOCK to', async () => {
    const lock = 'mg_a6_hidden_handle';
    const netConnect = net.connect;
    let hidden: { socket: { _handle: unknown }; handle: unknown } | undefined;
    net.connect = function connectHidden(this: unknown, ...args: unknown[]) {
      net.connect = netConnect;
      const socket = (netConnect as (...args: unknown[]) => net.Socket).apply(this, args) as unknown as { _handle: unknown };
      hidden = { socket, handle: socket._handle };
      socket._handle = null;
      return socket as unknown as net.Socket;
    } as typeof net.connect;
    let connection: (mysql2.Connection & Core) | undefined;
    try {
      connection = connect();
      net.connect = netConnect;
      // Back before the connection is made (Node connects to an address on the next tick).
      hidden!.socket._handle = hidden!.handle;
      const first = await run(connection, 'SELECT 1');
      const second = new net.Socket({ handle: hidden!.handle } as net.SocketConstructorOpts);
      second.on('error', () => undefined);
      second.write(takeLock(lock));
      // The handle is the one mysql2 read the server's greeting on: that session is where the bytes would run.
      expect({ failed: first.error !== undefined, outcome: await lockTakenOrSessionGone(admin, lock, serverThreadOf(connection)) }).toEqual({ failed: true, outcome: 'gone' });
    } finally {
      net.connect = netConnect;
      connection?.destroy();
      await waitLockFree(lock);
    }
  });

  for (const how of ['_handle', 'kHandle'] as const) {
    it(`two guarded connections' handles swapped (through ${how}): each handle keeps its own connection's check, and the ANSI_QUOTES session's GET_LOCK never runs`, async () => {
      const lock = `mg_a6_swap_${how}`;
      const ansi = await guardedConnection();
      const plain = await guardedConnection();
      expect((await run(ansi, "SET sql_mode = 'ANSI_QUOTES'")).error).toBeUndefined();
      type Slots = Record<string | symbol, unknown>;
      const key = how === '_handle' ? '_handle' : Object.getOwnPropertySymbols(ansi.stream).find((symbol) => symbol.description === 'kHandle')!;
      const ansiHandle = (ansi.stream as unknown as Slots)[key];
      const plainHandle = (plain.stream as unknown as Slots)[key];
      try {
        (ansi.stream as unknown as Slots)[key] = plainHandle;
        (plain.stream as unknown as Slots)[key] = ansiHandle;
        // Approved for the plain session (a column alias in double quotes, a comment); in the ANSI one a
        // GET_LOCK, held through SLEEP (up to max_statement_time) so that the poll below cannot miss it.
        // The bytes would run in the ANSI session (plain's stream now writes through ansi's handle).
        const attack = run(plain, `SELECT 1 AS "\\", GET_LOCK('${lock}', 0), SLEEP(2) -- "`);
        const outcome = lockTakenOrSessionGone(admin, lock, serverThreadOf(ansi));
        void outcome.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
        const refused = (await attack).error !== undefined;
        // Both sessions ended by the client, once the attack has its answer: whatever reached the server has run by then.
        ansi.destroy();
        plain.destroy();
        expect({ refused, outcome: await outcome }).toEqual({ refused: true, outcome: 'gone' });
      } finally {
        ansi.destroy();
        plain.destroy();
        await waitLockFree(lock);
      }
    });
  }

  it('a decoy kHandle symbol put ahead of Node\'s before the guard wraps the socket does not split the read gate from Node\'s writes: a reply from another socket is not taken for the server\'s', async () => {
    // The real server's reply to a query, recorded on an unguarded connection: what the forgery sends.
    const plain = mysql2.createConnection({ uri: databaseUrl(DATABASE) });
    await new Promise<void>((resolve, reject) => plain.connect((error) => (error ? reject(error) : resolve())));
    const recorded: Buffer[] = [];
    const plainStream = (plain as unknown as Core).stream;
    plainStream.on('data', (bytes: Buffer) => recorded.push(Buffer.from(bytes)));
    await new Promise((resolve) => plain.query("SELECT 'forged' AS v", resolve));
    plain.destroy();
    const forged = Buffer.concat(recorded);
    // Any other socket of the process, to a local server the app controls.
    const { raw, side, close } = await socketPair();
    // The socket mysql2 connects gets a decoy: Symbol('kHandle') holding the same handle, ahead of Node's own.
    type Slots = Record<symbol, unknown> & { _handle: unknown };
    const decoy = Symbol('kHandle');
    let kHandle: symbol | undefined;
    const connect = net.connect;
    net.connect = function connectWithDecoy(this: unknown, ...args: unknown[]) {
      net.connect = connect;
      const socket = (connect as (...args: unknown[]) => net.Socket).apply(this, args) as unknown as Slots;
      kHandle = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'kHandle')!;
      const handle = socket[kHandle];
      delete socket[kHandle];
      socket[decoy] = handle;
      socket[kHandle] = handle;
      return socket as unknown as net.Socket;
    } as typeof net.connect;
    let connection: (mysql2.Connection & Core) | undefined;
    try {
      connection = connect === net.connect ? undefined : await guardedConnection();
      net.connect = connect;
      const stream = connection!.stream as unknown as Slots;
      type StreamHandle = Record<symbol, unknown> & { readStop(): number };
      const own = stream[kHandle!] as StreamHandle;
      const other = (raw as unknown as { _handle: StreamHandle })._handle;
      // The raw handle counted as this socket's (moved in through _handle), Node's slot given its own back.
      stream._handle = other;
      stream[kHandle!] = own;
      // The read gate reads the decoy; Node writes through its own slot, to the server.
      stream[decoy] = other;
      const ownerSymbol = Object.getOwnPropertySymbols(own).find((symbol) => symbol.description === 'owner_symbol')!;
      other[ownerSymbol] = stream;
      own.readStop();
      const answer = run(connection!, "SELECT 'truth' AS v");
      // The forgery sent once mysql2 has written the query and waits for its reply (its Query command past start).
      type Started = { _command?: { sql?: string; next?: unknown; resultsetHeader?: unknown } };
      const started = (): boolean => {
        const command = (connection as unknown as Started)._command;
        return command?.sql === "SELECT 'truth' AS v" && command.next !== undefined && command.next === command.resultsetHeader;
      };
      let settled = false;
      void answer.then(() => (settled = true));
      for (const deadline = Date.now() + 5000; !started() && !settled && Date.now() < deadline; ) await new Promise((resolve) => setImmediate(resolve));
      side.write(forged);
      // No timer: the guard answers (it refuses the connection); a hang fails the test at vitest's testTimeout.
      const result = await answer;
      // Safe behaviour: mysql2 never hands the app the other socket's bytes as the server's reply.
      expect(result).not.toEqual({ rows: [{ v: 'forged' }] });
    } finally {
      net.connect = connect;
      connection?.destroy();
      close();
    }
  });

  describe('TLS, on a private server', () => {
    let server: ThrowawayMariadb;
    let tlsAdmin: Connection;

    beforeAll(async () => {
      const tls = privateDir('mirrorguard-tls-');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tls, 'key.pem'), '-out', join(tls, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
      server = await startMariadbServer({ args: [`--ssl-cert=${join(tls, 'cert.pem')}`, `--ssl-key=${join(tls, 'key.pem')}`] });
      tlsAdmin = await mysql2Promise.createConnection({ host: server.host, port: server.port, user: server.user });
      await tlsAdmin.query('CREATE DATABASE tlsdb');
      await tlsAdmin.query('CREATE TABLE tlsdb.t (id INT PRIMARY KEY)');
    }, 120_000);

    afterAll(async () => {
      await tlsAdmin?.end();
      await server?.kill();
    });

    const serverOptions = () => ({ host: server.host, port: server.port, user: server.user, database: 'tlsdb' });

    // First in this block: before any guarded TLS connection of this process has been made.
    it('Node\'s writeBuffer of TLS handles, taken before the first guarded TLS connection and called later on its TLS handle, is read too: GET_LOCK is not written', async () => {
      const lock = 'mg_a6_early_tls_native';
      const { TLSSocket } = await import('node:tls');
      const spare = new TLSSocket(null as never);
      let owner = Object.getPrototypeOf((spare as unknown as { _handle: object })._handle) as Record<string, unknown>;
      while (!Object.prototype.hasOwnProperty.call(owner, 'writeBuffer')) owner = Object.getPrototypeOf(owner) as Record<string, unknown>;
      const native = owner.writeBuffer as (this: Handle, req: object, data: Buffer) => number;
      spare.destroy();
      const connection = guardMysql2(mysql2, { ...options, journal }).createConnection({ ...serverOptions(), ssl: { rejectUnauthorized: false } }) as mysql2.Connection & Core;
      connection.on('error', () => undefined);
      try {
        expect((await run(connection, 'SELECT 1')).error).toBeUndefined();
        const handle = (connection.stream as unknown as { _handle: Handle })._handle;
        const { WriteWrap } = (process as unknown as { binding(name: string): { WriteWrap: new () => Record<string, unknown> } }).binding('stream_wrap');
        const req = new WriteWrap();
        req.handle = handle;
        req.oncomplete = () => undefined;
        native.call(handle, req, takeLock(lock));
        expect(await lockTakenOrSessionGone(tlsAdmin, lock, serverThreadOf(connection))).toBe('gone');
      } finally {
        connection.destroy();
      }
    });

    it('a new connection\'s handle first put under the TCP socket of a TLS connection (whose check passes ciphertext) is not written unread: no row, no lock', async () => {
      const lock = 'mg_a6_retired';
      const guarded = guardMysql2(mysql2, { ...options, journal });
      const tlsConnection = guarded.createConnection({ ...serverOptions(), ssl: { rejectUnauthorized: false } }) as mysql2.Connection & Core;
      tlsConnection.on('error', () => undefined);
      const tcp = tlsConnection.stream as unknown as { _handle: unknown };
      expect((await run(tlsConnection, 'SELECT 1')).error).toBeUndefined();
      expect(tlsConnection.stream).not.toBe(tcp);
      // The next socket mysql2 connects: its handle moved into the retired TCP socket and back
      // before the guard wraps it (net.connect replaced by app code, no mysql2 option needed).
      const connect = net.connect;
      net.connect = function connectAndLend(this: unknown, ...args: unknown[]) {
        net.connect = connect;
        const socket = (connect as (...args: unknown[]) => net.Socket).apply(this, args);
        const own = tcp._handle;
        tcp._handle = (socket as unknown as { _handle: unknown })._handle;
        tcp._handle = own;
        return socket;
      } as typeof net.connect;
      let victim: (mysql2.Connection & Core) | undefined;
      try {
        victim = guarded.createConnection(serverOptions()) as mysql2.Connection & Core;
        net.connect = connect;
        victim.on('error', () => undefined);
        // As soon as the handshake is answered: the session made read-write, a row, a lock.
        victim.once('connect', () => victim!.stream.write(Buffer.concat([comQuery('SET SESSION TRANSACTION READ WRITE'), comQuery('INSERT INTO tlsdb.t VALUES (1)'), takeLock(lock)])));
        await run(victim, 'SELECT 1');
        // The pipeline ends in the lock held through SLEEP: once the session is gone, nothing of it is left to run.
        const outcome = await lockTakenOrSessionGone(tlsAdmin, lock, serverThreadOf(victim));
        const [rows] = await tlsAdmin.query<RowDataPacket[]>('SELECT id FROM tlsdb.t');
        expect({ outcome, rows: rows.length }).toEqual({ outcome: 'gone', rows: 0 });
      } finally {
        net.connect = connect;
        victim?.destroy();
        tlsConnection.destroy();
      }
    });
  });
});

import type { AddressInfo } from 'node:net';
import mysql2 from 'mysql2';
import mysql2Promise from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardMysql2 } from '@mirrorguard/db-readonly';

// The rest of a MySQL 8 session as the guard pins it (utf8mb4, a statement time bound it set).
const MYSQL_SESSION = [
  ['sql_mode', 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES'],
  ['character_set_client', 'utf8mb4'],
  ['character_set_connection', 'utf8mb4'],
  ['transaction_isolation', 'REPEATABLE-READ'],
  ['max_execution_time', '10000'],
  ['session_track_state_change', 'ON'],
];

// A MySQL server that is not MariaDB: it accepts everything, and answers the read-only check with
// what `readOnly` says. It stands in for a proxy or a server that ignores SET SESSION TRANSACTION
// READ ONLY, which a real MariaDB never does.
// The parts of mysql2's server side the fake uses (its typings describe them only loosely).
interface ServerConnection {
  sequenceId: number;
  stream: { destroy(): void };
  on(event: string, listener: (...args: never[]) => void): void;
  serverHandshake(options: object): void;
  writeOk(): void;
  writeColumns(columns: object[]): void;
  writeTextRow(row: unknown[]): void;
  writeEof(): void;
}
interface FakeMysqlServer {
  on(event: 'connection', listener: (connection: ServerConnection) => void): void;
  listen(port: number, host: string, callback: () => void): void;
  close(callback: () => void): void;
  _server: { address(): AddressInfo };
}

function fakeServer(readOnly: 'ON' | 'OFF') {
  const received: string[] = [];
  const server = (mysql2.createServer as unknown as () => FakeMysqlServer)();
  let id = 0;
  const connections: ServerConnection[] = [];
  server.on('connection', (connection) => {
    connections.push(connection);
    // A client hanging up (the guard destroys what it cannot confirm) is the expected end here.
    connection.on('error', () => undefined);
    connection.serverHandshake({
      protocolVersion: 10,
      serverVersion: '10.11.0-fake',
      connectionId: ++id,
      statusFlags: 2,
      characterSet: 8,
      capabilityFlags: 0xffffff,
      authCallback: (_params: unknown, callback: (error: null) => void) => callback(null),
    });
    // Its packet sequence drifts between commands, so each answer sets it: 1 to start, 0 once done.
    const answer = (sql: string): void => {
      received.push(sql);
      connection.sequenceId = 1;
      const column = (name: string) => ({ catalog: 'def', schema: '', table: '', orgTable: '', name, orgName: name, characterSet: 33, columnLength: 256, columnType: 253, flags: 0, decimals: 0 });
      const rows = sql.startsWith('SHOW SESSION VARIABLES') ? [['transaction_read_only', readOnly], ...MYSQL_SESSION] : sql === 'SHOW GRANTS FOR CURRENT_USER()' ? [['GRANT SELECT ON *.* TO `mirror`@`%`']] : undefined;
      if (rows === undefined) {
        connection.writeOk();
      } else {
        connection.writeColumns(rows[0]!.map((_, index) => column(index === 0 ? 'Variable_name' : 'Value')));
        for (const row of rows) connection.writeTextRow(row);
        connection.writeEof();
      }
      connection.sequenceId = 0;
    };
    // mysql2's server reports queries that start with SET as `stmt_prepare`.
    connection.on('query', answer);
    connection.on('stmt_prepare', answer);
  });
  return {
    received,
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server._server.address().port))),
    // A half-closed client socket would keep close() waiting: the server's side is ended here.
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) connection.stream.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('a server that does not confirm read-only', () => {
  const liar = fakeServer('OFF');
  const honest = fakeServer('ON');
  let liarUrl: string;
  let honestUrl: string;

  beforeAll(async () => {
    liarUrl = `mysql://mirror@127.0.0.1:${await liar.listen()}/shop`;
    honestUrl = `mysql://mirror@127.0.0.1:${await honest.listen()}/shop`;
  });
  afterAll(async () => {
    await liar.close();
    await honest.close();
  });

  it('gets no statement from the app: the pool refuses the connection and destroys it', async () => {
    const pool = guardMysql2(mysql2Promise).createPool({ uri: liarUrl, connectionLimit: 1 });
    await expect(pool.getConnection()).rejects.toMatchObject({ code: 'MG_ERR_DB_NOT_READ_ONLY', message: expect.stringContaining('not read-only') });
    await expect(pool.query('SELECT * FROM products')).rejects.toMatchObject({ code: 'MG_ERR_DB_NOT_READ_ONLY' });
    await pool.end();
    expect(liar.received.filter((sql) => sql.includes('products'))).toEqual([]);
    expect(liar.received).toContain('SET SESSION TRANSACTION READ ONLY');
  });

  it('fails a connection made on its own, and the statements queued on it', async () => {
    await expect(guardMysql2(mysql2Promise).createConnection({ uri: liarUrl })).rejects.toMatchObject({ code: 'MG_ERR_DB_NOT_READ_ONLY' });
    const connection = guardMysql2(mysql2).createConnection({ uri: liarUrl });
    const error = await new Promise((resolve) => connection.query('SELECT * FROM products WHERE id = 1', (err) => resolve(err)));
    expect(error).toMatchObject({ code: 'MG_ERR_DB_NOT_READ_ONLY' });
    expect(liar.received.filter((sql) => sql.includes('products'))).toEqual([]);
  });

  it('serves the app once a server confirms it (the fake server itself works)', async () => {
    const pool = guardMysql2(mysql2Promise).createPool({ uri: honestUrl, connectionLimit: 1 });
    await pool.query('SELECT * FROM products');
    await pool.end();
    expect(honest.received).toEqual([
      'SHOW GRANTS FOR PUBLIC',
      'SHOW GRANTS FOR CURRENT_USER()',
      'SET SESSION TRANSACTION READ ONLY',
      'SET SESSION session_track_state_change = ON',
      'SET SESSION max_statement_time = 10, SESSION idle_transaction_timeout = 10',
      'SET SESSION max_execution_time = 10000',
      'SET SESSION net_write_timeout = 10',
      expect.stringMatching(/^SHOW SESSION VARIABLES/),
      'SELECT * FROM products',
    ]);
  });
});

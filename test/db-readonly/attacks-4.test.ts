import mysql2 from 'mysql2';
import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardMysql2, type GuardMysql2Options } from '@mirrorguard/db-readonly';
import { READ_SESSION_STATE } from '../../packages/db-readonly/src/server/session-state.ts';
import { ANSI_ONLY_LOCK, packets, lengthEncoded, forgedReadBack } from './forged-replies.ts';
import { databaseUrl, endSessionsIn, lockHolder, primaryWaits, run } from './server-oracles.ts';
import { startMariadbServer } from '../support/mariadb-server.ts';
import { MYSQL_URL } from '../support/servers.ts';

// Attack round 4 on "no built-in with state past the session" (server-functions.ts) and on the
// guard's own statements (own-statements.ts, wasSent). Oracles are the server's own, read on an
// unguarded connection: IS_USED_LOCK, the UUID_SHORT counter, a sequence's next_not_cached_value.
const DATABASE = 'mirrorguard_attacks_4';
const options: GuardMysql2Options = { dialect: 'mariadb', maxStatementTimeMs: 1500 };
/** Rows in the tables whose columns compute UUID_SHORT(): a statement that reads them all draws this many values. */
const ROWS = 20;

async function waitLockFree(admin: Connection, lock: string): Promise<void> {
  for (let i = 0; i < 200 && (await lockHolder(admin, lock)) !== null; i += 1) await admin.query('DO SLEEP(0.01)');
}

/** The server-wide UUID_SHORT counter, as the next value an unguarded session draws. */
async function uuidShort(admin: Connection): Promise<bigint> {
  const [[row]] = await admin.query<RowDataPacket[]>('SELECT CAST(UUID_SHORT() AS CHAR) AS u');
  return BigInt(String(row!.u));
}

async function nextNotCached(admin: Connection): Promise<number> {
  const [[row]] = await admin.query<RowDataPacket[]>('SELECT next_not_cached_value AS n FROM seq');
  return Number(row!.n);
}

/** A guarded callback-API connection, confirmed read-only. */
async function guardedConnection(extra: mysql2.ConnectionOptions = {}): Promise<mysql2.Connection> {
  const connection = guardMysql2(mysql2, options).createConnection({ uri: databaseUrl(DATABASE), ...extra });
  const first = await run(connection, 'SELECT 1');
  expect(first.error).toBeUndefined();
  return connection;
}

/** `SHOW SESSION VARIABLES` rows (arrays of name and value) with ANSI_QUOTES taken out of sql_mode. */
function withoutAnsiQuotes(rows: unknown): unknown {
  if (!Array.isArray(rows)) return rows;
  return rows.map((row) =>
    Array.isArray(row) && String(row[0]).toLowerCase() === 'sql_mode'
      ? [row[0], String(row[1]).split(',').filter((mode) => mode !== 'ANSI_QUOTES').join(',')]
      : row,
  );
}

// Under ANSI_QUOTES the server reads `"\"` as a quoted name (no escapes in names), so GET_LOCK is
// code and `-- "` a comment; read without ANSI_QUOTES, everything after AS is one string.

describe('attacks 4: built-ins with state past the session, and the guard\'s own statements', () => {
  let admin: Connection;

  beforeAll(async () => {
    const root = await mysql2Promise.createConnection({ uri: MYSQL_URL });
    await root.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await root.query(`CREATE DATABASE ${DATABASE}`);
    await root.query(`USE ${DATABASE}`);
    await root.query('CREATE SEQUENCE seq');
    await root.query('CREATE TABLE victim (id INT PRIMARY KEY, name VARCHAR(64)) ENGINE=InnoDB');
    await root.query("INSERT INTO victim VALUES (1, 'sql_mode')");
    // The primary's schema: ids drawn from UUID_SHORT() by default, a sequence-backed column, and a
    // virtual column computed by UUID_SHORT() (MariaDB accepts it; it refuses GET_LOCK and NEXTVAL there).
    await root.query('CREATE TABLE by_default (k INT, u BIGINT DEFAULT UUID_SHORT())');
    await root.query('CREATE TABLE by_sequence (k INT, id BIGINT DEFAULT NEXTVAL(seq))');
    await root.query('CREATE TABLE computed (k INT, v BIGINT AS (UUID_SHORT()) VIRTUAL)');
    const values = Array.from({ length: ROWS }, (_, i) => `(${i})`).join(', ');
    await root.query(`INSERT INTO by_default (k) VALUES ${values}`);
    await root.query(`INSERT INTO by_sequence (k) VALUES ${values}`);
    await root.query(`INSERT INTO computed (k) VALUES ${values}`);
    await root.end();
    admin = await mysql2Promise.createConnection({ uri: databaseUrl(DATABASE) });
    await admin.query('SET SESSION innodb_lock_wait_timeout = 1, SESSION lock_wait_timeout = 2');
  });

  afterAll(async () => {
    await endSessionsIn(admin, DATABASE);
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.end();
  });

  // ---- 1. built-ins with state past the session ----

  it('every spelling of a GET_LOCK call the server resolves is refused: comments, quotes, schema, ODBC escape, IGNORE_SPACE, other Unicode forms', async () => {
    const lock = 'mg_a4_spelling';
    const spellings = [
      `SELECT GET_LOCK /* c */ ('${lock}', 0)`,
      `SELECT GET_LOCK -- c\n('${lock}', 0)`,
      `SELECT GET_LOCK # c\n('${lock}', 0)`,
      `SELECT \`get_lock\`('${lock}', 0)`,
      `SELECT \`GET_LOCK\` ('${lock}', 0)`,
      `SELECT mariadb_schema.get_lock('${lock}', 0)`,
      `SELECT mariadb_schema . \`get_lock\` ('${lock}', 0)`,
      `SELECT {fn GET_LOCK('${lock}', 0)}`,
      `SELECT 1 FROM dual WHERE 0 < GET_LOCK\t('${lock}', 0)`,
      `SELECT (SELECT get_lock('${lock}', 0)) AS x`,
      `SELECT GÉT_LOCK('${lock}', 0)`,
      `SELECT ｇet_lock('${lock}', 0)`,
    ];
    for (const sqlMode of ['', 'IGNORE_SPACE', 'ANSI_QUOTES']) {
      const connection = await guardedConnection();
      try {
        if (sqlMode !== '') expect((await run(connection, `SET sql_mode = '${sqlMode}'`)).error).toBeUndefined();
        for (const sql of [...spellings, `SELECT "get_lock"('${lock}', 0)`]) {
          await run(connection, sql);
          expect({ sqlMode, sql, holder: await lockHolder(admin, lock) }).toEqual({ sqlMode, sql, holder: null });
        }
      } finally {
        connection.destroy();
        await waitLockFree(admin, lock);
      }
    }
  });

  it('NEXTVAL, SETVAL and NEXT VALUE FOR in any spelling, and DEFAULT() of a sequence-backed column, leave the sequence as it was', async () => {
    const connection = await guardedConnection();
    try {
      const before = await nextNotCached(admin);
      for (const sql of [
        'SELECT NEXTVAL(seq)',
        'SELECT nextval /**/ (seq)',
        'SELECT SETVAL(seq, 100000)',
        'SELECT NEXT /* x */ VALUE /* y */ FOR seq',
        'SELECT next value for seq',
        `SELECT DEFAULT(id) FROM by_sequence`,
        `SELECT k FROM by_sequence WHERE k = DEFAULT(id)`,
      ]) {
        await run(connection, sql);
      }
      expect(await nextNotCached(admin)).toBe(before);
    } finally {
      connection.destroy();
    }
  });

  it('SELECT DEFAULT(u) of a column whose default is UUID_SHORT() is refused: DEFAULT() runs an expression the classifier never sees', async () => {
    const connection = await guardedConnection();
    try {
      const before = await uuidShort(admin);
      const result = await run(connection, 'SELECT DEFAULT(u) AS u FROM by_default');
      const after = await uuidShort(admin);
      // Safe behaviour: refused, or at least no value drawn: the unguarded session's next value follows its last.
      expect({ refused: result.error !== undefined, drawn: after - before - 1n < 5n }).toEqual({ refused: true, drawn: true });
    } finally {
      connection.destroy();
    }
  });

  it.fails('HOLE: a plain SELECT of a virtual column computed by UUID_SHORT() advances the server-wide counter (classifier: a schema body it never sees)', async () => {
    const connection = await guardedConnection();
    try {
      const before = await uuidShort(admin);
      const result = await run(connection, 'SELECT * FROM computed');
      const after = await uuidShort(admin);
      expect(result.error).toBeUndefined();
      // Safe behaviour: no value drawn (here: ROWS values, one per row read).
      expect(after - before - 1n).toBeLessThan(5n);
    } finally {
      connection.destroy();
    }
  });

  it('SELECT from information_schema.INNODB_CMP_RESET is refused: it would zero the server-wide InnoDB compression counters (PROCESS, which requireReadOnlyAccount accepts, is enough to read it)', async () => {
    // A private server: the counters are server-wide.
    const server = await startMariadbServer();
    try {
      const root = await mysql2Promise.createConnection({ uri: server.url });
      try {
        await root.query('CREATE DATABASE cmp');
        await root.query('CREATE TABLE cmp.packed (id INT PRIMARY KEY, body TEXT) ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=4');
        for (let i = 0; i < 40; i += 1) await root.query('INSERT INTO cmp.packed VALUES (?, REPEAT(?, 600))', [i, `row ${i} `]);
        const operations = async (): Promise<number> => {
          const [rows] = await root.query<RowDataPacket[]>('SELECT SUM(compress_ops) AS ops FROM information_schema.INNODB_CMP');
          return Number(rows[0]!.ops);
        };
        const before = await operations();
        expect(before).toBeGreaterThan(0);
        // The mirror's account: SELECT, and PROCESS (which requireReadOnlyAccount counts as read-only).
        for (const host of ['%', 'localhost', '127.0.0.1']) {
          await root.query(`CREATE USER 'mirror'@'${host}' IDENTIFIED BY 'mirror-pw'`);
          await root.query(`GRANT SELECT ON cmp.* TO 'mirror'@'${host}'`);
          await root.query(`GRANT PROCESS ON *.* TO 'mirror'@'${host}'`);
        }
        const mirror = guardMysql2(mysql2, { ...options, requireReadOnlyAccount: true }).createConnection({ uri: databaseUrl('cmp', { name: 'mirror', password: 'mirror-pw' }, server.url) });
        try {
          expect((await run(mirror, 'SELECT 1')).error).toBeUndefined();
          await run(mirror, 'SELECT page_size, compress_ops FROM information_schema.INNODB_CMP_RESET');
        } finally {
          mirror.destroy();
        }
        // Safe behaviour: the counters the primary's monitoring reads are as they were.
        expect(await operations()).toBe(before);
      } finally {
        await root.end();
      }
    } finally {
      await server.kill();
    }
  }, 60_000);

  it('a subquery in SHOW … WHERE is refused: inside a mirror transaction it would hold share locks the primary\'s UPDATE waits on (to InnoDB SHOW is not a SELECT)', async () => {
    const connection = await guardedConnection();
    try {
      expect((await run(connection, 'START TRANSACTION')).error).toBeUndefined();
      const show = await run(connection, 'SHOW SESSION VARIABLES WHERE Variable_name = (SELECT name FROM victim WHERE id = 1)');
      expect(show.error).toBeDefined();
      // Without a subquery, SHOW … WHERE still reads.
      expect((await run(connection, "SHOW SESSION VARIABLES WHERE Variable_name = 'sql_mode'")).error).toBeUndefined();
      // Safe behaviour: the primary's write goes through at once.
      expect(await primaryWaits(admin, "UPDATE victim SET name = 'sql_mode' WHERE id = 1")).toBe(false);
    } finally {
      connection.destroy();
    }
  });

  // ---- 2. the guard's own statements ----

  it('the guard\'s read-back taken out of mysql2\'s queue and answered with made-up rows fails the connection: the reply was never written', async () => {
    const lock = 'mg_a4_unsent';
    const connection = await guardedConnection();
    type Command = { sql?: unknown; onResult?: (error: unknown, rows?: unknown) => void };
    const core = connection as unknown as { _commands: { length: number; shift(): Command | undefined; push(command: Command): void } };
    try {
      const set = run(connection, "SET sql_mode = 'ANSI_QUOTES'");
      // The read-back queued right behind the SET: taken out and answered as if the server had.
      const queued: Command[] = [];
      while (core._commands.length > 0) queued.push(core._commands.shift()!);
      const readBack = queued.find((command) => command.sql === READ_SESSION_STATE);
      for (const command of queued) if (command !== readBack) core._commands.push(command);
      expect(readBack).toBeDefined();
      await set;
      readBack!.onResult!(null, [['transaction_read_only', '1'], ['sql_mode', 'STRICT_TRANS_TABLES'], ['session_track_state_change', 'ON']]);
      const attack = await run(connection, ANSI_ONLY_LOCK(lock));
      expect({ code: attack.error?.code, holder: await lockHolder(admin, lock) }).toEqual({ code: 'MG_ERR_DB_WIRE_REFUSED', holder: null });
    } finally {
      connection.destroy();
      await waitLockFree(admin, lock);
    }
  });

  it('onResult of the guard\'s read-back, wrapped while it waits in connection._commands, cannot forge the session\'s sql_mode: the reply is read from the socket, and a GET_LOCK hidden in an ANSI_QUOTES name does not run', async () => {
    const lock = 'mg_a4_onresult';
    const connection = await guardedConnection();
    type Command = { sql?: unknown; onResult?: (error: unknown, rows?: unknown) => void };
    const core = connection as unknown as { _commands: { toArray(): Command[] } };
    try {
      const set = run(connection, "SET sql_mode = 'ANSI_QUOTES'");
      // The guard's read-back was sent by mysql2's own addCommand, and it will be written: only what
      // its callback is handed changes.
      for (const command of core._commands.toArray()) {
        if (command.sql !== READ_SESSION_STATE) continue;
        const onResult = command.onResult!;
        command.onResult = (error, rows) => onResult(error, withoutAnsiQuotes(rows));
      }
      expect((await set).error).toBeUndefined();
      await run(connection, ANSI_ONLY_LOCK(lock));
      // Safe behaviour: the statement was read as the server reads it, and refused.
      expect(await lockHolder(admin, lock)).toBeNull();
    } finally {
      connection.destroy();
      await waitLockFree(admin, lock);
    }
  });

  it('a typeCast function in the connection\'s config does not parse the guard\'s own read-back rows: no forged sql_mode, and a GET_LOCK hidden in an ANSI_QUOTES name does not run', async () => {
    const lock = 'mg_a4_typecast';
    let variable = '';
    // An app's config option: mysql2 applies a config-wide typeCast function to every query whose
    // own typeCast is not a function, the guard's `typeCast: true` included. (A timezone of its
    // own keeps mysql2's parser cache from handing back a parser compiled without it.)
    const typeCast = (field: { name: string }, next: () => unknown): unknown => {
      const value = next();
      if (field.name === 'Variable_name') variable = String(value).toLowerCase();
      else if (field.name === 'Value' && variable === 'sql_mode') {
        return String(value).split(',').filter((mode) => mode !== 'ANSI_QUOTES').join(',');
      }
      return value;
    };
    const connection = await guardedConnection({ typeCast: typeCast as NonNullable<mysql2.ConnectionOptions['typeCast']>, timezone: '+04:17' });
    try {
      expect((await run(connection, "SET sql_mode = 'ANSI_QUOTES'")).error).toBeUndefined();
      await run(connection, ANSI_ONLY_LOCK(lock));
      expect(await lockHolder(admin, lock)).toBeNull();
    } finally {
      connection.destroy();
      await waitLockFree(admin, lock);
    }
  });

  it('the same typeCast option cannot forge SHOW GRANTS: requireReadOnlyAccount refuses the connection of an account that can write', async () => {
    const typeCast = (field: { name: string }, next: () => unknown): unknown => {
      const value = next();
      return field.name.startsWith('Grants for ') ? 'GRANT SELECT ON *.* TO `mirror`@`%`' : value;
    };
    const connection = guardMysql2(mysql2, { ...options, requireReadOnlyAccount: true }).createConnection({
      uri: databaseUrl(DATABASE),
      typeCast: typeCast as NonNullable<mysql2.ConnectionOptions['typeCast']>,
      timezone: '+05:23',
    });
    try {
      const user = await run(connection, 'SELECT CURRENT_USER() AS user');
      // The server's own word on the account the guarded session runs as.
      const [[grants]] = await admin.query<RowDataPacket[]>('SHOW GRANTS FOR CURRENT_USER()');
      expect(String(Object.values(grants!)[0])).toContain('ALL PRIVILEGES');
      // Safe behaviour: the connection is refused.
      expect(user.error?.code).toBe('MG_ERR_DB_ACCOUNT_CAN_WRITE');
    } finally {
      connection.destroy();
    }
  });

  it('packets pushed into connection._paused_packets while _paused is set are not taken for the server\'s reply to the guard\'s read-back: a forged sql_mode row fails the connection, and a GET_LOCK hidden in an ANSI_QUOTES name does not run', async () => {
    const lock = 'mg_a4_paused';
    const connection = await guardedConnection();
    type Packet = { buffer: Buffer; start: number; end: number; offset: number; sequenceId: number; constructor: new (id: number, buffer: Buffer, start: number, end: number) => Packet };
    const core = connection as unknown as { _paused: boolean; _paused_packets: { length: number; toArray(): Packet[]; shift(): Packet | undefined; push(packet: Packet): void }; resume(): void };
    const isEof = (packet: Packet): boolean => packet.buffer[packet.offset] === 0xfe && packet.end - packet.start - 4 < 13;
    try {
      // No method replaced: mysql2's own flag makes handlePacket queue every packet, and its own
      // resume() hands the queue to the command in flight, the guard's read-back.
      // The SET's reply is handled, and mysql2 has written the read-back, before its callback runs
      // (on the next tick), so before any reply to the read-back can arrive.
      expect((await run(connection, "SET sql_mode = 'ANSI_QUOTES'")).error).toBeUndefined();
      core._paused = true;
      // The read-back's column count, definitions, EOF, rows and EOF.
      // Until the reply is all there (a busy server can take longer than a few hundred turns of the loop).
      for (const deadline = Date.now() + 5_000; Date.now() < deadline && core._paused_packets.toArray().filter(isEof).length < 2; ) await new Promise((resolve) => setImmediate(resolve));
      const packets = core._paused_packets.toArray();
      expect(packets.filter(isEof).length).toBe(2);
      const lenenc = (text: string): Buffer => Buffer.concat([Buffer.of(Buffer.byteLength(text)), Buffer.from(text)]);
      while (core._paused_packets.length > 0) core._paused_packets.shift();
      for (const packet of packets) {
        const payload = packet.buffer.subarray(packet.offset, packet.end);
        if (!payload.includes('sql_mode') || !payload.includes('ANSI_QUOTES')) {
          core._paused_packets.push(packet);
          continue;
        }
        const forged = Buffer.concat([lenenc('sql_mode'), lenenc('STRICT_TRANS_TABLES')]);
        const header = Buffer.alloc(4);
        header.writeUIntLE(forged.length, 0, 3);
        header[3] = packet.sequenceId;
        const bytes = Buffer.concat([header, forged]);
        core._paused_packets.push(new packet.constructor(packet.sequenceId, bytes, 0, bytes.length));
      }
      core.resume();
      await run(connection, ANSI_ONLY_LOCK(lock));
      expect(await lockHolder(admin, lock)).toBeNull();
    } finally {
      connection.destroy();
      await waitLockFree(admin, lock);
    }
  });

  for (const injection of ['push', 'unshift', "emit('data')"] as const) {
    it(`a made-up reply to the guard's read-back handed to the socket with ${injection} before the server's arrives is not taken for the server's: the connection fails, and a GET_LOCK hidden in an ANSI_QUOTES name does not run`, async () => {
      const lock = 'mg_a4_inject';
      const blocked: string[] = [];
      const journal = { record: (event: { action: string; operation: string }) => void (event.action === 'blocked' && blocked.push(event.operation)) } as unknown as NonNullable<GuardMysql2Options['journal']>;
      const connection = guardMysql2(mysql2, { ...options, journal }).createConnection({ uri: databaseUrl(DATABASE) });
      expect((await run(connection, 'SELECT 1')).error).toBeUndefined();
      const stream = (connection as unknown as { stream: { push(bytes: Buffer): unknown; unshift(bytes: Buffer): unknown; emit(event: string, bytes: Buffer): unknown } }).stream;
      try {
        // The SET's reply is handled, and the read-back written, before its callback runs: the
        // server's reply to the read-back has not been read yet.
        const set = await new Promise<unknown>((resolve) =>
          connection.query("SET sql_mode = 'ANSI_QUOTES'", (error) => {
            const bytes = forgedReadBack();
            if (injection === 'push') stream.push(bytes);
            else if (injection === 'unshift') stream.unshift(bytes);
            else stream.emit('data', bytes);
            resolve(error);
          }),
        );
        expect(set).toBeNull();
        const attack = await run(connection, ANSI_ONLY_LOCK(lock));
        // The connection failed (mysql2 then reports it closed to later queries): bytes pushed or
        // put back are refused as they are handed over; bytes emitted reach mysql2 only, and its
        // answer to the read-back has no reply from the socket.
        const layer = injection === "emit('data')" ? '(guard statement)' : '(read)';
        expect({ failed: attack.error !== undefined, holder: await lockHolder(admin, lock), blocked }).toEqual({ failed: true, holder: null, blocked: [layer] });
      } finally {
        connection.destroy();
        await waitLockFree(admin, lock);
      }
    });
  }

  it('handlePacket replaced on the instance to rewrite the guard\'s read-back rows cannot forge the session\'s sql_mode: the reply is read from the socket, and the connection fails', async () => {
    const lock = 'mg_a4_handle_packet';
    const connection = await guardedConnection();
    type Packet = { buffer: Buffer; start: number; end: number; offset: number; sequenceId: number; constructor: new (id: number, buffer: Buffer, start: number, end: number) => Packet };
    const core = connection as unknown as { handlePacket(packet?: Packet): void };
    const handlePacket = core.handlePacket;
    core.handlePacket = function rewritten(this: unknown, packet?: Packet) {
      const payload = packet?.buffer.subarray(packet.offset, packet.end);
      if (packet === undefined || payload === undefined || !payload.includes('sql_mode') || !payload.includes('ANSI_QUOTES')) return handlePacket.call(this, packet);
      const bytes = packets(packet.sequenceId, [Buffer.concat([lengthEncoded('sql_mode'), lengthEncoded('STRICT_TRANS_TABLES')])]);
      return handlePacket.call(this, new packet.constructor(packet.sequenceId, bytes, 0, bytes.length));
    };
    try {
      await run(connection, "SET sql_mode = 'ANSI_QUOTES'");
      const attack = await run(connection, ANSI_ONLY_LOCK(lock));
      expect({ code: attack.error?.code, holder: await lockHolder(admin, lock) }).toEqual({ code: 'MG_ERR_DB_WIRE_REFUSED', holder: null });
    } finally {
      connection.destroy();
      await waitLockFree(admin, lock);
    }
  });

  it('an app\'s own parsing options (a typeCast to booleans, dateStrings, supportBigNumbers, rowsAsArray, nestTables) shape its results as without the guard, and not the guard\'s, which still judges what the server sent', async () => {
    const lock = 'mg_a4_app_options';
    await admin.query('CREATE TABLE IF NOT EXISTS app_types (id INT PRIMARY KEY, flag TINYINT(1), at DATETIME, big BIGINT UNSIGNED)');
    await admin.query("REPLACE INTO app_types VALUES (1, 1, '2024-01-02 03:04:05', 18446744073709551615)");
    // What an app configures: TINYINT(1) as booleans, everything else parsed mysql2's way.
    const typeCast = (field: { type: string; length: number; string(): string | null }, next: () => unknown): unknown =>
      field.type === 'TINY' && field.length === 1 ? field.string() === '1' : next();
    const parsing = { typeCast: typeCast as NonNullable<mysql2.ConnectionOptions['typeCast']>, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true } satisfies mysql2.ConnectionOptions;
    const query = (connection: mysql2.Connection, sql: string | mysql2.QueryOptions): Promise<unknown> =>
      new Promise((resolve) => connection.query(sql as string, (error: unknown, rows: unknown) => resolve(error ?? rows)));
    const cases = [
      { config: { ...parsing, rowsAsArray: true }, expected: [[1, true, '2024-01-02 03:04:05', '18446744073709551615']] },
      { config: { ...parsing, nestTables: true }, expected: [{ app_types: { id: 1, flag: true, at: '2024-01-02 03:04:05', big: '18446744073709551615' } }] },
    ];
    for (const { config, expected } of cases) {
      const raw = mysql2.createConnection({ uri: databaseUrl(DATABASE), ...config });
      const connection = await guardedConnection(config);
      try {
        // The app's queries are parsed its way, exactly as mysql2 parses them without the guard.
        for (const sql of ['SELECT id, flag, at, big FROM app_types WHERE id = 1', { sql: 'SELECT id, flag FROM app_types', nestTables: true }, { sql: 'SELECT id, flag FROM app_types', nestTables: '_' }]) {
          expect({ sql, rows: await query(connection, sql) }).toEqual({ sql, rows: await query(raw, sql) });
        }
        expect(await query(connection, 'SELECT id, flag, at, big FROM app_types WHERE id = 1')).toEqual(expected);
        // The guard's read-back is judged as the server sent it: ANSI_QUOTES followed, the lock refused.
        expect((await run(connection, "SET sql_mode = 'ANSI_QUOTES'")).error).toBeUndefined();
        const attack = await run(connection, ANSI_ONLY_LOCK(lock));
        expect({ code: attack.error?.code, holder: await lockHolder(admin, lock) }).toEqual({ code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', holder: null });
        expect(await query(connection, 'SELECT id, flag, at, big FROM app_types WHERE id = 1')).toEqual(expected);
      } finally {
        connection.destroy();
        raw.destroy();
        await waitLockFree(admin, lock);
      }
      // And the account's grants as the server sent them: this account can write, so it is refused.
      const strict = guardMysql2(mysql2, { ...options, requireReadOnlyAccount: true }).createConnection({ uri: databaseUrl(DATABASE), ...config });
      try {
        expect((await run(strict, 'SELECT 1')).error?.code).toBe('MG_ERR_DB_ACCOUNT_CAN_WRITE');
      } finally {
        strict.destroy();
      }
    }
  });

  it('the same statement is refused when nothing forges the read-back: the guard follows ANSI_QUOTES', async () => {
    const lock = 'mg_a4_honest';
    const connection = await guardedConnection();
    try {
      expect((await run(connection, "SET sql_mode = 'ANSI_QUOTES'")).error).toBeUndefined();
      const attack = await run(connection, ANSI_ONLY_LOCK(lock));
      expect({ code: attack.error?.code, holder: await lockHolder(admin, lock) }).toEqual({ code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', holder: null });
    } finally {
      connection.destroy();
      await waitLockFree(admin, lock);
    }
  });
});

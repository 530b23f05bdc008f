import type mysql2 from 'mysql2';
import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { MYSQL_URL } from '../support/servers.ts';

// What the database tests ask the server itself, never the guard: whether the primary waits, who
// holds a named lock, a table's checksum. `admin` is an unguarded connection with short lock waits
// (innodb_lock_wait_timeout and lock_wait_timeout of a second or two).

/** `server` (MYSQL_URL unless given) with `database` as its database (and, when given, another account). */
export function databaseUrl(database: string, user?: { name: string; password: string }, server: string = MYSQL_URL): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  if (user !== undefined) {
    url.username = user.name;
    url.password = user.password;
  }
  return url.toString();
}

/** Whether `statement`, sent by the primary, times out waiting on a lock (ER_LOCK_WAIT_TIMEOUT); any other error is thrown. */
export async function primaryWaits(admin: Connection, statement: string): Promise<boolean> {
  try {
    await admin.query(statement);
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === 'ER_LOCK_WAIT_TIMEOUT') return true;
    throw error;
  }
}

/** The connection id holding the named lock, or null. */
export async function lockHolder(admin: Connection, name: string): Promise<unknown> {
  const [[row]] = await admin.query<RowDataPacket[]>('SELECT IS_USED_LOCK(?) AS holder', [name]);
  return row!.holder;
}

/** CHECKSUM TABLE of one table. */
export async function tableChecksum(admin: Connection, table: string): Promise<unknown> {
  const [[row]] = await admin.query<RowDataPacket[]>(`CHECKSUM TABLE ${table}`);
  return row!.Checksum;
}

/** Ends every other session still using `database` (a mirror blocked in a write, say), so that it can be dropped. */
export async function endSessionsIn(admin: Connection, database: string): Promise<void> {
  const [left] = await admin.query<RowDataPacket[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [database]);
  for (const { ID } of left) await admin.query(`KILL ${Number(ID)}`).catch(() => undefined);
}

/**
 * A test file's own database, created empty (dropped first if a run left it), with `setUp` run on a
 * root connection inside it; returns an admin connection to it.
 */
export async function createOwnDatabase(database: string, setUp?: (root: Connection) => Promise<void>): Promise<Connection> {
  const root = await mysql2Promise.createConnection({ uri: MYSQL_URL });
  try {
    await root.query(`DROP DATABASE IF EXISTS ${database}`);
    await root.query(`CREATE DATABASE ${database}`);
    await root.query(`USE ${database}`);
    await setUp?.(root);
  } finally {
    await root.end();
  }
  return mysql2Promise.createConnection({ uri: databaseUrl(database) });
}

/** Ends every session left in the test file's database, drops it, and closes `admin`. */
export async function dropOwnDatabase(admin: Connection, database: string): Promise<void> {
  await endSessionsIn(admin, database);
  await admin.query(`DROP DATABASE IF EXISTS ${database}`);
  await admin.end();
}

/** A callback-API query as a promise that always settles: `{ error }` or `{ rows }`. */
export function run(connection: mysql2.Connection, sql: string): Promise<{ error?: { code?: string }; rows?: unknown }> {
  return new Promise((resolve) => connection.query(sql, (error, rows) => resolve(error ? { error } : { rows })));
}

/**
 * Whether the session `threadId` took the named lock, or ended first: polls the server (a
 * server-side pause of 10 ms between polls) until one of them is seen, and throws after `timeoutMs`.
 * The lock is asked first, so a session that took it and ended between the two questions is still
 * seen as 'taken' as long as it held the lock across one poll: attack payloads hold it (SLEEP(2), or
 * for as long as the session lives). A payload that never reached the server leaves no lock, and the
 * answer comes when the session ends (the guard destroys the connection it refused).
 */
export async function lockTakenOrSessionGone(admin: Connection, lock: string, threadId: number, timeoutMs = 10_000): Promise<'taken' | 'gone'> {
  if (!Number.isInteger(threadId) || threadId <= 0) throw new Error(`lockTakenOrSessionGone: no server thread id (${String(threadId)})`);
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if ((await lockHolder(admin, lock)) !== null) return 'taken';
    const [alive] = await admin.query<RowDataPacket[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId]);
    if (alive.length === 0) return 'gone';
    await admin.query('DO SLEEP(0.01)');
  }
  throw new Error(`lockTakenOrSessionGone: session ${threadId} neither took ${lock} nor ended within ${timeoutMs} ms`);
}

/** The server's thread id of a mysql2 connection: known from the server's greeting, before authentication. */
export function serverThreadOf(connection: mysql2.Connection): number {
  const core = connection as unknown as { connectionId?: number | null; threadId?: number | null };
  return Number(core.threadId ?? core.connectionId);
}

/** The connection id in a MySQL/MariaDB initial handshake packet (protocol 10), as the server sent it. */
export function greetingThreadId(greeting: Buffer): number {
  if (greeting.length < 6 || greeting[4] !== 10) throw new Error('greetingThreadId: not a protocol-10 handshake packet');
  const end = greeting.indexOf(0, 5);
  if (end < 0 || end + 5 > greeting.length) throw new Error('greetingThreadId: handshake packet cut short');
  return greeting.readUInt32LE(end + 1);
}

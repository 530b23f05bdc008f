import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import mysql2 from 'mysql2';
import mysql2Promise, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardMysql2 } from '@mirrorguard/db-readonly';
import { startMariadbServer, type ThrowawayMariadb } from '../support/mariadb-server.ts';
import { rng, type Rng } from '../support/seeded-random.ts';

// Generative: random guarded commands queued on a connection, random tampering with what mysql2
// will send (a queued command's sql or query changed, its template and values, a constructor
// swapped, mysql2's prototype methods called, bytes written to the connection or its stream
// directly, an approved session reset moved out of its place), each aimed at something a read-only
// session still lets through: a named lock, a global variable, a file INTO OUTFILE, a stored
// function's write once the session is reset. Judged by the server alone: the binary log position,
// IS_USED_LOCK, the table's checksum, the global variable, the files in secure_file_priv; every
// call must settle, and every tampered call with an error. WIRE_TAMPERING_SEED and
// WIRE_TAMPERING_TRIALS change the run; a failure names its trial, which replays from the seed.
const SEED = Number(process.env.WIRE_TAMPERING_SEED ?? 0x5eed_0bad);
const TRIALS = Number(process.env.WIRE_TAMPERING_TRIALS ?? 200);
const LOCK = 'mg_wire_tampering';

type Result = { error?: { code?: string } | null | undefined; rows?: unknown };
type Callback = (error: unknown, rows?: unknown) => void;
interface Command {
  sql?: string;
  query?: string;
  values?: unknown;
  _queryOptions?: { sql?: unknown };
  start?: unknown;
  constructor: { name: string };
}
type Core = mysql2.Connection & {
  threadId: number;
  _fatalError?: unknown;
  _closing?: boolean;
  _command?: Command | null;
  _commands: { length: number; shift(): Command | undefined; push(command: Command): void };
  write(buffer: Buffer): void;
  stream: { end(bytes: Buffer): void };
  addCommand(command: object): object;
};
type Prototype = { addCommand(command: object): object; reset(callback: Callback): object; changeUser(options: object, callback: Callback): object };

interface Call {
  readonly label: string;
  readonly mustFail: boolean;
  readonly settled: Promise<Result>;
}

/** One trial: a guarded connection, the calls made on it, which of them were tampered with. */
class Trial {
  readonly calls: Call[] = [];
  readonly connection: Core;
  readonly mysql: typeof mysql2;
  readonly random: Rng;
  #unique = 0;

  constructor(connection: Core, mysql: typeof mysql2, random: Rng) {
    this.connection = connection;
    this.mysql = mysql;
    this.random = random;
  }

  /** Makes a call; returns the command it queued. */
  issue(label: string, mustFail: boolean, start: (callback: Callback) => unknown): Command {
    return this.#call(label, mustFail, start).command;
  }

  /** Makes a call and waits for it to settle. */
  settle(label: string, start: (callback: Callback) => unknown): Promise<Result> {
    return this.#call(label, false, start).settled;
  }

  #call(label: string, mustFail: boolean, start: (callback: Callback) => unknown): { command: Command; settled: Promise<Result> } {
    let command: unknown;
    const settled = new Promise<Result>((resolve) => {
      command = start((error, rows) => resolve(error ? { error: error as Result['error'] } : { rows }));
    });
    this.calls.push({ label, mustFail, settled });
    return { command: command as Command, settled };
  }

  /** An untampered command, of a random kind. */
  innocent(): void {
    const connection = this.connection;
    const id = 1 + Math.floor(this.random() * 2);
    const kinds: Array<() => void> = [
      () => this.issue('query with a value', false, (callback) => connection.query('SELECT ? AS n', [Math.floor(this.random() * 1000)], callback)),
      () => this.issue('query of a row', false, (callback) => connection.query('SELECT balance FROM accounts WHERE id = ?', [id], callback)),
      () => this.issue('query of a non-ASCII literal', false, (callback) => connection.query("SELECT 'ü€😀' AS s", callback)),
      () => this.issue('execute', false, (callback) => connection.execute('SELECT balance FROM accounts WHERE id = ?', [id], callback)),
      () => this.issue('ping', false, (callback) => connection.ping(callback)),
    ];
    kinds[Math.floor(this.random() * kinds.length)]!();
  }

  unique(): number {
    return (this.#unique += 1);
  }

  createQuery(sql: string, callback: Callback): Command {
    return (this.mysql as unknown as { createQuery(sql: string, values: unknown, callback: Callback, options: object): Command }).createQuery(sql, undefined, callback, {});
  }

  get prototype(): Prototype {
    return Object.getPrototypeOf(Object.getPrototypeOf(this.connection)) as Prototype;
  }

  /** The most recently queued command of a class in mysql2's queue (not yet started). */
  queued(name: string): Command | undefined {
    const queue = this.connection._commands;
    const all: Command[] = [];
    while (queue.length > 0) all.push(queue.shift()!);
    for (const command of all) queue.push(command);
    return all.findLast((command) => command.constructor.name === name);
  }

  /**
   * Whether mysql2 still takes commands. The prototype's addCommand does not look: a command given
   * to a connection mysql2 has closed is never started and never settles, guarded or not.
   */
  get open(): boolean {
    return !this.connection._fatalError && !this.connection._closing;
  }

  /** Settles everything issued so far, so that the next command goes to the server at once. */
  async idle(): Promise<void> {
    await Promise.all(this.calls.map((call) => call.settled));
  }
}

function comQuery(sql: string): Buffer {
  const payload = Buffer.concat([Buffer.of(0x03), Buffer.from(sql)]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
}

/** What each tampering does; `evil` is a statement a read-only session would still run with effect. */
const TAMPERINGS: Record<string, (trial: Trial, evil: string) => void | Promise<void>> = {
  'the sql of a queued Query': (trial, evil) => {
    trial.innocent();
    const query = trial.issue('query changed after screening', true, (callback) => trial.connection.query('SELECT 1 AS a', callback));
    query.sql = evil;
  },
  'the query of a queued Prepare': (trial, evil) => {
    trial.innocent();
    // A text of its own, so that mysql2's statement cache cannot answer the Prepare without sending it.
    trial.issue('execute whose Prepare was changed', true, (callback) => trial.connection.execute(`SELECT balance, ${trial.unique()} AS k FROM accounts WHERE id = ?`, [1], callback));
    const prepare = trial.queued('Prepare');
    if (prepare !== undefined) prepare.query = evil;
  },
  'the sql, template and values of a queued Query': (trial, evil) => {
    trial.innocent();
    const query = trial.issue('query whose template explains another text', true, (callback) => trial.connection.query('SELECT ? AS n', [1], callback));
    query.sql = evil;
    query._queryOptions = { ...query._queryOptions, sql: evil };
    query.values = [];
  },
  'the sql of a Query held behind a read-back': (trial, evil) => {
    trial.innocent();
    // A SET is read back before anything after it is screened: the change lands before screening.
    trial.issue('SET of a user variable', false, (callback) => trial.connection.query('SET @wire_tampering = 1', callback));
    const query = trial.issue('query changed before its screening', true, (callback) => trial.connection.query('SELECT 1 AS a', callback));
    query.sql = evil;
  },
  'a Query named Ping': (trial, evil) => {
    trial.innocent();
    trial.issue('query disguised as a ping', true, (callback) => {
      const query = trial.createQuery(evil, callback);
      Object.defineProperty(query, 'constructor', { value: { name: 'Ping' } });
      return trial.connection.addCommand(query);
    });
  },
  "the prototype's addCommand": (trial, evil) => {
    trial.innocent();
    if (trial.open) trial.issue('query past the guard', true, (callback) => trial.prototype.addCommand.call(trial.connection, trial.createQuery(evil, callback)));
  },
  "a refused Query's start deleted": (trial, evil) => {
    trial.innocent();
    const query = trial.issue('refused query whose local answer was deleted', true, (callback) => trial.connection.query(evil, callback));
    delete query.start;
  },
  "the prototype's reset(), then a stored function": (trial) => {
    trial.innocent();
    trial.issue('reset past the guard', true, (callback) => trial.prototype.reset.call(trial.connection, callback));
    trial.issue('stored function after it', true, (callback) => trial.connection.query('SELECT sneaky_write()', callback));
  },
  "the prototype's changeUser(), then a stored function": (trial) => {
    trial.innocent();
    trial.issue('change of user past the guard', true, (callback) => trial.prototype.changeUser.call(trial.connection, { user: 'root' }, callback));
    trial.issue('stored function after it', true, (callback) => trial.connection.query('SELECT sneaky_write()', callback));
  },
  "the guard's reset() moved after its pins, then a stored function": async (trial) => {
    trial.innocent();
    // The instrument, not a tampered call: taken out of the queue, it settles only if put back.
    trial.connection.reset(() => undefined);
    const reset = trial.queued('ResetConnection');
    if (reset === undefined) return;
    const queue = trial.connection._commands;
    const kept: Command[] = [];
    while (queue.length > 0) {
      const command = queue.shift()!;
      if (command !== reset) kept.push(command);
    }
    for (const command of kept) queue.push(command);
    // The pins queued behind the reset run and are judged before this query.
    await trial.settle('query after the pins', (callback) => trial.connection.query('SELECT 2 AS b', callback));
    if (!trial.open) return;
    trial.prototype.addCommand.call(trial.connection, reset);
    trial.issue('stored function after the moved reset', true, (callback) => trial.connection.query('SELECT sneaky_write()', callback));
  },
  'a COM_QUERY written to the connection': async (trial, evil) => {
    await trial.idle();
    // In flight when the bytes are written: it is the command that fails.
    trial.issue('query in flight', true, (callback) => trial.connection.query('SELECT 3 AS c', callback));
    trial.connection.write(comQuery(evil));
  },
  'a COM_QUERY ending the stream': async (trial, evil) => {
    await trial.idle();
    trial.issue('query in flight', true, (callback) => trial.connection.query('SELECT 3 AS c', callback));
    trial.connection.stream.end(comQuery(evil));
  },
};
/** Tamperings whose harm needs a session reset first: their `evil` is the stored function call they issue. */
const NEEDS_NO_EVIL = new Set(["the prototype's reset(), then a stored function", "the prototype's changeUser(), then a stored function", "the guard's reset() moved after its pins, then a stored function"]);

describe('tampering with guarded commands on the way to the wire, generatively, judged by the server', () => {
  let server: ThrowawayMariadb;
  let admin: Connection;

  interface Oracle {
    readonly binlog: string;
    readonly checksum: unknown;
    readonly lock: unknown;
    readonly maxConnectErrors: unknown;
    readonly files: number;
  }
  async function oracle(): Promise<Oracle> {
    const [[status]] = await admin.query<RowDataPacket[]>('SHOW MASTER STATUS');
    const [[table]] = await admin.query<RowDataPacket[]>('CHECKSUM TABLE gen.accounts');
    const [[row]] = await admin.query<RowDataPacket[]>('SELECT IS_USED_LOCK(?) AS lock_holder, @@global.max_connect_errors AS max_connect_errors', [LOCK]);
    return {
      binlog: `${status!.File}:${status!.Position}`,
      checksum: table!.Checksum,
      lock: row!.lock_holder,
      maxConnectErrors: row!.max_connect_errors,
      files: readdirSync(server.filesDir).length,
    };
  }

  beforeAll(async () => {
    server = await startMariadbServer({ args: ['--log-bin-trust-function-creators=1'] });
    const root = await mysql2Promise.createConnection({ host: server.host, port: server.port, user: server.user, multipleStatements: true });
    await root.query(`
      CREATE DATABASE gen;
      CREATE TABLE gen.accounts (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB;
      INSERT INTO gen.accounts VALUES (1, 100), (2, 200);
      CREATE FUNCTION gen.sneaky_write() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE gen.accounts SET balance = balance + 1; RETURN 1; END;
    `);
    await root.end();
    admin = await mysql2Promise.createConnection({ host: server.host, port: server.port, user: server.user });
  }, 120_000);

  afterAll(async () => {
    await admin?.end();
    await server?.kill();
  });

  it(`${TRIALS} trials of random commands and tampering (seed ${SEED}): nothing changes on the server, every tampered call fails`, async () => {
    const mysql = guardMysql2(mysql2, { dialect: 'mariadb' });
    const names = Object.keys(TAMPERINGS);
    const failures: string[] = [];
    /** Trials after which the server showed a change: the tampering reached it. */
    let harmed = 0;
    const first = new Map<string, number>();
    for (let index = 0; index < TRIALS; index += 1) {
      const random = rng(SEED + index);
      const before = await oracle();
      const connection = mysql.createConnection({ host: server.host, port: server.port, user: server.user, database: 'gen' }) as Core;
      connection.on('error', () => undefined);
      const trial = new Trial(connection, mysql, random);
      const ready = await trial.settle('connect', (callback) => connection.query('SELECT 1', callback));
      expect(ready.error ?? null).toBeNull();
      trial.calls.length = 0;
      const chosen: string[] = [];
      for (let count = 0; count < Math.floor(random() * 4); count += 1) trial.innocent();
      for (let count = random() < 0.7 ? 1 : 2; count > 0; count -= 1) {
        const name = names[Math.floor(random() * names.length)]!;
        const evils = [`SELECT GET_LOCK('${LOCK}', 0)`, `SET GLOBAL max_connect_errors = ${1000 + index}`, `SELECT 1 INTO OUTFILE '${join(server.filesDir, `trial-${index}-${count}.txt`)}'`];
        chosen.push(name);
        await TAMPERINGS[name]!(trial, NEEDS_NO_EVIL.has(name) ? '' : evils[Math.floor(random() * evils.length)]!);
        for (let more = Math.floor(random() * 3); more > 0; more -= 1) trial.innocent();
      }
      first.set(chosen[0]!, (first.get(chosen[0]!) ?? 0) + 1);
      const results = await Promise.all(trial.calls.map((call) => call.settled));
      const where = `trial ${index} (${chosen.join(', ')})`;
      trial.calls.forEach((call, at) => {
        if (call.mustFail && !results[at]!.error) failures.push(`${where}: "${call.label}" succeeded`);
      });
      // A named lock lives as long as the session that took it: asked while the connection may be open.
      const during = await oracle();
      const { threadId } = connection;
      connection.destroy();
      for (let poll = 0; ; poll += 1) {
        const [rows] = await admin.query<RowDataPacket[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId]);
        if (rows.length === 0) break;
        if (poll > 5000) throw new Error(`${where}: the server still lists connection ${threadId}`);
      }
      const after = await oracle();
      const changes = (['binlog', 'checksum', 'maxConnectErrors', 'files'] as const).filter((key) => after[key] !== before[key]);
      if (during.lock !== null) changes.unshift('lock' as never);
      for (const key of changes) failures.push(key === ('lock' as never) ? `${where}: the named lock was taken` : `${where}: ${key} changed (${String(before[key])} → ${String(after[key])})`);
      if (changes.length > 0) harmed += 1;
    }
    expect({ failures: failures.length, harmedTrials: harmed, first: failures.slice(0, 20) }).toEqual({ failures: 0, harmedTrials: 0, first: [] });
    // Every tampering came first in some trial (the one that meets a fresh connection).
    expect([...first.keys()].sort()).toEqual([...names].sort());
  }, 600_000);
});

import { readdirSync } from 'node:fs';
import { createConnection, type Connection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { classifyStatement } from '../../packages/db-readonly/src/classifier/classify-statement.ts';
import type { StatementClassification } from '../../packages/db-readonly/src/classifier/statement-classification.ts';
import { lexSql } from '../../packages/db-readonly/src/classifier/lex-sql.ts';
import { readSqlMode } from '../../packages/db-readonly/src/classifier/sql-mode.ts';
import type { ThrowawayMariadb } from '../support/mariadb-server.ts';
import { CORPUS } from './sql-corpus.ts';
import { rng, type Rng } from '../support/seeded-random.ts';

/**
 * Differential testing of the SQL classifier against a real MariaDB (issue 12, section 3). A seeded
 * generator writes statements that mix every token boundary the server's lexer knows with payloads
 * the classifier must catch, arranged so that one reading hides the payload in a literal or a
 * comment and another exposes it. Every statement the classifier allows under a session's sql_mode
 * is run on a private server by a session that is not read-only and has no guard; after each, the
 * server is asked whether anything changed. An allowed statement that changed anything is a leak.
 */

export const DATABASE = 'mirrorguard_leak';
/** The lock names the generator uses; IS_USED_LOCK of each is checked, RELEASE_ALL_LOCKS catches the rest. */
export const LOCK_NAMES = ['mglex_a', 'mglex_b'] as const;
export const SEQUENCE = 'mglex_seq';
export const TABLE = 'mglex_t';

// ---------------------------------------------------------------------------------------------
// The generator

// The generator's seeded random numbers, for the fuzz script too.
export { rng };

const pick = <T>(random: Rng, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (random: Rng, p: number): boolean => random() < p;

const QUOTES = ["'", '"', '`'] as const;
// What can stand before a quote and change how the server reads it: user and system variable
// names, national, hex and bit strings, charset introducers, a qualified name.
const QUOTE_PREFIXES = ['', '', '', '', '@', '@', '@@', 'N', 'n', 'X', 'x', 'B', 'b', '_latin1', '_binary', '_utf8mb4', '_latin1 ', '@@session.', '0x', 'a.', 'AS '];
// What can stand inside a literal: escapes, doubled quotes, comment and quote starters, NUL and
// characters outside ASCII (no-break space, line separator, full-width quotes, an emoji).
const BODY_BITS = (quote: string): readonly string[] => [
  '\\', '\\', '\\\\', '\\\\\\', quote + quote, '\\' + quote, '\\' + quote + quote, 'a', ' ', '',
  '\0', '\u00a0', '\u2028', '\u0085', '\uff07', '\uff02', '\u{1f600}', '\ud800', 'é', '#', '-- ', '/*', '*/', '/*!', '\n', ';', "'", '"', '`', '\\\\' + quote,
];
const COMMENT_OPENERS = ['#', '-- ', '--', '--\t', '--\x01', '--\x0b', '--\x0c', '--\r', '--\n', '--\x7f', '--\0', '--\u00a0', '--\u3000', '/*', '/* ', '/*!', '/*!99999 ', '/*!00000 ', '/*!50000', '/*M!', '/*M!100000 ', '/*m!', '/*+ ', '/*!*/', '/**/', '/*/'];
// Two dashes and what follows them: a comment only before whitespace or a control character.
const DASHES = ['--', '-- ', '--\t', '--\x01', '--\x0b', '--\x1f', '--\x7f', '--\0', '--\r', '--\u00a0', '--\u3000', '--\u2028', '--\u0085', '--\u{1f600}', '---', '--#'];
const LINE_ENDS = ['\n', '\r', '\r\n', '\u2028', '\u0085', '\x0b', '\x0c', '*/', ' */', '\0'];

const lockName = (random: Rng): string => pick(random, LOCK_NAMES);
const outfile = (random: Rng, files: string): string => `'${files}/o${Math.floor(random() * 1e6)}'`;

/** Expressions with an effect, for a SELECT list. */
function expressionPayload(random: Rng): string {
  return pick(random, [
    `GET_LOCK('${lockName(random)}', 0)`,
    `get_lock ("${lockName(random)}", 0)`,
    `\`GET_LOCK\`('${lockName(random)}', 0)`,
    `RELEASE_LOCK('${lockName(random)}')`,
    `NEXTVAL(${SEQUENCE})`,
    `SETVAL(${SEQUENCE}, ${1000 + Math.floor(random() * 1e6)})`,
    `NEXT VALUE FOR ${SEQUENCE}`,
    `nextval(order_numbers)`,
    `${SEQUENCE}.nextval`,
    `(SELECT GET_LOCK('${lockName(random)}', 0))`,
    'UUID_SHORT()',
    'uuid_short /**/ ()',
    '`uuid_short`()',
  ]);
}

/** Clauses with an effect, for the end of a SELECT. */
function tailPayload(random: Rng, files: string): string {
  return pick(random, [
    `FROM ${TABLE} FOR UPDATE`,
    `FROM ${TABLE} LOCK IN SHARE MODE`,
    `FROM products FOR UPDATE`,
    `FROM ${TABLE} WHERE id IN (SELECT id FROM ${TABLE} FOR UPDATE)`,
    `INTO OUTFILE ${outfile(random, files)}`,
    `FROM ${TABLE} INTO DUMPFILE ${outfile(random, files)}`,
    `, ${expressionPayload(random)}`,
  ]);
}

/** Assignments with an effect, for a SET list. */
function assignmentPayload(random: Rng): string {
  return pick(random, [
    '@@session.transaction_read_only=0',
    'tx_read_only=0',
    'transaction_read_only = OFF',
    '@@tx_read_only=DEFAULT',
    `@@global.max_connect_errors=${100 + Math.floor(random() * 1e5)}`,
    `GLOBAL max_connect_errors=${100 + Math.floor(random() * 1e5)}`,
    "sql_mode='ANSI_QUOTES'",
    "sql_mode=''",
    "@@sql_mode='NO_BACKSLASH_ESCAPES'",
    'character_set_client=latin1',
    'NAMES latin1',
    "@@session.tx_isolation='SERIALIZABLE'",
    "@@session.transaction_isolation='SERIALIZABLE'",
    '@@tx_read_only = 0',
    `@mglex_l = GET_LOCK('${lockName(random)}', 0)`,
  ]);
}

/** Whole statements with an effect. */
function statementPayload(random: Rng, files: string): string {
  return pick(random, [
    `INSERT INTO ${TABLE} (v) VALUES (${Math.floor(random() * 1000)})`,
    `UPDATE ${TABLE} SET v = v + 1`,
    `DELETE FROM ${TABLE} WHERE id = 1`,
    `REPLACE INTO ${TABLE} (id, v) VALUES (1, 2)`,
    `SET ${assignmentPayload(random)}`,
    `SELECT ${expressionPayload(random)}`,
    `SELECT 1 ${tailPayload(random, files)}`,
    `DO ${expressionPayload(random)}`,
    `CREATE TABLE mglex_intruder (id INT)`,
  ]);
}

// A literal that one reading closes and another does not: weighted toward the bodies that make
// readings differ (a trailing backslash, doubled quotes), then anything from BODY_BITS.
const HIDING_BODIES = (quote: string): readonly string[] => ['\\', '\\', '\\', 'a\\', '\\\\', quote + quote, '\\' + quote, '\\' + quote + quote, '\\\\\\', ''];
const HIDING_PREFIXES = ['', '', '', '@', '@', '@', '@@', 'N', '_latin1', '_binary', 'X', '@@session.'];

function literal(random: Rng, quote: string): string {
  if (chance(random, 0.6)) return pick(random, HIDING_PREFIXES) + quote + pick(random, HIDING_BODIES(quote)) + quote;
  let body = '';
  const bits = Math.floor(random() * 4);
  for (let index = 0; index < bits; index += 1) body += pick(random, BODY_BITS(quote));
  return pick(random, QUOTE_PREFIXES) + quote + body + (chance(random, 0.85) ? quote : '');
}

/** The end of a hiding context: a quote, a comment to the end of the line, a comment closer. */
function closer(random: Rng, quote: string): string {
  const other = chance(random, 0.8) ? quote : pick(random, QUOTES);
  if (chance(random, 0.7)) return pick(random, [other, `#${other}`, `-- ${other}`, `/*${other}*/`, `AS ${other}#${other}`, `AS ${other}-- ${other}`, `${other}#`]);
  return pick(random, [
    `${other} -- `, `${other}${other}`, `\\${other}`, `${other} AS ${other}x${other}`, `, ${other}`, `AS ${other}`, ...COMMENT_OPENERS, '*/',
  ]);
}

const FRAGMENTS: readonly string[] = [
  ...QUOTES, "''", '""', '``', '\\', "\\'", '\\"', "@'", '@"', '@`', '@@', '@@session.', '@@global.', '#', '-- ', '--', '/*', '*/', '/*!', '/*M!', '/*+',
  "_latin1'", "_binary'", "N'", "X'", "x'", "B'", '0x', '0x41', '\0', '\u00a0', '\u2028', '\uff07', '\u{1f600}', ';', '(', ')', '\n', ' ', ',', '.',
  `GET_LOCK('mglex_a', 0)`, 'FOR UPDATE', ', tx_read_only=0',
];

/** Inserts a few fragments at random places: the generator's own structure, then noise. */
function mutate(random: Rng, sql: string): string {
  let out = sql;
  const count = 1 + Math.floor(random() * 2);
  for (let index = 0; index < count; index += 1) {
    const at = Math.floor(random() * (out.length + 1));
    out = out.slice(0, at) + pick(random, FRAGMENTS) + out.slice(at);
  }
  return out;
}

/** One generated statement. `files` is the server's secure_file_priv, for INTO OUTFILE paths. */
export function generateStatement(random: Rng, files: string): string {
  const quote = pick(random, QUOTES);
  const filler = pick(random, ['', '', '1,', '1 AS a,', "'x',", '@a,', '@@version,', 'NULL,']);
  const sep = (): string => pick(random, [' ', ' ', ', ', '', '\n', '\t', '/**/', '\u00a0']);
  let sql: string;
  switch (Math.floor(random() * 7)) {
    case 6: {
      // A comment-like run in the middle of a statement, the effect on its line or the next: one
      // reading ends it earlier than another. ${TABLE} has columns named by characters the lexer
      // could take for whitespace (U+00A0, U+3000), so "--\u00a0" can be two minus signs and a name.
      const effect = `, ${expressionPayload(random)}`;
      const sameLine = chance(random, 0.5);
      const opener = chance(random, 0.5) ? pick(random, DASHES) : pick(random, COMMENT_OPENERS);
      sql = `SELECT ${filler}1 ${opener}${pick(random, ['', '', '', ' x', "'", '"', '`', '*/', '\\'])}${sameLine ? effect : ''}${pick(random, LINE_ENDS)}${sameLine ? '' : effect}${pick(random, ['', ` FROM ${TABLE}`, ` FROM ${TABLE}`, ' FROM products'])}`;
      break;
    }
    case 0:
      // SELECT … <opener> , <effect> <closer>: the effect is inside a literal in one reading only.
      sql = `SELECT ${filler} ${literal(random, quote)}${sep()}, ${expressionPayload(random)}${sep()}${closer(random, quote)}`;
      break;
    case 1:
      sql = `SELECT ${filler} ${literal(random, quote)}${sep()}${tailPayload(random, files)}${sep()}${closer(random, quote)}`;
      break;
    case 2:
      // SET @v = <opener> , <assignment> <closer>
      sql = `SET @mglex_v = ${literal(random, quote)}${sep()}, ${assignmentPayload(random)}${sep()}${closer(random, quote)}`;
      break;
    case 3:
      // A comment-like start that one reading ends early: the statement after it is the payload.
      sql = `${pick(random, COMMENT_OPENERS)}${pick(random, ['', 'SELECT 1', ' x'])}${pick(random, LINE_ENDS)}${statementPayload(random, files)}${pick(random, ['', ' */', '\n'])}`;
      break;
    case 4:
      // Two literals, the payload between them.
      sql = `SELECT ${literal(random, quote)}${sep()}${pick(random, [', ', ' ', ''])}${expressionPayload(random)}${sep()}${literal(random, pick(random, QUOTES))}`;
      break;
    default:
      // A payload statement with a literal or comment where a token boundary could move.
      sql = statementPayload(random, files).replace(/ /, () => ` ${pick(random, [literal(random, quote), pick(random, COMMENT_OPENERS) + pick(random, LINE_ENDS)])} `);
  }
  if (chance(random, 0.2)) sql += pick(random, ['\n', '\nFROM products', `\n${closer(random, quote)}`, ' LIMIT 1', ';']);
  return chance(random, 0.25) ? mutate(random, sql) : sql;
}

/**
 * Statements from the server's own test suite (main/comments.test, main/parser.test: the lexer
 * cases) and from the classifier's corpus, run before the generated ones.
 */
export function seedStatements(files: string): string[] {
  const server = [
    'select 1+2/*hello*/+3',
    'select 1 /* long\nmulti line comment */',
    'select 1 /*!32301 +1 */',
    'select 1 /*!52301 +1 */',
    'select 1--1',
    'select 1 --2\n+1',
    'select 1 -- The rest of the row will be ignored\n',
    '/* line with only comment */',
    'select 1/*!2*/',
    'select 1/*!000002*/',
    'select 1/*!999992*/',
    'select 1 + /*!00000 2 */ + 3 /*!99999 noise*/ + 4',
    'select 2 as expected, /*!01000/**/*/ 2 as result',
    'select 1 as expected, /*!99998/**/*/ 1 as result',
    'select 3 as expected, /*!01000 1 + */ 2 as result',
    "select 'a\\'b', \"a\\\"b\", 'a''b', \"a\"\"b\"",
    "select _latin1'abc', _binary'a\\'b', N'x\\'y', X'41', x'4142', B'101', 0x41, 0b101",
    "select @'a\\'b', @\"a\\\"b\", @`a``b`, @@session.autocommit",
    `select GET_LOCK('${LOCK_NAMES[0]}', 0)`,
    `select 1 into outfile '${files}/seed'`,
    `select nextval(${SEQUENCE})`,
    `select * from ${TABLE} for update`,
    // main/parser.test: comments nested in executable comments, ODBC braces, locking reads after UNION.
    'select 7 as expected, /*!01000 1 + /* 8 + */ 2 + */ 4 as result',
    'select 4 as expected, /*!99998 1 + /*!01000 8 + */ 2 + */ 4 as result',
    'SELECT * FROM { OJ products LEFT JOIN orders ON TRUE }',
    'SELECT 1 UNION SELECT 1 FROM DUAL FOR UPDATE INTO @var',
    'SELECT 1 UNION SELECT 1 FROM DUAL INTO @var',
    `SELECT GET_LOCK ('${LOCK_NAMES[1]}', 0)`,
  ];
  // The corpus's stored procedure and stored function write by design (closed by the server's
  // read-only session, which this test leaves off): not a lexer question.
  const corpus = CORPUS.map((entry) => entry.sql.replaceAll('?', '1')).filter((sql) => !/sneaky_write|restock/i.test(sql));
  return [...server, ...corpus];
}

// ---------------------------------------------------------------------------------------------
// The oracle

/** Global variables that change without any statement of the session under test. */
const VOLATILE_GLOBALS = ['GTID_BINLOG_POS', 'GTID_BINLOG_STATE', 'GTID_CURRENT_POS', 'GTID_SLAVE_POS', 'TIMESTAMP', 'LAST_GTID'];

/** Creates the leak schema (the classifier corpus's tables) plus the generator's table and sequence. */
export async function createDifferentialSchema(server: ThrowawayMariadb): Promise<void> {
  const root = await createConnection({ host: server.host, port: server.port, user: server.user, multipleStatements: true });
  try {
    await root.query(`
      CREATE DATABASE ${DATABASE};
      USE ${DATABASE};
      CREATE TABLE products (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100) NOT NULL, price DECIMAL(10, 2) NOT NULL,
        stock INT NOT NULL DEFAULT 0, UNIQUE KEY uq_products_name (name)) ENGINE=InnoDB;
      CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, product_id INT NOT NULL, quantity INT NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        CONSTRAINT fk_orders_product FOREIGN KEY (product_id) REFERENCES products (id)) ENGINE=InnoDB;
      INSERT INTO products (name, price, stock) VALUES ('lamp', 12.50, 10), ('desk', 149.00, 3), ('chair', 49.90, 7);
      INSERT INTO orders (product_id, quantity) VALUES (1, 2), (2, 1), (1, 1);
      CREATE VIEW product_names AS SELECT id, name FROM products;
      CREATE SEQUENCE order_numbers NOCACHE;
      CREATE TABLE ${TABLE} (id INT PRIMARY KEY AUTO_INCREMENT, v INT NOT NULL, \`\u00a0\` INT NOT NULL DEFAULT 0, \`\u3000\` INT NOT NULL DEFAULT 0) ENGINE=InnoDB;
      INSERT INTO ${TABLE} (v) VALUES (1), (2), (3);
      CREATE SEQUENCE ${SEQUENCE} NOCACHE;
    `);
  } finally {
    await root.end();
  }
}

interface ServerSnapshot {
  readonly binlog: string;
  readonly state: string;
  readonly files: string;
  /** The server-wide UUID_SHORT counter, drawn by the snapshot itself (so one more than the last snapshot's when nobody else drew). */
  readonly uuidShort: bigint;
}

export interface Leak {
  readonly seed: number;
  readonly index: number;
  readonly sqlMode: string;
  readonly sql: string;
  readonly classification: StatementClassification;
  readonly changes: readonly string[];
}

export interface DifferentialCounts {
  generated: number;
  allowed: number;
  ran: number;
  syntaxErrors: number;
  otherErrors: number;
  leaks: number;
}

/** The server's default sql_mode plus the lexing flags: the four readings the classifier follows. */
export function sqlModes(serverDefault: string): string[] {
  const base = serverDefault.split(',').filter((flag) => flag !== '' && flag !== 'ANSI_QUOTES' && flag !== 'NO_BACKSLASH_ESCAPES');
  return [[], ['ANSI_QUOTES'], ['NO_BACKSLASH_ESCAPES'], ['ANSI_QUOTES', 'NO_BACKSLASH_ESCAPES']].map((extra) => [...base, ...extra].join(','));
}

// MariaDB before 11.1 knows tx_read_only and tx_isolation only (transaction_* came later).
const SESSION_CHECK = `SELECT @@session.tx_read_only AS txro, @@session.sql_mode AS mode,
  @@session.character_set_client AS csc, @@session.character_set_connection AS cscn, @@session.collation_connection AS coll,
  @@session.tx_isolation AS iso, @@session.autocommit AS ac, DATABASE() AS db,
  ${LOCK_NAMES.map((name, index) => `IS_USED_LOCK('${name}') AS lock${index}`).join(', ')},
  RELEASE_ALL_LOCKS() AS held LIMIT 1`;

// Row locks the session under test holds (its transaction is still open): the observer counts the
// rows it can lock without waiting. INNODB_TRX would say it too, but InnoDB refreshes that view at
// most every 100 ms.
const TABLES = ['products', 'orders', TABLE] as const;
const ROW_LOCK_PROBE = TABLES.map((table) => `SELECT COUNT(*) AS n FROM ${DATABASE}.${table} FOR UPDATE SKIP LOCKED`).join(';\n');

type SessionState = Record<string, unknown>;

/**
 * Runs statements under one session sql_mode on the private server and reports the leaks. The
 * session under test is not read-only and has no guard; `autocommit` is off so that a locking read
 * shows in INNODB_TRX, and each statement's transaction is committed so that a write reaches the binlog.
 */
export class DifferentialRunner {
  readonly counts: DifferentialCounts = { generated: 0, allowed: 0, ran: 0, syntaxErrors: 0, otherErrors: 0, leaks: 0 };
  readonly leaks: Leak[] = [];
  private session!: Connection;
  private observer!: Connection;
  private baseline!: ServerSnapshot;
  private sessionBaseline!: SessionState;
  private lockableBaseline = '';
  private sqlMode = '';

  private readonly server: ThrowawayMariadb;

  constructor(server: ThrowawayMariadb) {
    this.server = server;
  }

  async open(): Promise<void> {
    this.observer = await createConnection({ host: this.server.host, port: this.server.port, user: this.server.user, multipleStatements: true });
    await this.observer.query('SET SESSION group_concat_max_len = 16777216');
    this.baseline = await this.snapshot();
  }

  async close(): Promise<void> {
    await this.session?.end().catch(() => undefined);
    await this.observer?.end().catch(() => undefined);
  }

  /** Opens the session under test with `sqlMode`, set with a plain SET as an app would. */
  async useSqlMode(sqlMode: string): Promise<void> {
    this.sqlMode = sqlMode;
    await this.session?.end().catch(() => undefined);
    this.session = await createConnection({
      host: this.server.host,
      port: this.server.port,
      user: this.server.user,
      database: DATABASE,
      charset: 'utf8mb4',
      multipleStatements: false,
    });
    await this.session.query(`SET sql_mode = '${sqlMode}'`);
    await this.session.query("SET session_track_system_variables = '*'");
    await this.session.query('SET max_statement_time = 5');
    await this.session.query('SET autocommit = 0');
    this.sessionBaseline = await this.sessionState();
    await this.session.query('COMMIT');
    this.lockableBaseline = await this.lockableRows();
  }

  private async sessionState(): Promise<SessionState> {
    const [rows] = await this.session.query<RowDataPacket[]>(SESSION_CHECK);
    return { ...rows[0] };
  }

  /** The rows of each table the observer can lock now, joined: fewer than at rest means the session holds row locks. */
  private async lockableRows(): Promise<string> {
    const [results] = await this.observer.query<RowDataPacket[][]>(ROW_LOCK_PROBE);
    return results.map((rows) => String(rows[0]!.n)).join(',');
  }

  private async snapshot(): Promise<ServerSnapshot> {
    const checksum = (table: string, columns: string): string =>
      `(SELECT CONCAT(COUNT(*), ':', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', ${columns}))), 0)) FROM ${DATABASE}.${table})`;
    const [results] = await this.observer.query<RowDataPacket[][]>(`SHOW MASTER STATUS;
      SELECT (SELECT MD5(GROUP_CONCAT(VARIABLE_NAME, '=', VARIABLE_VALUE ORDER BY VARIABLE_NAME SEPARATOR '\\n'))
          FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME NOT IN (${VOLATILE_GLOBALS.map((name) => `'${name}'`).join(', ')})) AS globals,
        (SELECT next_not_cached_value FROM ${DATABASE}.${SEQUENCE}) AS seq,
        (SELECT next_not_cached_value FROM ${DATABASE}.order_numbers) AS order_numbers,
        ${checksum('products', 'id, name, price, stock')} AS products,
        ${checksum('orders', 'id, product_id, quantity, created_at')} AS orders,
        ${checksum(TABLE, 'id, v')} AS t,
        (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DATABASE}') AS tables,
        ${LOCK_NAMES.map((name) => `IS_USED_LOCK('${name}')`).join(', ')} AS locks;
      SELECT CAST(UUID_SHORT() AS CHAR) AS uuid_short`);
    const master = results[0]![0]!;
    return {
      binlog: `${master.File}:${master.Position}`,
      state: JSON.stringify(results[1]![0]),
      files: readdirSync(this.server.filesDir).sort().join(','),
      uuidShort: BigInt(String(results[2]![0]!.uuid_short)),
    };
  }

  /**
   * Classifies `sql` under the session's sql_mode and, when allowed, runs it and checks that
   * nothing changed. Returns the leak, if any.
   */
  async check(sql: string, seed: number, index: number, options: { unclassified?: boolean } = {}): Promise<Leak | undefined> {
    this.counts.generated += 1;
    // `unclassified`: run it whatever the classifier says (to show the oracle sees each effect).
    const classification = classifyStatement(sql, { sqlMode: this.sqlMode });
    if (!classification.allowed && options.unclassified !== true) return undefined;
    this.counts.allowed += 1;

    let header: ResultSetHeader | undefined;
    try {
      const [result] = await this.session.query(sql);
      if (!Array.isArray(result)) header = result as ResultSetHeader;
      this.counts.ran += 1;
    } catch (error) {
      const errno = (error as { errno?: number }).errno;
      if (errno === 1064) this.counts.syntaxErrors += 1;
      else this.counts.otherErrors += 1;
      if ((error as { fatal?: boolean }).fatal === true) await this.useSqlMode(this.sqlMode);
    }

    const changes: string[] = [];
    const visible = this.visibleNames(sql);
    const tracked = (header as { stateChanges?: { systemVariables?: Record<string, string> } } | undefined)?.stateChanges?.systemVariables ?? {};
    for (const [name, value] of Object.entries(tracked)) {
      const upper = name.toUpperCase();
      if ((upper === 'TRANSACTION_READ_ONLY' || upper === 'TX_READ_ONLY') && !['ON', '1'].includes(value.toUpperCase())) {
        changes.push(`the server set ${name} to ${value}: read-only turned off`);
      } else if (!visible.has(upper) && !this.visibleFamily(visible, upper)) {
        changes.push(`the server set ${name} = ${value}, which the classifier did not see being set`);
      }
    }

    const state = await this.sessionState();
    const before = this.sessionBaseline;
    if (state.mode !== before.mode && !visible.has('SQL_MODE')) changes.push(`sql_mode changed to '${String(state.mode)}' though the classifier saw no sql_mode assignment`);
    if (state.mode !== before.mode && 'refused' in readSqlMode(String(state.mode))) changes.push(`sql_mode changed to '${String(state.mode)}', which the classifier cannot follow`);
    for (const key of ['csc', 'cscn', 'coll']) {
      if (!String(state[key]).toLowerCase().startsWith('utf8mb4')) changes.push(`the connection character set (${key}) became ${String(state[key])}`);
    }
    if (String(state.iso).toUpperCase() === 'SERIALIZABLE') changes.push('isolation became SERIALIZABLE');
    LOCK_NAMES.forEach((name, lock) => {
      if (state[`lock${lock}`] !== null) changes.push(`the session holds the named lock ${name}`);
    });
    if (Number(state.held) > 0 && LOCK_NAMES.every((_, lock) => state[`lock${lock}`] === null)) changes.push(`the session held ${String(state.held)} named lock(s)`);

    const lockable = await this.lockableRows();
    if (lockable !== this.lockableBaseline) changes.push(`the session holds row locks (lockable rows of ${TABLES.join(', ')}: ${this.lockableBaseline} -> ${lockable})`);
    await this.session.query('COMMIT');

    const after = await this.snapshot();
    if (after.binlog !== this.baseline.binlog) changes.push(`the binlog moved from ${this.baseline.binlog} to ${after.binlog}`);
    if (after.state !== this.baseline.state) {
      const was = JSON.parse(this.baseline.state) as Record<string, unknown>;
      const now = JSON.parse(after.state) as Record<string, unknown>;
      for (const key of Object.keys(now)) if (now[key] !== was[key]) changes.push(`${key} changed: ${String(was[key])} -> ${String(now[key])}`);
    }
    if (after.files !== this.baseline.files) changes.push(`files under secure_file_priv: [${this.baseline.files}] -> [${after.files}]`);
    const drawn = after.uuidShort - this.baseline.uuidShort - 1n;
    if (drawn !== 0n) changes.push(`the session drew ${drawn} value(s) from the server-wide UUID_SHORT counter`);
    this.baseline = after;

    // Harmless session changes (autocommit, a default database, read-only on, a followed sql_mode)
    // and any leaked one: start the next statement from the same session state.
    const drift = ['txro', 'mode', 'csc', 'cscn', 'coll', 'iso', 'ac', 'db'].some((key) => state[key] !== before[key]);
    if (drift || changes.length > 0) await this.useSqlMode(this.sqlMode);

    if (changes.length === 0) return undefined;
    const leak: Leak = { seed, index, sqlMode: this.sqlMode, sql, classification, changes };
    this.counts.leaks += 1;
    this.leaks.push(leak);
    return leak;
  }

  /** Names the classifier saw in `sql` under the session's mode: SET targets it could have judged. */
  private visibleNames(sql: string): Set<string> {
    const reading = readSqlMode(this.sqlMode);
    const names = new Set<string>();
    if ('refused' in reading) return names;
    for (const token of lexSql(sql, reading.lexing).tokens) {
      if (token.type === 'word') names.add(token.value);
      else if (token.type === 'variable') names.add(token.value.replace(/^@@((SESSION|LOCAL)\.)?/, ''));
    }
    return names;
  }

  /** SET NAMES / CHARACTER SET and SET TRANSACTION set several variables under other names. */
  private visibleFamily(visible: ReadonlySet<string>, name: string): boolean {
    if ((visible.has('NAMES') || visible.has('CHARACTER') || visible.has('CHARSET')) && /^(CHARACTER_SET_|COLLATION_CONNECTION)/.test(name)) return true;
    if (visible.has('TRANSACTION') && /^(TRANSACTION_|TX_)/.test(name)) return true;
    if (visible.has('TX_ISOLATION') && name === 'TRANSACTION_ISOLATION') return true;
    if (visible.has('TRANSACTION_ISOLATION') && name === 'TX_ISOLATION') return true;
    if (visible.has('TX_READ_ONLY') && name === 'TRANSACTION_READ_ONLY') return true;
    if (visible.has('TRANSACTION_READ_ONLY') && name === 'TX_READ_ONLY') return true;
    return false;
  }
}

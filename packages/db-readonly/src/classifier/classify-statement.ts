import { classifySqlite } from './classify-sqlite.ts';
import { lexSql, type LexFailure, type LexOptions, type Token } from './lex-sql.ts';
import {
  CLIENT_CHARSET_VARIABLES,
  ISOLATION_VARIABLES,
  READ_ONLY_VARIABLES,
  SESSION_VARIABLES,
  TIME_BOUND_VARIABLES,
} from './session-variables.ts';
import { RESETTING_TABLE, SERVER_FUNCTIONS } from './server-functions.ts';
import { readSqlMode } from './sql-mode.ts';
import type { StatementClassification, StatementKind } from './statement-classification.ts';

export type SqlDialect = 'mysql' | 'mariadb' | 'sqlite';


export interface ClassifyOptions {
  /** Defaults to `mysql`; `mysql` and `mariadb` get the same fail-closed rules, `sqlite` SQLite's lexing and grammar. */
  readonly dialect?: SqlDialect;
  /**
   * The session's `@@sql_mode` (MySQL and MariaDB). Given, the statement is read exactly as the
   * server reads it in that mode; a mode the classifier cannot follow refuses every statement.
   * Absent, the statement must be harmless under every reading a session could have (backslash
   * escapes on or off, `"` quoting strings or names).
   */
  readonly sqlMode?: string;
}

const allow = (kind: 'read' | 'transaction' | 'session', keyword: string, reason: string): StatementClassification => ({
  allowed: true,
  kind,
  reason,
  keyword,
});
const refuse = (kind: Exclude<StatementKind, 'read' | 'transaction' | 'session'>, keyword: string, reason: string): StatementClassification => ({
  allowed: false,
  kind,
  reason,
  keyword,
});

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'REPLACE']);
const DDL = new Set(['CREATE', 'ALTER', 'DROP', 'RENAME', 'TRUNCATE']);
const READ_STARTS = new Set(['SELECT', 'TABLE', 'VALUES', 'WITH']);
const SIDE_EFFECTS: ReadonlyMap<string, string> = new Map([
  ['CALL', 'CALL runs a stored procedure, which may write'],
  ['DO', 'DO evaluates expressions for their side effects'],
  ['PREPARE', 'PREPARE hides the statement it prepares from the classifier'],
  ['EXECUTE', 'EXECUTE runs a prepared statement the classifier has not seen'],
  ['DEALLOCATE', 'DEALLOCATE PREPARE is part of server-side prepared SQL'],
  ['KILL', 'KILL ends another session or its query'],
  ['FLUSH', 'FLUSH changes server state'],
  ['ANALYZE', 'ANALYZE updates statistics or runs the statement it analyzes'],
  ['OPTIMIZE', 'OPTIMIZE rebuilds tables'],
  ['REPAIR', 'REPAIR rewrites tables'],
  ['CHECK', 'CHECK TABLE may upgrade tables'],
  ['CHECKSUM', 'CHECKSUM TABLE is not on the allow-list'],
  ['HANDLER', 'HANDLER opens tables outside the SQL layer'],
  ['XA', 'XA transactions are not on the allow-list'],
  ['GRANT', 'GRANT changes privileges'],
  ['REVOKE', 'REVOKE changes privileges'],
  ['INSTALL', 'INSTALL loads server code'],
  ['UNINSTALL', 'UNINSTALL unloads server code'],
  ['RESET', 'RESET changes server state'],
  ['PURGE', 'PURGE deletes logs'],
  ['CHANGE', 'CHANGE MASTER/REPLICATION changes replication'],
  ['START', 'START (other than START TRANSACTION) controls replication or the server'],
  ['STOP', 'STOP controls replication or the server'],
  ['SHUTDOWN', 'SHUTDOWN stops the server'],
  ['RESTART', 'RESTART restarts the server'],
  ['CLONE', 'CLONE copies data between servers'],
  ['BINLOG', 'BINLOG replays binary-log events'],
  ['CACHE', 'CACHE INDEX changes server state'],
  ['SIGNAL', 'SIGNAL is for stored programs'],
  ['RESIGNAL', 'RESIGNAL is for stored programs'],
  ['IMPORT', 'IMPORT TABLE changes the schema'],
  ['BACKUP', 'BACKUP changes server state'],
  ['LOCK', 'LOCK TABLES takes table locks'],
  ['UNLOCK', 'UNLOCK TABLES is part of table locking'],
]);


const isWord = (token: Token | undefined, value?: string): boolean =>
  token?.type === 'word' && (value === undefined || token.value === value);
const isPunctuation = (token: Token | undefined, value: string): boolean => token?.type === 'punctuation' && token.value === value;
const isName = (token: Token | undefined): boolean => token?.type === 'word' || token?.type === 'quoted-identifier';
/** A word or a string, optionally equal (case-insensitively) to `value`. */
const isLiteralValue = (token: Token | undefined, value?: string): boolean =>
  (token?.type === 'word' || token?.type === 'string') && (value === undefined || token.value.toUpperCase() === value);

/** The index after the group that opens at `open` (a `(`), or `tokens.length` when unclosed. */
function skipGroup(tokens: readonly Token[], open: number): number {
  const depth = tokens[open]!.depth;
  for (let index = open + 1; index < tokens.length; index += 1) {
    if (tokens[index]!.depth === depth && isPunctuation(tokens[index], ')')) return index + 1;
  }
  return tokens.length;
}

const SEVERITY: Record<'escape' | 'lock' | 'side-effect', number> = { escape: 3, lock: 2, 'side-effect': 1 };

/**
 * Locks, file access and sequence changes can hide inside any statement, at any depth: a subquery,
 * a SET expression, a column list. Returns the most severe one found.
 */
function findHazard(tokens: readonly Token[], keyword: string): StatementClassification | undefined {
  let found: StatementClassification | undefined;
  const note = (kind: 'escape' | 'lock' | 'side-effect', reason: string): void => {
    if (found === undefined || SEVERITY[kind] > SEVERITY[found.kind as keyof typeof SEVERITY]) found = refuse(kind, keyword, reason);
  };
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    const next = tokens[index + 1];
    if ((token.type === 'word' || token.type === 'quoted-identifier') && isPunctuation(next, '(')) {
      const name = token.type === 'word' ? token.value : token.value.toUpperCase();
      const server = SERVER_FUNCTIONS.get(name);
      if (server !== undefined) note(server.effect, server.reason);
      continue;
    }
    // (A length test first: most names are far shorter, and this runs for every name of every statement.)
    if ((token.type === 'word' || token.type === 'quoted-identifier') && token.value.length >= 16 && RESETTING_TABLE.test(token.type === 'word' ? token.value : token.value.toUpperCase())) {
      note('side-effect', `reading ${token.value} resets server-wide counters`);
      continue;
    }
    if (token.type !== 'word') continue;
    if (token.value === 'INTO' && (isWord(next, 'OUTFILE') || isWord(next, 'DUMPFILE'))) {
      note('escape', `INTO ${next!.value} writes a file on the server`);
    } else if (token.value === 'FOR' && (isWord(next, 'UPDATE') || isWord(next, 'SHARE'))) {
      note('lock', `a locking read (FOR ${next!.value}) holds row locks the primary may wait on`);
    } else if (token.value === 'LOCK' && isWord(next, 'IN') && isWord(tokens[index + 2], 'SHARE') && isWord(tokens[index + 3], 'MODE')) {
      note('lock', 'a locking read (LOCK IN SHARE MODE) holds row locks the primary may wait on');
    } else if (token.value === 'NEXT' && isWord(next, 'VALUE') && isWord(tokens[index + 2], 'FOR')) {
      note('side-effect', 'NEXT VALUE FOR changes a sequence');
    }
  }
  return found;
}

function classifyExplain(tokens: readonly Token[], start: number, keyword: string): StatementClassification {
  let index = start + 1;
  // EXPLAIN [EXTENDED | PARTITIONS | ANALYZE | FORMAT = name] …
  for (;;) {
    const token = tokens[index];
    if (isWord(token, 'EXTENDED') || isWord(token, 'PARTITIONS') || isWord(token, 'ANALYZE')) index += 1;
    else if (isWord(token, 'FORMAT') && isPunctuation(tokens[index + 1], '=')) index += 3;
    else break;
  }
  const target = tokens[index];
  if (target === undefined) return refuse('unknown', keyword, `${keyword} without a statement or table`);
  const explainsStatement = isPunctuation(target, '(') || (target.type === 'word' && (READ_STARTS.has(target.value) || WRITES.has(target.value)));
  if (explainsStatement) {
    const inner = classifyTokens(tokens.slice(index));
    if (inner.kind === 'read') return allow('read', keyword, `${keyword} of a read`);
    return { ...inner, allowed: false, keyword, reason: `${keyword} of a statement that is not a read: ${inner.reason}` };
  }
  if (isWord(target, 'FOR')) return refuse('unknown', keyword, `${keyword} FOR CONNECTION is not on the allow-list`);
  if (isName(target)) return allow('read', keyword, `${keyword} of a table reads its definition`);
  return refuse('unknown', keyword, `${keyword} followed by something the classifier does not know`);
}

function classifyTransactionCharacteristics(tokens: readonly Token[], start: number, keyword: string): StatementClassification {
  // Comma-separated: ISOLATION LEVEL …, READ ONLY, READ WRITE, WITH CONSISTENT SNAPSHOT.
  let index = start;
  let serializable = false;
  while (index < tokens.length) {
    const token = tokens[index];
    if (isWord(token, 'READ') && isWord(tokens[index + 1], 'WRITE')) {
      return refuse('escape', keyword, 'READ WRITE turns the read-only transaction mode off');
    }
    if (isWord(token, 'READ') && isWord(tokens[index + 1], 'ONLY')) index += 2;
    else if (isWord(token, 'WITH') && isWord(tokens[index + 1], 'CONSISTENT') && isWord(tokens[index + 2], 'SNAPSHOT')) index += 3;
    else if (isWord(token, 'ISOLATION') && isWord(tokens[index + 1], 'LEVEL')) {
      index += 2;
      if (isWord(tokens[index], 'SERIALIZABLE')) {
        serializable = true;
        index += 1;
      }
      else if (isWord(tokens[index], 'REPEATABLE') && isWord(tokens[index + 1], 'READ')) index += 2;
      else if (isWord(tokens[index], 'READ') && (isWord(tokens[index + 1], 'COMMITTED') || isWord(tokens[index + 1], 'UNCOMMITTED'))) index += 2;
      else return refuse('unknown', keyword, 'an isolation level the classifier does not know');
    } else return refuse('unknown', keyword, 'a transaction characteristic the classifier does not know');
    if (index < tokens.length) {
      if (!isPunctuation(tokens[index], ',')) return refuse('unknown', keyword, 'transaction characteristics not separated by commas');
      index += 1;
    }
  }
  if (serializable) return refuse('lock', keyword, 'SERIALIZABLE isolation turns plain reads into share locks the primary may wait on');
  return keyword === 'SET'
    ? allow('session', keyword, 'transaction characteristics that keep read-only')
    : allow('transaction', keyword, 'starts a transaction in the session\'s read-only mode');
}

const GLOBAL_SCOPES = new Set(['GLOBAL', 'PERSIST', 'PERSIST_ONLY']);
const SESSION_SCOPES = new Set(['SESSION', 'LOCAL']);
const TRUE_VALUES = new Set(['1', 'ON', 'TRUE']);
const NON_LOCKING_ISOLATION = new Set(['READ-UNCOMMITTED', 'READ-COMMITTED', 'REPEATABLE-READ']);

/** One `target = value` of a SET statement. */
function classifyAssignment(group: readonly Token[]): StatementClassification | undefined {
  let index = 0;
  let name: string;
  const first = group[0];
  if (first?.type === 'variable') {
    if (!first.value.startsWith('@@')) return undefined; // a user variable: session-local
    const [scope, variable] = first.value.slice(2).includes('.') ? first.value.slice(2).split('.', 2) : ['SESSION', first.value.slice(2)];
    if (GLOBAL_SCOPES.has(scope!)) return refuse('side-effect', 'SET', `SET @@${scope!.toLowerCase()}.… changes the server for every session`);
    if (!SESSION_SCOPES.has(scope!)) return refuse('unknown', 'SET', `a variable scope the classifier does not know (${scope})`);
    name = variable!;
    index = 1;
  } else if (isWord(first)) {
    if (GLOBAL_SCOPES.has(first!.value)) return refuse('side-effect', 'SET', `SET ${first!.value} changes the server for every session`);
    if (SESSION_SCOPES.has(first!.value)) index = 1;
    if (!isWord(group[index])) return refuse('unknown', 'SET', 'a SET target the classifier does not know');
    name = group[index]!.value;
    index += 1;
  } else {
    return refuse('unknown', 'SET', 'a SET target the classifier does not know');
  }

  if (isPunctuation(group[index], ':') && isPunctuation(group[index + 1], '=')) index += 2;
  else if (isPunctuation(group[index], '=')) index += 1;
  else return refuse('unknown', 'SET', `SET ${name.toLowerCase()} without "="`);
  const value = group.slice(index);

  if (READ_ONLY_VARIABLES.has(name)) {
    const only = value.length === 1 ? value[0]! : undefined;
    const on = only !== undefined && (only.type === 'word' || only.type === 'string') && TRUE_VALUES.has(only.value.toUpperCase());
    return on ? undefined : refuse('escape', 'SET', `setting ${name.toLowerCase()} to anything but 1 turns read-only off`);
  }
  const literal = value.length === 1 && isLiteralValue(value[0]) ? value[0]!.value.toUpperCase() : undefined;
  if (name === 'SQL_MODE') {
    // A literal the classifier cannot follow is refused here; any other value is read back from
    // the server once set, and a mode it cannot follow ends the connection.
    const reading = literal === undefined ? undefined : readSqlMode(literal);
    return reading !== undefined && 'refused' in reading ? refuse('unknown', 'SET', reading.refused) : undefined;
  }
  if (CLIENT_CHARSET_VARIABLES.has(name)) {
    return literal?.startsWith('UTF8MB4')
      ? undefined
      : refuse('escape', 'SET', `${name.toLowerCase()} is pinned to utf8mb4: the server would read the bytes of later statements otherwise than the classifier`);
  }
  if (ISOLATION_VARIABLES.has(name)) {
    // Only a level named outright: adjacent literals ('SERIAL' 'IZABLE'), numbers (3), DEFAULT and
    // expressions can all mean SERIALIZABLE.
    return literal !== undefined && NON_LOCKING_ISOLATION.has(literal)
      ? undefined
      : refuse('lock', 'SET', 'SERIALIZABLE isolation (or a level not named outright) turns plain reads into share locks the primary may wait on');
  }
  if (TIME_BOUND_VARIABLES.has(name)) return refuse('escape', 'SET', `${name.toLowerCase()} is set by the guard: it bounds how long a mirror statement or transaction may hold the server`);
  if (SESSION_VARIABLES.has(name)) return undefined;
  return refuse('unknown', 'SET', `session variable ${name.toLowerCase()} is not on the allow-list`);
}

function classifySet(tokens: readonly Token[], start: number): StatementClassification {
  const next = tokens[start + 1];
  const after = tokens[start + 2];
  if (isWord(next, 'CHARSET') || (isWord(next, 'CHARACTER') && isWord(after, 'SET'))) {
    // Whatever it names, SET CHARACTER SET sets character_set_connection to the default database's
    // character set, which the classifier cannot know (found by the lexer differential test).
    return refuse('escape', 'SET', 'SET CHARACTER SET sets the connection character set to the database\'s, and the guard pins it to utf8mb4');
  }
  if (isWord(next, 'NAMES')) {
    // SET NAMES utf8mb4 [COLLATE utf8mb4_…]: the only character set the classifier reads statements
    // in (see CLIENT_CHARSET_VARIABLES).
    const value = tokens.slice(start + 2);
    const collation = value.length === 3 && isWord(value[1], 'COLLATE') ? value[2] : undefined;
    const utf8mb4 =
      isLiteralValue(value[0], 'UTF8MB4') &&
      (value.length === 1 || (collation !== undefined && isLiteralValue(collation) && collation.value.toUpperCase().startsWith('UTF8MB4_')));
    return utf8mb4
      ? allow('session', 'SET', 'sets the connection character set to utf8mb4')
      : refuse('escape', 'SET', 'the connection character set is pinned to utf8mb4: the server would read the bytes of later statements otherwise than the classifier');
  }
  if (isWord(next, 'PASSWORD')) return refuse('side-effect', 'SET', 'SET PASSWORD changes an account');
  if (isWord(next, 'ROLE') || (isWord(next, 'DEFAULT') && isWord(after, 'ROLE'))) return refuse('side-effect', 'SET', 'SET ROLE changes the privileges in force');
  if (isWord(next, 'RESOURCE')) return refuse('side-effect', 'SET', 'SET RESOURCE GROUP changes server scheduling');
  if (isWord(next, 'STATEMENT')) return refuse('unknown', 'SET', 'SET STATEMENT … FOR is not on the allow-list');
  if (next !== undefined && isWord(next) && GLOBAL_SCOPES.has(next.value) && isWord(after, 'TRANSACTION')) {
    return refuse('side-effect', 'SET', `SET ${next.value} TRANSACTION changes the server default for every session`);
  }
  if (isWord(next, 'TRANSACTION')) return classifyTransactionCharacteristics(tokens, start + 2, 'SET');
  if (next !== undefined && isWord(next) && SESSION_SCOPES.has(next.value) && isWord(after, 'TRANSACTION')) {
    return classifyTransactionCharacteristics(tokens, start + 3, 'SET');
  }

  // MariaDB reads a subquery in SET with shared row locks, even in a read-only transaction, and
  // holds them to the transaction's end (found by the lexer differential test).
  if (tokens.slice(start + 1).some((token) => token.type === 'word' && READ_STARTS.has(token.value))) {
    return refuse('lock', 'SET', 'a subquery in SET takes shared row locks the primary may wait on');
  }

  // SET a = 1, @b := 2, SESSION c = 3: split at top-level commas.
  const depth = tokens[start]!.depth;
  let group: Token[] = [];
  const groups: Token[][] = [group];
  for (const token of tokens.slice(start + 1)) {
    if (token.depth === depth && isPunctuation(token, ',')) groups.push((group = []));
    else group.push(token);
  }
  for (const assignment of groups) {
    const refused = classifyAssignment(assignment);
    if (refused !== undefined) return refused;
  }
  return allow('session', 'SET', 'sets session variables that cannot write');
}

function classifyTokens(tokens: readonly Token[]): StatementClassification {
  let start = 0;
  while (isPunctuation(tokens[start], '(')) start += 1;
  const lead = tokens[start];
  if (lead === undefined) return refuse('unknown', '', 'an empty statement');
  const keyword = lead.type === 'word' ? lead.value : '';

  const hazard = findHazard(tokens, keyword);
  if (hazard !== undefined) return hazard;

  if (start > 0 && !(keyword === 'SELECT' || keyword === 'WITH' || keyword === 'TABLE' || keyword === 'VALUES')) {
    return refuse('unknown', keyword, 'a parenthesised statement that is not a query');
  }
  switch (keyword) {
    case 'SELECT':
    case 'TABLE':
    case 'VALUES':
      return allow('read', keyword, `${keyword} reads`);
    case 'SHOW':
      // To InnoDB only a SELECT reads without locking: a subquery in SHOW … WHERE takes shared row locks.
      if (tokens.some((token, index) => index > start && token.type === 'word' && READ_STARTS.has(token.value) && isPunctuation(tokens[index - 1], '('))) {
        return refuse('lock', keyword, 'a subquery in SHOW takes shared row locks the primary may wait on');
      }
      return allow('read', keyword, 'SHOW reads server metadata');
    case 'WITH': {
      let index = start + 1;
      if (isWord(tokens[index], 'RECURSIVE')) index += 1;
      for (;;) {
        if (!isName(tokens[index])) return refuse('unknown', keyword, 'a WITH clause the classifier does not know');
        index += 1;
        if (isPunctuation(tokens[index], '(')) index = skipGroup(tokens, index);
        if (!isWord(tokens[index], 'AS') || !isPunctuation(tokens[index + 1], '(')) return refuse('unknown', keyword, 'a WITH clause the classifier does not know');
        index = skipGroup(tokens, index + 1);
        if (!isPunctuation(tokens[index], ',')) break;
        index += 1;
      }
      const main = classifyTokens(tokens.slice(index));
      return main.kind === 'read' ? allow('read', keyword, 'WITH … SELECT reads') : { ...main, keyword };
    }
    case 'DESCRIBE':
    case 'DESC':
    case 'EXPLAIN':
      return classifyExplain(tokens, start, keyword);
    case 'BEGIN': {
      const rest = tokens.slice(start + 1);
      if (rest.length === 0 || (rest.length === 1 && isWord(rest[0], 'WORK'))) return allow('transaction', keyword, 'starts a transaction in the session\'s read-only mode');
      return refuse('unknown', keyword, 'BEGIN followed by something other than WORK (a compound statement?)');
    }
    case 'COMMIT':
    case 'ROLLBACK':
      // [WORK] [AND [NO] CHAIN] [[NO] RELEASE] | [WORK] TO [SAVEPOINT] name
      return tokens.slice(start + 1).every(isName)
        ? allow('transaction', keyword, `${keyword} ends a transaction`)
        : refuse('unknown', keyword, `${keyword} followed by something the classifier does not know`);
    case 'SAVEPOINT':
      return tokens.length === start + 2 && isName(tokens[start + 1])
        ? allow('transaction', keyword, 'SAVEPOINT marks a transaction')
        : refuse('unknown', keyword, 'a SAVEPOINT the classifier does not know');
    case 'RELEASE':
      return isWord(tokens[start + 1], 'SAVEPOINT') && tokens.length === start + 3 && isName(tokens[start + 2])
        ? allow('transaction', keyword, 'RELEASE SAVEPOINT')
        : refuse('unknown', keyword, 'RELEASE other than RELEASE SAVEPOINT');
    case 'START':
      if (isWord(tokens[start + 1], 'TRANSACTION')) return classifyTransactionCharacteristics(tokens, start + 2, keyword);
      return refuse('side-effect', keyword, SIDE_EFFECTS.get(keyword)!);
    case 'SET':
      return classifySet(tokens, start);
    case 'USE':
      return tokens.length === start + 2 && isName(tokens[start + 1])
        ? allow('session', keyword, 'USE changes the default database')
        : refuse('unknown', keyword, 'a USE the classifier does not know');
    case 'LOAD':
      return isWord(tokens[start + 1], 'DATA') || isWord(tokens[start + 1], 'XML')
        ? refuse('escape', keyword, `LOAD ${tokens[start + 1]!.value} reads files and writes tables`)
        : refuse('side-effect', keyword, 'LOAD INDEX changes server state');
    default:
      if (WRITES.has(keyword)) return refuse('write', keyword, `${keyword} changes data`);
      if (DDL.has(keyword)) return refuse('ddl', keyword, `${keyword} changes the schema`);
      if (keyword === 'LOCK' || keyword === 'UNLOCK') return refuse('lock', keyword, SIDE_EFFECTS.get(keyword)!);
      if (SIDE_EFFECTS.has(keyword)) return refuse('side-effect', keyword, SIDE_EFFECTS.get(keyword)!);
      return refuse('unknown', keyword, keyword === '' ? 'a statement that does not start with a keyword' : `${keyword} is not a statement the classifier knows`);
  }
}

function classifyText(sql: string, lexing: LexOptions): { result: StatementClassification; backslashInString: boolean } {
  const lexed = lexSql(sql, lexing);
  const firstWord = lexed.tokens.find((token) => token.type === 'word')?.value ?? '';
  if (lexed.failure !== undefined) {
    const failure: LexFailure = lexed.failure;
    return { result: refuse(failure.kind, firstWord, failure.reason), backslashInString: lexed.backslashInString };
  }
  const tokens = lexed.tokens;
  const end = lexed.firstSemicolon;
  if (end !== -1 && tokens.slice(end).some((token) => !isPunctuation(token, ';'))) {
    return { result: refuse('escape', firstWord, 'more than one statement'), backslashInString: lexed.backslashInString };
  }
  return { result: classifyTokens(end === -1 ? tokens : tokens.slice(0, end)), backslashInString: lexed.backslashInString };
}

const SERVER_DEFAULT: LexOptions = { backslashEscapes: true, ansiQuotes: false };
// The other readings a session of unknown sql_mode could give a statement, and the mode that gives each.
const OTHER_READINGS: ReadonlyArray<readonly [LexOptions, string]> = [
  [{ backslashEscapes: false, ansiQuotes: false }, 'NO_BACKSLASH_ESCAPES'],
  [{ backslashEscapes: true, ansiQuotes: true }, 'ANSI_QUOTES'],
  [{ backslashEscapes: false, ansiQuotes: true }, 'ANSI_QUOTES and NO_BACKSLASH_ESCAPES'],
];

/**
 * Classifies a MySQL or MariaDB statement as the server lexes it under `lexing` (a session whose
 * sql_mode is known), or, with `undefined`, under every reading a session could give it.
 */
export function classifyMysqlStatement(sql: string, lexing: LexOptions | undefined): StatementClassification {
  if (lexing !== undefined) return classifyText(sql, lexing).result;
  const usual = classifyText(sql, SERVER_DEFAULT);
  if (!usual.result.allowed || (!usual.backslashInString && !sql.includes('"'))) return usual.result;
  for (const [reading, mode] of OTHER_READINGS) {
    const other = classifyText(sql, reading).result;
    if (!other.allowed) return { ...other, reason: `${other.reason} (read as the server does under ${mode})` };
  }
  return usual.result;
}

/**
 * Classifies one MySQL or MariaDB statement (or SQLite SQL, with `dialect: 'sqlite'`), failing closed: only statements it can prove are
 * reads, read-only transaction control, or harmless session settings are allowed. Locking reads,
 * named locks, file access, sequence changes and anything that turns read-only off are refused
 * wherever they appear, as are writes, DDL, several statements, anything it cannot lex, and every
 * statement kind it does not know.
 */
export function classifyStatement(sql: string, options: ClassifyOptions = {}): StatementClassification {
  if (options.dialect === 'sqlite') return classifySqlite(sql);
  if (options.sqlMode === undefined) return classifyMysqlStatement(sql, undefined);
  const reading = readSqlMode(options.sqlMode);
  if ('refused' in reading) return refuse('unknown', '', reading.refused);
  return classifyMysqlStatement(sql, reading.lexing);
}

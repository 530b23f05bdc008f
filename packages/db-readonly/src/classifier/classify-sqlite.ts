import type { StatementClassification, StatementKind } from './statement-classification.ts';
import type { Token } from './lex-sql.ts';
import { lexSqlite } from './lex-sqlite.ts';
import {
  ACTION_PRAGMAS,
  ESCAPE_PRAGMAS,
  KNOWN_PRAGMAS,
  ON_VALUES,
  QUERY_ONLY_PRAGMA,
  READ_PRAGMAS,
  READ_PRAGMAS_WITH_ARGUMENT,
  SESSION_PRAGMAS,
} from './sqlite-pragmas.ts';

// The SQLite dialect: the same verdict shape and kinds as MySQL's, SQLite's own lexing and grammar.

const allow = (kind: 'read' | 'transaction' | 'session', keyword: string, reason: string): StatementClassification => ({ allowed: true, kind, reason, keyword });
const refuse = (kind: Exclude<StatementKind, 'read' | 'transaction' | 'session'>, keyword: string, reason: string): StatementClassification => ({
  allowed: false,
  kind,
  reason,
  keyword,
});

const isWord = (token: Token | undefined, value?: string): boolean => token?.type === 'word' && (value === undefined || token.value === value);
const isPunctuation = (token: Token | undefined, value: string): boolean => token?.type === 'punctuation' && token.value === value;
const isName = (token: Token | undefined): boolean => token?.type === 'word' || token?.type === 'quoted-identifier';
/** A name as SQLite compares it: case-insensitively, quoted or not. */
const nameOf = (token: Token): string => (token.type === 'word' ? token.value : token.value.toUpperCase());

const WRITES = new Set(['INSERT', 'REPLACE', 'UPDATE', 'DELETE']);
const DDL = new Set(['CREATE', 'DROP', 'ALTER']);

// Functions that reach outside the database wherever they appear (the last three are the sqlite3
// shell's, refused in case an app registers its own).
const HAZARD_FUNCTIONS: ReadonlyMap<string, readonly ['escape' | 'side-effect', string]> = new Map([
  ['LOAD_EXTENSION', ['escape', 'load_extension() loads native code into the database connection']],
  ['FTS3_TOKENIZER', ['side-effect', 'fts3_tokenizer() registers a tokenizer by pointer']],
  ['READFILE', ['escape', 'readfile() reads files']],
  ['WRITEFILE', ['escape', 'writefile() writes files']],
  ['EDIT', ['escape', 'edit() runs an editor']],
]);

function findHazard(tokens: readonly Token[], keyword: string): StatementClassification | undefined {
  for (let index = 0; index + 1 < tokens.length; index += 1) {
    const token = tokens[index]!;
    if ((token.type === 'word' || token.type === 'quoted-identifier') && isPunctuation(tokens[index + 1], '(')) {
      const hazard = HAZARD_FUNCTIONS.get(nameOf(token));
      if (hazard !== undefined) return refuse(hazard[0], keyword, hazard[1]);
    }
  }
  return undefined;
}

/** The index after the group that opens at `open` (a `(`), or `tokens.length` when unclosed. */
function skipGroup(tokens: readonly Token[], open: number): number {
  const depth = tokens[open]!.depth;
  for (let index = open + 1; index < tokens.length; index += 1) {
    if (tokens[index]!.depth === depth && isPunctuation(tokens[index], ')')) return index + 1;
  }
  return tokens.length;
}

/** A pragma's value as SQLite's grammar has it: one name, string or number, or a signed number. */
function isPragmaValue(value: readonly Token[]): boolean {
  if (value.length === 1) return value[0]!.type === 'word' || value[0]!.type === 'string' || value[0]!.type === 'quoted-identifier';
  return value.length === 2 && (isPunctuation(value[0], '-') || isPunctuation(value[0], '+')) && isWord(value[1]);
}

// PRAGMA [schema.]name [= value | (value)]
function classifyPragma(tokens: readonly Token[]): StatementClassification {
  const keyword = 'PRAGMA';
  let index = 1;
  if (!isName(tokens[index])) return refuse('unknown', keyword, 'a PRAGMA without a name');
  if (isPunctuation(tokens[index + 1], '.')) {
    index += 2;
    if (!isName(tokens[index])) return refuse('unknown', keyword, 'a PRAGMA without a name after its schema');
  }
  const name = nameOf(tokens[index]!).toLowerCase();
  index += 1;

  let value: readonly Token[] | undefined;
  let call = false;
  if (index === tokens.length) value = undefined;
  else if (isPunctuation(tokens[index], '=')) value = tokens.slice(index + 1);
  else if (isPunctuation(tokens[index], '(') && skipGroup(tokens, index) === tokens.length) {
    value = tokens.slice(index + 1, -1);
    call = true;
  } else return refuse('unknown', keyword, `PRAGMA ${name} followed by something the classifier does not know`);
  if (value !== undefined && !isPragmaValue(value)) return refuse('unknown', keyword, `a PRAGMA ${name} value the classifier does not know`);

  const action = ACTION_PRAGMAS.get(name);
  if (action !== undefined) return refuse('side-effect', keyword, action);
  if (value === undefined) {
    return READ_PRAGMAS.has(name)
      ? allow('read', keyword, `PRAGMA ${name} reports a setting or the schema`)
      : refuse('unknown', keyword, `PRAGMA ${name} is not on the allow-list of read-only pragmas`);
  }
  if (call && READ_PRAGMAS_WITH_ARGUMENT.has(name)) return allow('read', keyword, `PRAGMA ${name}(…) reports on the schema`);

  // Everything below sets something.
  if (name === QUERY_ONLY_PRAGMA) {
    const only = value[0]!;
    return value.length === 1 && only.type !== 'quoted-identifier' && ON_VALUES.has(only.value.toUpperCase())
      ? allow('session', keyword, 'PRAGMA query_only = ON keeps the connection read-only')
      : refuse('escape', keyword, 'setting query_only to anything but ON turns read-only off');
  }
  const escape = ESCAPE_PRAGMAS.get(name);
  if (escape !== undefined) return refuse('escape', keyword, escape);
  if (name === 'locking_mode') return refuse('lock', keyword, 'PRAGMA locking_mode = EXCLUSIVE holds the database lock, which the primary waits on');
  if (SESSION_PRAGMAS.has(name)) return allow('session', keyword, `PRAGMA ${name} is a setting of this connection that cannot write`);
  if (READ_PRAGMAS_WITH_ARGUMENT.has(name)) return refuse('unknown', keyword, `PRAGMA ${name} = … is not on the allow-list (PRAGMA ${name}(…) is)`);
  if (KNOWN_PRAGMAS.has(name)) return refuse('side-effect', keyword, `PRAGMA ${name} = … changes a setting (some are written to the database file)`);
  return refuse('unknown', keyword, `PRAGMA ${name} is not a pragma the classifier knows`);
}

function classifyWith(tokens: readonly Token[]): StatementClassification {
  const keyword = 'WITH';
  const unknownClause = refuse('unknown', keyword, 'a WITH clause the classifier does not know');
  let index = 1;
  if (isWord(tokens[index], 'RECURSIVE')) index += 1;
  // name [(columns)] AS [[NOT] MATERIALIZED] (select), …
  for (;;) {
    if (!isName(tokens[index])) return unknownClause;
    index += 1;
    if (isPunctuation(tokens[index], '(')) index = skipGroup(tokens, index);
    if (!isWord(tokens[index], 'AS')) return unknownClause;
    index += 1;
    if (isWord(tokens[index], 'NOT')) index += 1;
    if (isWord(tokens[index], 'MATERIALIZED')) index += 1;
    if (!isPunctuation(tokens[index], '(')) return unknownClause;
    index = skipGroup(tokens, index);
    if (!isPunctuation(tokens[index], ',')) break;
    index += 1;
  }
  const main = classifyOne(tokens.slice(index));
  if (main.kind === 'read') return allow('read', keyword, 'WITH … SELECT reads');
  return { ...main, allowed: false, keyword, reason: `WITH … feeding a statement that is not a read: ${main.reason}` };
}

/** One statement, no semicolons. */
function classifyOne(tokens: readonly Token[]): StatementClassification {
  const lead = tokens[0];
  if (lead === undefined) return refuse('unknown', '', 'an empty statement');
  const keyword = lead.type === 'word' ? lead.value : '';
  const hazard = findHazard(tokens, keyword);
  if (hazard !== undefined) return hazard;

  switch (keyword) {
    case 'SELECT':
    case 'VALUES':
      return allow('read', keyword, `${keyword} reads`);
    case 'WITH':
      return classifyWith(tokens);
    case 'EXPLAIN': {
      const start = isWord(tokens[1], 'QUERY') && isWord(tokens[2], 'PLAN') ? 3 : 1;
      const inner = classifyOne(tokens.slice(start));
      if (inner.kind === 'read') return allow('read', keyword, `${keyword} of a read`);
      return { ...inner, allowed: false, keyword, reason: `${keyword} of a statement that is not a read: ${inner.reason}` };
    }
    case 'PRAGMA':
      return classifyPragma(tokens);
    case 'BEGIN':
      // BEGIN [DEFERRED | IMMEDIATE | EXCLUSIVE] [TRANSACTION [name]]
      if (isWord(tokens[1], 'IMMEDIATE') || isWord(tokens[1], 'EXCLUSIVE')) {
        return refuse('lock', keyword, `BEGIN ${tokens[1]!.value} takes the database's write lock, which the primary waits on`);
      }
      return tokens.length <= 4 && tokens.slice(1).every(isName)
        ? allow('transaction', keyword, 'BEGIN starts a deferred transaction')
        : refuse('unknown', keyword, 'a BEGIN the classifier does not know');
    case 'COMMIT':
    case 'END':
    case 'ROLLBACK':
      // COMMIT|END [TRANSACTION [name]]; ROLLBACK [TRANSACTION [name]] [TO [SAVEPOINT] name]
      return tokens.length <= 6 && tokens.slice(1).every(isName)
        ? allow('transaction', keyword, `${keyword} ends a transaction or rolls back to a savepoint`)
        : refuse('unknown', keyword, `${keyword} followed by something the classifier does not know`);
    case 'SAVEPOINT':
      return tokens.length === 2 && isName(tokens[1]) ? allow('transaction', keyword, 'SAVEPOINT marks a transaction') : refuse('unknown', keyword, 'a SAVEPOINT the classifier does not know');
    case 'RELEASE':
      return (tokens.length === 2 && isName(tokens[1])) || (tokens.length === 3 && isWord(tokens[1], 'SAVEPOINT') && isName(tokens[2]))
        ? allow('transaction', keyword, 'RELEASE [SAVEPOINT] ends a savepoint')
        : refuse('unknown', keyword, 'a RELEASE the classifier does not know');
    case 'ATTACH':
      return refuse('escape', keyword, 'ATTACH opens, or creates, another database file');
    case 'DETACH':
      return refuse('side-effect', keyword, 'DETACH changes the databases of the connection');
    case 'VACUUM':
      return tokens.some((token) => isWord(token, 'INTO'))
        ? refuse('escape', keyword, 'VACUUM INTO writes a copy of the database to a file')
        : refuse('side-effect', keyword, 'VACUUM rewrites the database file');
    case 'REINDEX':
      return refuse('side-effect', keyword, 'REINDEX rebuilds indexes');
    case 'ANALYZE':
      return refuse('side-effect', keyword, 'ANALYZE writes statistics tables');
    default:
      if (WRITES.has(keyword)) return refuse('write', keyword, `${keyword} changes data`);
      if (DDL.has(keyword)) return refuse('ddl', keyword, `${keyword} changes the schema`);
      return refuse('unknown', keyword, keyword === '' ? 'a statement that does not start with a keyword' : `${keyword} is not a statement the classifier knows`);
  }
}

/** Whether the statement starting at `start` is CREATE [TEMP | TEMPORARY] TRIGGER. */
function startsTrigger(tokens: readonly Token[], start: number): boolean {
  if (!isWord(tokens[start], 'CREATE')) return false;
  const next = isWord(tokens[start + 1], 'TEMP') || isWord(tokens[start + 1], 'TEMPORARY') ? start + 2 : start + 1;
  return isWord(tokens[next], 'TRIGGER');
}

/**
 * Classifies SQLite SQL, failing closed: reads (SELECT, VALUES, WITH … SELECT, EXPLAIN of a read,
 * pragmas that only report), transaction control, and connection settings that cannot write are
 * allowed; several statements only when each is; everything else is refused.
 */
export function classifySqlite(sql: string): StatementClassification {
  const lexed = lexSqlite(sql);
  const tokens = lexed.tokens;
  const firstWord = tokens.find((token) => token.type === 'word')?.value ?? '';
  if (lexed.failure !== undefined) return refuse(lexed.failure.kind, firstWord, lexed.failure.reason);
  if (lexed.semicolons.length === 0) return classifyOne(tokens);

  const statements: Array<readonly Token[]> = [];
  let start = 0;
  for (const end of [...lexed.semicolons, tokens.length]) {
    // A trigger's body holds statements of its own, up to END (as in sqlite3_complete()).
    if (end < tokens.length && startsTrigger(tokens, start) && !isWord(tokens[end - 1], 'END')) continue;
    if (end > start) statements.push(tokens.slice(start, end));
    start = end + 1;
  }
  if (statements.length <= 1) return classifyOne(statements[0] ?? []);
  const verdicts = statements.map(classifyOne);
  const refused = verdicts.find((verdict) => !verdict.allowed);
  if (refused !== undefined) return refuse('escape', firstWord, `more than one statement, not all of them reads: ${refused.reason}`);
  const kind = verdicts.some((verdict) => verdict.kind === 'read') ? 'read' : verdicts[0]!.kind;
  return allow(kind as 'read' | 'transaction' | 'session', firstWord, `${statements.length} statements, each a read, transaction control or a harmless setting`);
}

import type { LexOptions } from './lex-sql.ts';

/**
 * sql_mode flags that leave the server's lexing as the classifier models it, by name: the two that
 * change it (ANSI_QUOTES, NO_BACKSLASH_ESCAPES) are followed; the rest change semantics only.
 * Composite names the server lists beside their parts (ANSI, TRADITIONAL) are known too.
 */
const FOLLOWED_SQL_MODES: ReadonlySet<string> = new Set([
  'ALLOW_INVALID_DATES',
  'ANSI',
  'ANSI_QUOTES',
  'EMPTY_STRING_IS_NULL',
  'ERROR_FOR_DIVISION_BY_ZERO',
  'HIGH_NOT_PRECEDENCE',
  'IGNORE_BAD_TABLE_OPTIONS',
  'IGNORE_SPACE',
  'NO_AUTO_CREATE_USER',
  'NO_AUTO_VALUE_ON_ZERO',
  'NO_BACKSLASH_ESCAPES',
  'NO_DIR_IN_CREATE',
  'NO_ENGINE_SUBSTITUTION',
  'NO_FIELD_OPTIONS',
  'NO_KEY_OPTIONS',
  'NO_TABLE_OPTIONS',
  'NO_UNSIGNED_SUBTRACTION',
  'NO_ZERO_DATE',
  'NO_ZERO_IN_DATE',
  'ONLY_FULL_GROUP_BY',
  'PAD_CHAR_TO_FULL_LENGTH',
  'PIPES_AS_CONCAT',
  'REAL_AS_FLOAT',
  'SIMULTANEOUS_ASSIGNMENT',
  'STRICT_ALL_TABLES',
  'STRICT_TRANS_TABLES',
  'TIME_ROUND_FRACTIONAL',
  'TIME_TRUNCATE_FRACTIONAL',
  'TRADITIONAL',
]);

export type SqlModeReading = { readonly lexing: LexOptions } | { readonly refused: string };

/**
 * How the server lexes statements under `sqlMode` (the value of `@@sql_mode`, a comma-separated
 * list), or why the classifier cannot follow it: ORACLE, MSSQL and the other grammar-switching
 * modes, and every flag it does not know, are refused rather than guessed.
 */
export function readSqlMode(sqlMode: string): SqlModeReading {
  let reading = READINGS.get(sqlMode);
  if (reading === undefined) {
    reading = readFlags(sqlMode);
    // A process sees a handful of modes; the cap keeps a stream of odd ones from growing it.
    if (READINGS.size < 64) READINGS.set(sqlMode, reading);
  }
  return reading;
}

const READINGS = new Map<string, SqlModeReading>();

function readFlags(sqlMode: string): SqlModeReading {
  const flags = sqlMode === '' ? [] : sqlMode.toUpperCase().split(',').map((flag) => flag.trim());
  const unknown = flags.find((flag) => !FOLLOWED_SQL_MODES.has(flag));
  if (unknown !== undefined) return { refused: `sql_mode ${unknown} changes the grammar or is not known to the classifier` };
  return { lexing: { backslashEscapes: !flags.includes('NO_BACKSLASH_ESCAPES'), ansiQuotes: flags.includes('ANSI_QUOTES') } };
}

import { lexSql, type LexOptions } from '../classifier/lex-sql.ts';

// mysql2's query() fills each `?` with an escaped literal. When every value is "plain", the filled-in
// statement reads exactly like its template with literals in place of the placeholders, so the
// template's verdict holds for it and can be cached. Plain means the escaped form is a number,
// TRUE/FALSE/NULL, or a quoted string with no quote, backslash or control character inside: a
// string mysql2 escapes with a backslash would read differently under NO_BACKSLASH_ESCAPES.
const PLAIN_STRING = /^[^'"`\\\x00-\x1f\x7f]*$/;

function isPlainValue(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value);
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return true;
    case 'string':
      return PLAIN_STRING.test(value);
    case 'object':
      return value === null || (value instanceof Date && !Number.isNaN(value.getTime()));
    default:
      return false;
  }
}

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;

function endOfDigits(text: string, at: number): number {
  while (isDigit(text.charCodeAt(at))) at += 1;
  return at;
}

/**
 * The end of the plain literal at `at` as mysql2 writes a plain value, or -1: a quoted string (or
 * date) with no quote, backslash or control character inside; a number (`-`, digits, an optional
 * fraction and exponent); NULL, true or false. By hand: it runs for every query with values, and
 * a regular expression's fixed cost is several times the scan's.
 */
function endOfPlainLiteral(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === 0x27) {
    for (let index = at + 1; index < text.length; index += 1) {
      const code = text.charCodeAt(index);
      if (code === 0x27) return index + 1;
      if (code === 0x22 || code === 0x60 || code === 0x5c || code < 0x20 || code === 0x7f) return -1;
    }
    return -1;
  }
  if (first === 0x2d || isDigit(first)) {
    const digits = first === 0x2d ? at + 1 : at;
    let end = endOfDigits(text, digits);
    if (end === digits) return -1;
    if (text.charCodeAt(end) === 0x2e && isDigit(text.charCodeAt(end + 1))) end = endOfDigits(text, end + 1);
    const sign = text.charCodeAt(end + 1);
    if (text.charCodeAt(end) === 0x65 && (sign === 0x2b || sign === 0x2d) && isDigit(text.charCodeAt(end + 2))) end = endOfDigits(text, end + 2);
    return end;
  }
  if (text.startsWith('NULL', at) || text.startsWith('true', at)) return at + 4;
  return text.startsWith('false', at) ? at + 5 : -1;
}

/**
 * Whether `sql` is the template (split at its `?` into `pieces`) with each placeholder filled by one
 * plain literal: what mysql2's query() sends for plain values. A template's verdict speaks only for
 * such a text; a Query whose `sql` was changed after it was formatted (a createQuery() passed to
 * query(), a property set later) does not read like its template and is classified as it is.
 */
export function readsLikeTemplate(sql: string, pieces: readonly string[]): boolean {
  if (!sql.startsWith(pieces[0]!)) return false;
  let at = pieces[0]!.length;
  for (let index = 1; index < pieces.length; index += 1) {
    at = endOfPlainLiteral(sql, at);
    if (at === -1) return false;
    const piece = pieces[index]!;
    if (!sql.startsWith(piece, at)) return false;
    at += piece.length;
  }
  return at === sql.length;
}

/** Whether every value fills a placeholder with a plain literal (see above). */
export function hasPlainValues(values: unknown): boolean {
  if (values === undefined) return true;
  return Array.isArray(values) && values.every(isPlainValue);
}

/**
 * Whether every `?` of the template is a real placeholder: mysql2's format() also replaces a `?`
 * inside a string, a comment or a quoted name, which would change how the statement reads. `??`
 * (identifier placeholders) never qualifies: an identifier can name a function.
 */
export function hasOnlyRealPlaceholders(template: string, lexing: LexOptions | undefined): boolean {
  if (template.includes('??')) return false;
  let marks = 0;
  for (let index = template.indexOf('?'); index !== -1; index = template.indexOf('?', index + 1)) marks += 1;
  if (marks === 0) return true;
  // A session of unknown sql_mode may read `"` either way: only the server default is followed here.
  if (lexing === undefined && template.includes('"')) return false;
  const lexed = lexSql(template, lexing ?? { backslashEscapes: true });
  if (lexed.failure !== undefined || lexed.backslashInString) return false;
  let placeholders = 0;
  for (const token of lexed.tokens) if (token.type === 'punctuation' && token.value === '?') placeholders += 1;
  return placeholders === marks;
}

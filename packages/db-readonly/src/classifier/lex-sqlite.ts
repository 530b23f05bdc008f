/**
 * A lexer for SQLite statements that follows SQLite's own tokenizer (tokenize.c), as far as
 * classification needs: whitespace is space, tab, line feed, form feed and carriage return only;
 * comments are `--` to the next line feed and `/* … *\/` (not nested); strings are single-quoted with
 * doubled quotes and no backslash escapes; identifiers are "double-quoted", `back-quoted` (both with
 * doubled quotes) or [bracketed] (no escape); `X'…'` is a blob; parameters are `?`, `?NNN`,
 * `:name`, `@name`, `$name` and `#name`. Input SQLite would not tokenize, or would tokenize in a way
 * that depends on how it was built (TCL-style `$name(…)` and `$a::b` parameters), is reported as an
 * error.
 */
import type { LexFailure, Token } from './lex-sql.ts';

export interface SqliteLexResult {
  readonly tokens: readonly Token[];
  /** The indexes in `tokens` of every `;`. */
  readonly semicolons: readonly number[];
  readonly failure?: LexFailure;
}

const TAB = 9;
const LINE_FEED = 10;
const FORM_FEED = 12;
const CARRIAGE_RETURN = 13;
const SPACE = 32;
const DOUBLE_QUOTE = 34;
const HASH = 35;
const DOLLAR = 36;
const SINGLE_QUOTE = 39;
const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;
const STAR = 42;
const MINUS = 45;
const SLASH = 47;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;
const SEMICOLON = 59;
const QUESTION = 63;
const AT = 64;
const UPPER_A = 65;
const UPPER_F = 70;
const UPPER_X = 88;
const UPPER_Z = 90;
const OPEN_BRACKET = 91;
const UNDERSCORE = 95;
const BACKTICK = 96;
const LOWER_A = 97;
const LOWER_F = 102;
const LOWER_X = 120;
const LOWER_Z = 122;

// Punctuation SQLite has tokens for (`!` only in `!=`, which its tokenizer checks itself).
const PUNCTUATION = new Set(';(),.=<>!|&~+-*/%'.split('').map((character) => character.charCodeAt(0)));

// SQLite's IdChar(): ASCII letters, digits, `_`, `$`, and every byte from 0x80 (so any non-ASCII
// character, a no-break space included, is part of a name).
function isIdChar(code: number): boolean {
  return (
    (code >= LOWER_A && code <= LOWER_Z) ||
    (code >= UPPER_A && code <= UPPER_Z) ||
    (code >= DIGIT_0 && code <= DIGIT_9) ||
    code === UNDERSCORE ||
    code === DOLLAR ||
    code >= 0x80
  );
}

const isSpace = (code: number): boolean => code === SPACE || code === TAB || code === LINE_FEED || code === FORM_FEED || code === CARRIAGE_RETURN;
const isHexDigit = (code: number): boolean =>
  (code >= DIGIT_0 && code <= DIGIT_9) || (code >= UPPER_A && code <= UPPER_F) || (code >= LOWER_A && code <= LOWER_F);

/** The index of the quote that closes the literal opening at `start`, with doubled quotes inside; -1 when unclosed. */
function closingQuote(sql: string, start: number, quote: number): number {
  let cursor = start + 1;
  for (;;) {
    const end = sql.indexOf(String.fromCharCode(quote), cursor);
    if (end === -1) return -1;
    if (sql.charCodeAt(end + 1) !== quote) return end;
    cursor = end + 2;
  }
}

export function lexSqlite(sql: string): SqliteLexResult {
  const tokens: Token[] = [];
  const semicolons: number[] = [];
  const fail = (kind: LexFailure['kind'], reason: string): SqliteLexResult => ({ tokens, semicolons, failure: { kind, reason } });
  let depth = 0;
  let index = 0;
  const length = sql.length;

  while (index < length) {
    const code = sql.charCodeAt(index);

    if (isSpace(code)) {
      index += 1;
      continue;
    }
    if (code === MINUS && sql.charCodeAt(index + 1) === MINUS) {
      const end = sql.indexOf('\n', index);
      index = end === -1 ? length : end + 1;
      continue;
    }
    if (code === SLASH && sql.charCodeAt(index + 1) === STAR) {
      // SQLite reads an unclosed block comment to the end of the input; nothing sends one on purpose.
      const end = sql.indexOf('*/', index + 2);
      if (end === -1) return fail('unknown', 'an unterminated /* comment');
      index = end + 2;
      continue;
    }

    if ((code === UPPER_X || code === LOWER_X) && sql.charCodeAt(index + 1) === SINGLE_QUOTE) {
      // A blob: an even number of hex digits, else SQLite refuses the token.
      let cursor = index + 2;
      while (cursor < length && isHexDigit(sql.charCodeAt(cursor))) cursor += 1;
      if (sql.charCodeAt(cursor) !== SINGLE_QUOTE || (cursor - index - 2) % 2 !== 0) return fail('unknown', 'a malformed X\'…\' blob literal');
      tokens.push({ type: 'string', value: sql.slice(index + 2, cursor), depth });
      index = cursor + 1;
      continue;
    }

    if (code === SINGLE_QUOTE || code === DOUBLE_QUOTE || code === BACKTICK) {
      const end = closingQuote(sql, index, code);
      if (end === -1) return fail('unknown', `an unterminated ${String.fromCharCode(code)}-quoted literal`);
      tokens.push({ type: code === SINGLE_QUOTE ? 'string' : 'quoted-identifier', value: sql.slice(index + 1, end), depth });
      index = end + 1;
      continue;
    }
    if (code === OPEN_BRACKET) {
      const end = sql.indexOf(']', index + 1);
      if (end === -1) return fail('unknown', 'an unterminated [bracketed] name');
      tokens.push({ type: 'quoted-identifier', value: sql.slice(index + 1, end), depth });
      index = end + 1;
      continue;
    }

    if (code === QUESTION) {
      let cursor = index + 1;
      while (cursor < length && sql.charCodeAt(cursor) >= DIGIT_0 && sql.charCodeAt(cursor) <= DIGIT_9) cursor += 1;
      tokens.push({ type: 'variable', value: sql.slice(index, cursor), depth });
      index = cursor;
      continue;
    }
    if (code === COLON || code === AT || code === DOLLAR || code === HASH) {
      let cursor = index + 1;
      while (cursor < length && isIdChar(sql.charCodeAt(cursor))) cursor += 1;
      if (cursor === index + 1) return fail('unknown', `a lone ${String.fromCharCode(code)}: not a parameter name`);
      const next = sql.charCodeAt(cursor);
      if (next === OPEN_PAREN || (next === COLON && sql.charCodeAt(cursor + 1) === COLON)) {
        // TCL-style names ($a(x), $a::b) lex as one token or several depending on the build.
        return fail('unknown', 'a TCL-style parameter name ($name(…) or $a::b)');
      }
      tokens.push({ type: 'variable', value: sql.slice(index, cursor), depth });
      index = cursor;
      continue;
    }

    if (isIdChar(code)) {
      // Names, keywords and numbers alike (SQLite refuses a number run into letters at prepare).
      let cursor = index + 1;
      while (cursor < length && isIdChar(sql.charCodeAt(cursor))) cursor += 1;
      tokens.push({ type: 'word', value: sql.slice(index, cursor).toUpperCase(), depth });
      index = cursor;
      continue;
    }

    if (code === OPEN_PAREN) {
      tokens.push({ type: 'punctuation', value: '(', depth });
      depth += 1;
    } else if (code === CLOSE_PAREN) {
      depth -= 1;
      if (depth < 0) return fail('unknown', 'a closing parenthesis without its opening one');
      tokens.push({ type: 'punctuation', value: ')', depth });
    } else if (PUNCTUATION.has(code)) {
      if (code === SEMICOLON) {
        if (depth > 0) return fail('unknown', 'a semicolon inside parentheses');
        semicolons.push(tokens.length);
      }
      tokens.push({ type: 'punctuation', value: sql[index]!, depth });
    } else if (code === 0) {
      return fail('unknown', 'a NUL character outside a literal');
    } else {
      return fail('unknown', `a character SQLite does not tokenize (U+${code.toString(16).toUpperCase().padStart(4, '0')})`);
    }
    index += 1;
  }

  if (depth !== 0) return fail('unknown', 'an unclosed parenthesis');
  return { tokens, semicolons };
}

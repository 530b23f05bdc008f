/**
 * A lexer for MySQL and MariaDB statements that follows the servers' own rules (sql_lex.cc), as far
 * as classification needs: comments (`#`, `-- ` followed by whitespace or a control character, and
 * block comments), executable comments (`/*!`, `/*M!`), quoted strings with doubled quotes and
 * backslash escapes, back-quoted identifiers, variables and punctuation. It never guesses: input it
 * cannot lex the way the server would is reported as an error.
 */

export type TokenType = 'word' | 'string' | 'quoted-identifier' | 'variable' | 'punctuation';

export interface Token {
  readonly type: TokenType;
  /** Words upper-cased; strings and quoted identifiers unquoted; punctuation as written. */
  readonly value: string;
  /** Parenthesis depth at the token (the `(` itself is at the outer depth). */
  readonly depth: number;
}

export interface LexFailure {
  readonly kind: 'escape' | 'unknown';
  readonly reason: string;
}

export interface LexResult {
  readonly tokens: readonly Token[];
  /** The index in `tokens` of the first `;`, or -1. */
  readonly firstSemicolon: number;
  readonly failure?: LexFailure;
  /** A string literal held a backslash, so the reading depends on NO_BACKSLASH_ESCAPES. */
  readonly backslashInString: boolean;
}

export interface LexOptions {
  /** Whether a backslash escapes in quoted strings (the server default; off under NO_BACKSLASH_ESCAPES). */
  readonly backslashEscapes: boolean;
  /** Whether `"` quotes identifiers, as back-quotes do, rather than strings (the ANSI_QUOTES sql_mode). */
  readonly ansiQuotes?: boolean;
}

// Character codes, named.
const SPACE = 32;
const BANG = 33;
const DOUBLE_QUOTE = 34;
const HASH = 35;
const DOLLAR = 36;
const SINGLE_QUOTE = 39;
const OPEN_PAREN = 40;
const CLOSE_PAREN = 41;
const STAR = 42;
const MINUS = 45;
const DOT = 46;
const PLUS = 43;
const SLASH = 47;
const SEMICOLON = 59;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const AT = 64;
const UPPER_A = 65;
const UPPER_E = 69;
const UPPER_M = 77;
const UPPER_Z = 90;
const BACKSLASH = 92;
const UNDERSCORE = 95;
const BACKTICK = 96;
const LOWER_A = 97;
const LOWER_E = 101;
const LOWER_Z = 122;
const DELETE = 127;

// The server's identifier characters: ASCII letters, digits, `$`, `_`, and anything from U+0080.
function isWordChar(code: number): boolean {
  return (
    (code >= LOWER_A && code <= LOWER_Z) ||
    (code >= UPPER_A && code <= UPPER_Z) ||
    (code >= DIGIT_0 && code <= DIGIT_9) ||
    code === UNDERSCORE ||
    code === DOLLAR ||
    code >= 0x80
  );
}

// `-- ` starts a comment only when the dashes are followed by whitespace or a control character
// (the end of input counts: the server reads a NUL there).
function startsDashComment(sql: string, index: number): boolean {
  if (index + 1 >= sql.length) return true;
  const next = sql.charCodeAt(index + 1);
  return next <= SPACE || next === DELETE;
}

const fail = (tokens: Token[], backslashInString: boolean, kind: LexFailure['kind'], reason: string): LexResult => ({
  tokens,
  firstSemicolon: -1,
  failure: { kind, reason },
  backslashInString,
});

const isDigit = (code: number): boolean => code >= DIGIT_0 && code <= DIGIT_9;

/** Whether a quote opens a quoted name rather than a string: a back-quote, or a double quote under ANSI_QUOTES. */
const quotesName = (quote: number, options: LexOptions): boolean => quote === BACKTICK || (quote === DOUBLE_QUOTE && options.ansiQuotes === true);

/**
 * Where a number the server reads as a decimal or a float ends (`12.5`, `.5`, `1e0`, `1.0e-3`), or
 * -1 when the text at `start` is not one: digits followed by letters are a name (`123abc`), and an
 * integer is lexed as a word. `before` is the character before `start`: after a name, `.5` is a
 * qualified name's part, not a number.
 */
function endOfNumber(sql: string, start: number, before: number): number {
  let cursor = start;
  const leadingDot = sql.charCodeAt(cursor) === DOT;
  if (leadingDot) {
    if (!isDigit(sql.charCodeAt(cursor + 1)) || isWordChar(before) || before === BACKTICK || before === DOUBLE_QUOTE) return -1;
  } else if (!isDigit(sql.charCodeAt(cursor))) {
    return -1;
  }
  let decimal = leadingDot;
  if (!leadingDot) while (isDigit(sql.charCodeAt(cursor))) cursor += 1;
  if (sql.charCodeAt(cursor) === DOT) {
    decimal = true;
    cursor += 1;
    while (isDigit(sql.charCodeAt(cursor))) cursor += 1;
  }
  const e = sql.charCodeAt(cursor);
  if (e === UPPER_E || e === LOWER_E) {
    const sign = sql.charCodeAt(cursor + 1);
    const digitAt = sign === PLUS || sign === MINUS ? cursor + 2 : cursor + 1;
    if (isDigit(sql.charCodeAt(digitAt))) {
      cursor = digitAt;
      while (isDigit(sql.charCodeAt(cursor))) cursor += 1;
      return cursor;
    }
  }
  return decimal ? cursor : -1;
}

/**
 * The index of the quote that closes the literal opened at `open`, or -1. A doubled quote stays
 * inside; in a string (not a quoted name) a backslash escapes the next character unless the server
 * runs with NO_BACKSLASH_ESCAPES. `backslash`: a string held one, so its reading depends on that mode.
 */
function closingQuote(sql: string, open: number, identifier: boolean, backslashEscapes: boolean): { end: number; backslash: boolean } {
  const quote = sql.charCodeAt(open);
  const escapes = backslashEscapes && !identifier;
  let backslash = false;
  let cursor = open + 1;
  while (cursor < sql.length) {
    const inner = sql.charCodeAt(cursor);
    if (inner === BACKSLASH && !identifier) {
      backslash = true;
      if (escapes) {
        cursor += 2;
        continue;
      }
    } else if (inner === quote) {
      if (sql.charCodeAt(cursor + 1) !== quote) return { end: cursor, backslash };
      cursor += 2;
      continue;
    }
    cursor += 1;
  }
  return { end: -1, backslash };
}

export function lexSql(sql: string, options: LexOptions): LexResult {
  const tokens: Token[] = [];
  let depth = 0;
  let backslashInString = false;
  let firstSemicolon = -1;
  let index = 0;
  const length = sql.length;

  while (index < length) {
    const code = sql.charCodeAt(index);

    if (code <= SPACE || code === DELETE) {
      // Whitespace and control characters separate tokens; a NUL outside a literal ends the
      // statement for some servers and not others, so it is refused.
      if (code === 0) return fail(tokens, backslashInString, 'unknown', 'a NUL character outside a literal');
      index += 1;
      continue;
    }

    if (code === HASH || (code === MINUS && sql.charCodeAt(index + 1) === MINUS && startsDashComment(sql, index + 1))) {
      // Comments run to the next line feed only: the server ends them nowhere else.
      const end = sql.indexOf('\n', index);
      index = end === -1 ? length : end + 1;
      continue;
    }

    if (code === SLASH && sql.charCodeAt(index + 1) === STAR) {
      const third = sql.charCodeAt(index + 2);
      if (third === BANG || (third === UPPER_M && sql.charCodeAt(index + 3) === BANG)) {
        return fail(tokens, backslashInString, 'escape', 'an executable comment (/*! … */ or /*M! … */) runs hidden SQL');
      }
      if (third === PLUS) {
        // MySQL reads optimizer hints there, MAX_EXECUTION_TIME and SET_VAR among them.
        return fail(tokens, backslashInString, 'escape', 'an optimizer hint comment (/*+ … */) can change session settings such as the statement time bound');
      }
      const end = sql.indexOf('*/', index + 2);
      if (end === -1) return fail(tokens, backslashInString, 'unknown', 'an unterminated /* comment');
      index = end + 2;
      continue;
    }

    if (code === SINGLE_QUOTE || code === DOUBLE_QUOTE || code === BACKTICK) {
      const identifier = quotesName(code, options);
      const close = closingQuote(sql, index, identifier, options.backslashEscapes);
      backslashInString ||= close.backslash;
      if (close.end === -1) return fail(tokens, backslashInString, 'unknown', `an unterminated ${String.fromCharCode(code)}-quoted literal`);
      // The raw text between the quotes: enough to recognise names and values.
      tokens.push({ type: identifier ? 'quoted-identifier' : 'string', value: sql.slice(index + 1, close.end), depth });
      index = close.end + 1;
      continue;
    }

    if (code === AT) {
      // @user_var, @'quoted', @@scope.system_var: kept as one token, quotes included. The server
      // lexes the quoted part as the token it would be on its own: @'…' a string (backslash escapes
      // included), @`…` a name, and @"…" a string or, under ANSI_QUOTES, a name (no escapes).
      let cursor = index + 1;
      if (sql.charCodeAt(cursor) === AT) cursor += 1;
      const first = sql.charCodeAt(cursor);
      if (first === SINGLE_QUOTE || first === DOUBLE_QUOTE || first === BACKTICK) {
        const close = closingQuote(sql, cursor, quotesName(first, options), options.backslashEscapes);
        backslashInString ||= close.backslash;
        if (close.end === -1) return fail(tokens, backslashInString, 'unknown', 'an unterminated quoted variable name');
        cursor = close.end + 1;
      } else {
        while (cursor < length && (isWordChar(sql.charCodeAt(cursor)) || sql.charCodeAt(cursor) === DOT)) cursor += 1;
      }
      tokens.push({ type: 'variable', value: sql.slice(index, cursor).toUpperCase(), depth });
      index = cursor;
      continue;
    }

    const numberEnd = isDigit(code) || code === DOT ? endOfNumber(sql, index, index > 0 ? sql.charCodeAt(index - 1) : SPACE) : -1;
    if (numberEnd !== -1) {
      // A decimal or exponent number ends where its digits do: `1.0LOCK` is 1.0 and LOCK to the server.
      tokens.push({ type: 'word', value: sql.slice(index, numberEnd).toUpperCase(), depth });
      index = numberEnd;
      continue;
    }

    if (isWordChar(code)) {
      let cursor = index + 1;
      while (cursor < length && isWordChar(sql.charCodeAt(cursor))) cursor += 1;
      tokens.push({ type: 'word', value: sql.slice(index, cursor).toUpperCase(), depth });
      index = cursor;
      continue;
    }

    if (code === OPEN_PAREN) {
      tokens.push({ type: 'punctuation', value: '(', depth });
      depth += 1;
    } else if (code === CLOSE_PAREN) {
      depth -= 1;
      if (depth < 0) return fail(tokens, backslashInString, 'unknown', 'a closing parenthesis without its opening one');
      tokens.push({ type: 'punctuation', value: ')', depth });
    } else {
      if (code === SEMICOLON && firstSemicolon === -1) firstSemicolon = tokens.length;
      tokens.push({ type: 'punctuation', value: sql[index]!, depth });
    }
    index += 1;
  }

  if (depth !== 0) return fail(tokens, backslashInString, 'unknown', 'an unclosed parenthesis');
  return { tokens, firstSemicolon, backslashInString };
}

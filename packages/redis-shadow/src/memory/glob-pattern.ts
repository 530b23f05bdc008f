/**
 * Redis' glob matching (KEYS, SCAN MATCH, HSCAN/SSCAN/ZSCAN MATCH), with exactly the answers of its
 * stringmatchlen (Redis 7.0's util.c) over latin1 strings of raw bytes: `*`, `?`, `[abc]`, `[^a]`,
 * `[a-z]`, and `\` to escape — but in O(pattern × subject) steps, never more.
 *
 * Redis matches by recursion on each `*`; a pattern with many stars against a long subject (the
 * keyspace suite's `a*a*…*b`) takes exponential time that way, and froze the engine's event loop.
 * Here the pattern is first read into tokens — each one but `*` matches exactly one byte, and how
 * Redis reads a pattern never depends on the subject — then matched by the usual two-pointer walk
 * that, on a mismatch, moves only the last `*` on by one byte: a match found by any choice of the
 * earlier stars is also found with the earlier stars' shortest choices, so nothing else needs
 * revisiting.
 *
 * Redis' edge cases, kept:
 * - the empty subject matches only the empty pattern (not even `*`: callers treat a pattern of one
 *   `*` as no pattern, as Redis' KEYS and SCAN do);
 * - `[` left unclosed is a class running to the end of the pattern (`[abc` is `[abc]`);
 * - in a class, `\x` is the byte x, `]` closes it unless escaped, `x-y` is a range (either order)
 *   whenever two more bytes follow the x, the closing `]` included (`[a-]` is the unclosed range
 *   from `a` to `]`), and a range compares bytes as C's signed `char` (bytes ≥ 0x80 sort below 0);
 * - `\` as the pattern's last byte is a literal backslash.
 * (Redis' nocase variant is not needed: KEYS and the SCANs match case-sensitively.)
 */

const STAR = 0;
const ANY = 1;
const BYTE = 2;
const CLASS = 3;

type Token =
  | { readonly kind: typeof STAR }
  | { readonly kind: typeof ANY }
  | { readonly kind: typeof BYTE; readonly code: number }
  | { readonly kind: typeof CLASS; readonly negate: boolean; readonly codes: readonly number[]; readonly ranges: readonly (readonly [number, number])[] };

/** A byte as C's (signed) `char` compares it. */
const signed = (code: number): number => (code >= 128 ? code - 256 : code);

/** Reads a pattern as stringmatchlen does, into tokens (consecutive stars as one). */
export function parseGlob(pattern: string): Token[] {
  const tokens: Token[] = [];
  const length = pattern.length;
  let p = 0;
  while (p < length) {
    const char = pattern[p]!;
    if (char === '*') {
      if (tokens.at(-1)?.kind !== STAR) tokens.push({ kind: STAR });
    } else if (char === '?') {
      tokens.push({ kind: ANY });
    } else if (char === '[') {
      p += 1;
      const negate = pattern[p] === '^';
      if (negate) p += 1;
      const codes: number[] = [];
      const ranges: Array<[number, number]> = [];
      for (;;) {
        if (pattern[p] === '\\' && length - p >= 2) {
          p += 1;
          codes.push(pattern.charCodeAt(p));
        } else if (pattern[p] === ']') {
          break;
        } else if (p >= length) {
          // Unclosed: the class ends with the pattern.
          p = length - 1;
          break;
        } else if (length - p >= 3 && pattern[p + 1] === '-') {
          const start = signed(pattern.charCodeAt(p));
          const end = signed(pattern.charCodeAt(p + 2));
          ranges.push(start <= end ? [start, end] : [end, start]);
          p += 2;
        } else {
          codes.push(pattern.charCodeAt(p));
        }
        p += 1;
      }
      tokens.push({ kind: CLASS, negate, codes, ranges });
    } else if (char === '\\' && length - p >= 2) {
      p += 1;
      tokens.push({ kind: BYTE, code: pattern.charCodeAt(p) });
    } else {
      tokens.push({ kind: BYTE, code: pattern.charCodeAt(p) });
    }
    p += 1;
  }
  return tokens;
}

function matchesOne(token: Token, code: number): boolean {
  switch (token.kind) {
    case ANY:
      return true;
    case BYTE:
      return token.code === code;
    case CLASS: {
      const c = signed(code);
      const matched = token.codes.includes(code) || token.ranges.some(([start, end]) => c >= start && c <= end);
      return token.negate ? !matched : matched;
    }
    default:
      return false;
  }
}

/** KEYS and the scans match one pattern against many subjects: it is read once. */
let last: { readonly pattern: string; readonly tokens: Token[] } | undefined;
function tokensOf(pattern: string): Token[] {
  if (last?.pattern !== pattern) last = { pattern, tokens: parseGlob(pattern) };
  return last.tokens;
}

/** How much work a match took: each step looks at one token and one byte of the subject at most. */
export interface GlobStats {
  steps: number;
}

/** Whether `subject` matches `pattern` as Redis' stringmatchlen answers; `stats` counts the steps taken. */
export function globMatch(pattern: string, subject: string, stats?: GlobStats): boolean {
  if (subject.length === 0) return pattern.length === 0;
  const tokens = tokensOf(pattern);
  let t = 0;
  let s = 0;
  // The last star met, and where in the subject what follows it is being tried.
  let star = -1;
  let resume = 0;
  let steps = 0;
  while (s < subject.length) {
    steps += 1;
    const token = tokens[t];
    if (token?.kind === STAR) {
      if (t === tokens.length - 1) break; // a trailing star takes the rest
      star = t;
      resume = s;
      t += 1;
    } else if (token !== undefined && matchesOne(token, subject.charCodeAt(s))) {
      t += 1;
      s += 1;
    } else if (star >= 0) {
      // The last star takes one byte more; what follows it starts again there.
      resume += 1;
      s = resume;
      t = star + 1;
    } else {
      if (stats) stats.steps += steps;
      return false;
    }
  }
  if (stats) stats.steps += steps;
  while (tokens[t]?.kind === STAR) t += 1;
  return t === tokens.length;
}

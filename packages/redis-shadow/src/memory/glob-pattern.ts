/**
 * Redis' glob matching (KEYS, SCAN MATCH, …), as its stringmatchlen does it, over latin1 strings
 * of raw bytes: `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, and `\` to escape.
 */
export function globMatch(pattern: string, subject: string): boolean {
  return matchFrom(pattern, 0, subject, 0);
}

function matchFrom(pattern: string, p: number, subject: string, s: number): boolean {
  while (p < pattern.length && s <= subject.length) {
    const token = pattern[p]!;
    if (token === '*') {
      while (pattern[p + 1] === '*') p += 1;
      if (p + 1 === pattern.length) return true;
      for (let from = s; from <= subject.length; from += 1) if (matchFrom(pattern, p + 1, subject, from)) return true;
      return false;
    }
    if (s === subject.length) return false;
    if (token === '?') {
      s += 1;
    } else if (token === '[') {
      p += 1;
      const negate = pattern[p] === '^';
      if (negate) p += 1;
      let matched = false;
      for (;;) {
        if (pattern[p] === '\\' && p + 2 <= pattern.length) {
          p += 1;
          if (pattern[p] === subject[s]) matched = true;
        } else if (pattern[p] === ']') {
          break;
        } else if (p >= pattern.length) {
          p -= 1;
          break;
        } else if (pattern[p + 1] === '-' && p + 3 <= pattern.length) {
          let start = pattern.charCodeAt(p);
          let end = pattern.charCodeAt(p + 2);
          const code = subject.charCodeAt(s);
          if (start > end) [start, end] = [end, start];
          p += 2;
          if (code >= start && code <= end) matched = true;
        } else if (pattern[p] === subject[s]) {
          matched = true;
        }
        p += 1;
      }
      if (negate) matched = !matched;
      if (!matched) return false;
      s += 1;
    } else {
      if (token === '\\' && p + 2 <= pattern.length) p += 1;
      if (pattern[p] !== subject[s]) return false;
      s += 1;
    }
    p += 1;
  }
  while (pattern[p] === '*') p += 1;
  return p === pattern.length && s === subject.length;
}
